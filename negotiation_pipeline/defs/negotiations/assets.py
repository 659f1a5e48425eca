"""Negotiation assets, one partition per campaign.

cpm_flexibility → negotiations (opening offers queued and sent) → negotiation_snapshots (every
negotiation's state) → campaign_report (agreed count, close rate, CPM and budget).

`advance_negotiations_job` and `followup_job` rewrite the `negotiation_snapshots` and
`campaign_report` tables of every campaign they touched and report their new materializations
(the same functions as here), so the UI and the tables show the current state without an extra
run.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dagster as dg
import pandas as pd

from negotiation_pipeline.defs.campaigns.assets import OWNERS, STORE_WRITER_POOL
from negotiation_pipeline.defs.campaigns.partitions import campaign_partitions
from negotiation_pipeline.defs.negotiations.agreements import campaign_agreements
from negotiation_pipeline.defs.negotiations.conversations import conversations_materialization
from negotiation_pipeline.defs.negotiations.notifications import notify_events, notify_metadata
from negotiation_pipeline.defs.shared.asset_store import store_value
from negotiation_pipeline.defs.shared.resources import (
    BusinessRulesResource,
    CampaignTaskSourceResource,
    MailboxResource,
    NegotiationStoreResource,
    SlackResource,
)
from negotiation_pipeline.domain.campaigns.report import (
    SNAPSHOT_COLUMNS,
    CampaignReport,
    Deal,
    SnapshotRow,
    build_campaign_report,
)
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.negotiation.engine import AgreedPackage
from negotiation_pipeline.domain.previews import cell, preview
from negotiation_pipeline.settings.engine import load_engine_config
from negotiation_pipeline.store.asset_rows import REPORT_CODEC, SNAPSHOTS_CODEC
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.opening import (
    CampaignNotReadyError,
    flexibility_rows_from_records,
    open_campaign_negotiations,
)
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from negotiation_pipeline.workflow.snapshots import campaign_snapshot

NEGOTIATION_GROUP = "negotiation"
PREVIEW_ROWS = 50


@dg.asset(
    partitions_def=campaign_partitions,
    group_name=NEGOTIATION_GROUP,
    kinds={"python", "sqlite", "email"},
    owners=OWNERS,
    pool=STORE_WRITER_POOL,
    description=(
        "Opens one negotiation per influencer of the campaign's CPM table and emails each the "
        "opening offer. Influencers who already have a negotiation are left alone, so "
        "materializing again never emails anyone twice."
    ),
)
def negotiations(
    context: dg.AssetExecutionContext,
    cpm_flexibility: pd.DataFrame,
    store: NegotiationStoreResource,
    mailbox: MailboxResource,
    slack: SlackResource,
    clickup: CampaignTaskSourceResource,
    rules: BusinessRulesResource,
) -> dg.MaterializeResult:
    campaign_id = context.partition_key
    rows = flexibility_rows_from_records(cpm_flexibility.to_dict("records"))
    with store.open() as db:
        try:
            opening = open_campaign_negotiations(
                db,
                campaign_id,
                rules.engine_config(),
                rows=rows,
                sender=mailbox.sender,
                now=datetime.now(UTC),
            )
        except CampaignNotReadyError as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
        with mailbox.open() as box:
            delivery = deliver_pending(db, box, retry=rules.policy().delivery)
        events = [*opening.events, *delivery.events]
        notified = notify_events(context.log, events, db, slack, clickup)
        snapshot = snapshot_rows(db, campaign_id)
    raise_on_delivery_failures(delivery)
    for email, why in opening.skipped:
        context.log.warning(
            f"campaign {campaign_id}: influencer {preview(email)} skipped: {preview(why)}"
        )
    return dg.MaterializeResult(
        metadata={
            "opened": len(opening.opened),
            "already_open": opening.already_open,
            "awaiting_approval": opening.awaiting_approval,
            "escalated_at_opening": opening.escalated,
            "skipped_influencers": len(opening.skipped),
            **delivery_metadata(delivery),
            "emails_found_already_sent": delivery.already_sent,
            **notify_metadata(notified),
            "dagster/row_count": len(snapshot),
            "negotiations": dg.MetadataValue.md(snapshot_markdown(snapshot)),
        }
    )


def raise_on_delivery_failures(delivery: DeliveryResult) -> None:
    """A mail server that could not be used fails the step, so the run-failure alert tells
    someone mail is not going out; its emails stay queued and later runs retry them. Emails
    refused one by one never fail the step: each is retried with backoff or given up with an
    escalation of its own, and the others go out."""
    if delivery.transport_error is None:
        return
    waiting = len(delivery.retrying) + delivery.deferred
    queued = (
        "1 email stays queued and is" if waiting == 1 else f"{waiting} emails stay queued and are"
    )
    raise dg.Failure(
        description=f"the mail server could not be used: {delivery.transport_error}; "
        f"{queued} retried by the next run",
        metadata=delivery_metadata(delivery),
    )


def delivery_metadata(delivery: DeliveryResult) -> dict[str, int]:
    return {
        "emails_sent": delivery.sent,
        "emails_failed": len(delivery.failed),
        "emails_retrying": len(delivery.retrying),
        "emails_deferred": delivery.deferred,
        "emails_held": len(delivery.held),
        "sent_copies_unfiled": delivery.copies_unfiled,
        "emails_claimed_elsewhere": delivery.claimed_elsewhere,
    }


@dg.asset(
    partitions_def=campaign_partitions,
    group_name=NEGOTIATION_GROUP,
    kinds={"sqlite"},
    owners=OWNERS,
    pool=STORE_WRITER_POOL,
    deps=[negotiations],
    description=(
        "Where every negotiation of the campaign stands: state and round, our last offer and "
        "their ask, the next step and when it is due, why it waits for a person, deliverables "
        "and usage rights, the last email in and out, who we talk to and who is in control. "
        "Refreshed by every job and command that changes the campaign."
    ),
)
def negotiation_snapshots(
    context: dg.AssetExecutionContext, store: NegotiationStoreResource
) -> dg.Output[list[SnapshotRow]]:
    with store.open() as db:
        rows = snapshot_rows(db, context.partition_key)
        label = campaign_label(db, context.partition_key)
    return dg.Output(rows, metadata=snapshot_metadata(rows, label))


@dg.asset(
    partitions_def=campaign_partitions,
    group_name=NEGOTIATION_GROUP,
    kinds={"sqlite"},
    owners=OWNERS,
    pool=STORE_WRITER_POOL,
    deps=[campaign_agreements],
    description=(
        "The campaign's numbers: negotiations by state, agreements, close rate, average CPM "
        "achieved against the target range, and budget committed against the budget (to the "
        "cent). Refreshed with negotiation_snapshots."
    ),
)
def campaign_report(
    context: dg.AssetExecutionContext,
    negotiation_snapshots: list[SnapshotRow],
    store: NegotiationStoreResource,
) -> dg.Output[CampaignReport]:
    with store.open() as db:
        report = report_for(db, context.partition_key, negotiation_snapshots)
    if report is None:
        raise dg.Failure(
            f"campaign {context.partition_key} is not in the store or did not validate",
            allow_retries=False,
        )
    return dg.Output(report, metadata=report_metadata(report))


# --- shared with advance_negotiations_job -------------------------------------------------------
def snapshot_rows(
    db: NegotiationStore, campaign_id: str, now: datetime | None = None
) -> list[SnapshotRow]:
    """The campaign's snapshot as of `now` (default: this instant), with the follow-up timing
    of the current policy."""
    return campaign_snapshot(
        db,
        campaign_id,
        follow_up=load_engine_config().policy.follow_up,
        now=now or datetime.now(UTC),
    )


def snapshot_markdown(rows: Sequence[SnapshotRow]) -> str:
    if not rows:
        return "no negotiations"
    header = "| " + " | ".join(SNAPSHOT_COLUMNS) + " |\n|" + "---|" * len(SNAPSHOT_COLUMNS)
    lines = [
        "| " + " | ".join(_md_cell(cell) for cell in row.as_text().values()) + " |"
        for row in rows[:PREVIEW_ROWS]
    ]
    more = len(rows) - PREVIEW_ROWS
    return "\n".join([header, *lines]) + (f"\n\n… and {more} more" if more > 0 else "")


def campaign_label(db: NegotiationStore, campaign_id: str) -> str:
    """ "Lumen Skincare (task 86b1aa001)": the client people know beside the ClickUp task id
    (the id alone for a campaign the store does not know)."""
    record = db.campaigns.get(campaign_id)
    client = record.client_name if record is not None else ""
    return f"{preview(client)} (task {preview(campaign_id)})" if client else preview(campaign_id)


def snapshot_metadata(rows: Sequence[SnapshotRow], campaign: str = "") -> dict[str, Any]:
    """`campaign` is the campaign's label (campaign_label)."""
    states: dict[str, int] = {}
    for row in rows:
        states[row.state.value] = states.get(row.state.value, 0) + 1
    return {
        "dagster/row_count": len(rows),
        "by_state": ", ".join(f"{state}: {count}" for state, count in sorted(states.items()))
        or "none",
        "client": preview(rows[0].client_name) if rows else "",
        "campaign": campaign,
        "snapshot": dg.MetadataValue.md(
            (f"**{_md_cell(campaign)}**\n\n" if campaign else "") + snapshot_markdown(rows)
        ),
        "snapshot_table": snapshot_table(rows),
    }


SNAPSHOT_SCHEMA = dg.TableSchema(
    columns=[dg.TableColumn(name, "string") for name in SNAPSHOT_COLUMNS]
)


def snapshot_table(rows: Sequence[SnapshotRow]) -> dg.TableMetadataValue:
    """The first PREVIEW_ROWS rows as a typed table (the UI sorts and filters it); every cell
    is text, bounded like the markdown table."""
    records = [
        dg.TableRecord({name: preview(value) for name, value in row.as_text().items()})
        for row in rows[:PREVIEW_ROWS]
    ]
    return dg.MetadataValue.table(records=records, schema=SNAPSHOT_SCHEMA)


def report_for(
    db: NegotiationStore, campaign_id: str, snapshots: Sequence[SnapshotRow] | None = None
) -> CampaignReport | None:
    """The campaign's report; counts the states of `snapshots` when given, else the store's."""
    record = db.campaigns.get(campaign_id)
    if record is None or record.campaign is None:
        return None
    if snapshots is None:
        states = [stored.state for stored in db.states.summaries_for_campaign(campaign_id)]
    else:
        states = [row.state for row in snapshots]
    deals = [
        Deal(a.rate, a.cpm, _package(a.package), a.influencer_name)
        for a in db.agreements.for_campaign(campaign_id)
    ]
    return build_campaign_report(record.campaign, states, deals)


def _package(data: Mapping[str, Any] | None) -> AgreedPackage | None:
    if data is None:
        return None
    try:
        return AgreedPackage.from_dict(dict(data))
    except ValueError:  # a malformed stored package must not break the report
        return None


def _deals_markdown(report: CampaignReport) -> str:
    if not report.deals:
        return "no agreements"
    rows = [
        f"| {_md_cell(d.influencer)} | {_usd_cell(d.rate)} | {_usd_cell(d.cpm)} | "
        f"{_md_cell(d.package_text()) or 'n/a'} |"
        for d in report.deals[:PREVIEW_ROWS]
    ]
    more = len(report.deals) - PREVIEW_ROWS
    table = "| influencer | rate | CPM achieved | package |\n|---|---|---|---|\n" + "\n".join(rows)
    return table + (f"\n\n… and {more} more" if more > 0 else "")


def _usd_cell(amount: Decimal) -> str:
    return format_usd(amount)


def report_metadata(report: CampaignReport) -> dict[str, Any]:
    text = report.as_text()
    table = "| metric | value |\n|---|---|\n" + "\n".join(
        f"| {name} | {_md_cell(value) or 'n/a'} |" for name, value in text.items()
    )
    return {
        **{name: preview(value) for name, value in text.items()},
        "agreed_count": report.agreed,  # numeric, so the UI can plot it over time
        "negotiation_count": report.negotiations,
        "by_state": ", ".join(f"{s}: {n}" for s, n in report.by_state.items()) or "none",
        "campaign": f"{preview(report.client_name)} (task {preview(report.campaign_id)})",
        "report": dg.MetadataValue.md(
            f"**{_md_cell(report.client_name)}** (task {_md_cell(report.campaign_id)})\n\n{table}"
        ),
        "agreements": dg.MetadataValue.md(_deals_markdown(report)),
    }


def touched_campaign_materializations(
    db: NegotiationStore, campaign_ids: Sequence[str], *, run_id: str, location: str
) -> list[dg.AssetMaterialization]:
    """Snapshot, conversations and report materializations for campaigns a job changed (in
    that order). Their tables are rewritten first, so the UI reports what the tables hold."""

    events: list[dg.AssetMaterialization] = []
    for campaign_id in campaign_ids:
        rows = snapshot_rows(db, campaign_id)
        table = store_value(
            db, SNAPSHOTS_CODEC, campaign_id, rows, run_id=run_id, location=location
        )
        events.append(
            dg.AssetMaterialization(
                asset_key=negotiation_snapshots.key,
                partition=campaign_id,
                metadata={**snapshot_metadata(rows, campaign_label(db, campaign_id)), **table},
            )
        )
        events.append(conversations_materialization(db, campaign_id))
        report = report_for(db, campaign_id, rows)
        if report is not None:
            table = store_value(
                db, REPORT_CODEC, campaign_id, report, run_id=run_id, location=location
            )
            events.append(
                dg.AssetMaterialization(
                    asset_key=campaign_report.key,
                    partition=campaign_id,
                    metadata={**report_metadata(report), **table},
                )
            )
    return events


def _md_cell(text: str) -> str:
    return cell(text)  # outside text (names, clients): one line, bounded


__all__ = [
    "campaign_report",
    "negotiation_snapshots",
    "negotiations",
    "touched_campaign_materializations",
]
