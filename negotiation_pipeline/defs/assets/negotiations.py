"""Negotiation assets, one partition per campaign.

cpm_flexibility → negotiations (opening offers queued and sent) → negotiation_snapshots (every
negotiation's state) → campaign_report (agreed count, close rate, CPM and budget).

`advance_negotiations_job` reports new materializations of `negotiation_snapshots` and
`campaign_report` for every campaign a batch of replies touched (the same metadata functions as
here), so the UI always shows the current state without an extra run.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dagster as dg
import pandas as pd

from negotiation_pipeline.defs.assets.agreements import campaign_agreements
from negotiation_pipeline.defs.assets.campaigns import OWNERS, SQLITE_WRITER_POOL
from negotiation_pipeline.defs.notifications import notify_events, notify_metadata
from negotiation_pipeline.defs.partitions import campaign_partitions
from negotiation_pipeline.defs.resources import (
    CampaignTaskSourceResource,
    MailboxResource,
    NegotiationStoreResource,
    SlackResource,
)
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.negotiation import AgreedPackage
from negotiation_pipeline.domain.previews import cell, preview
from negotiation_pipeline.domain.report import (
    SNAPSHOT_COLUMNS,
    CampaignReport,
    Deal,
    SnapshotRow,
    build_campaign_report,
)
from negotiation_pipeline.engine_config import load_engine_config
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.opening import (
    CampaignNotReadyError,
    flexibility_rows_from_records,
    open_campaign_negotiations,
)
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from negotiation_pipeline.workflow.persistence import load_negotiation

NEGOTIATION_GROUP = "negotiation"
PREVIEW_ROWS = 50


@dg.asset(
    partitions_def=campaign_partitions,
    group_name=NEGOTIATION_GROUP,
    kinds={"python", "sqlite", "email"},
    owners=OWNERS,
    pool=SQLITE_WRITER_POOL,
    description=(
        "One negotiation per influencer of the campaign's CPM table: the opening offer is queued "
        "with the state change and audit entry, then sent. Influencers that already have a "
        "negotiation are skipped, so re-materializing never emails anyone twice."
    ),
)
def negotiations(
    context: dg.AssetExecutionContext,
    cpm_flexibility: pd.DataFrame,
    store: NegotiationStoreResource,
    mailbox: MailboxResource,
    slack: SlackResource,
    clickup: CampaignTaskSourceResource,
) -> dg.MaterializeResult:
    campaign_id = context.partition_key
    records = [{str(k): v for k, v in r.items()} for r in cpm_flexibility.to_dict("records")]
    rows = flexibility_rows_from_records(records)
    with store.open() as db:
        try:
            opening = open_campaign_negotiations(
                db,
                campaign_id,
                load_engine_config(),
                rows=rows,
                sender=mailbox.sender,
                now=datetime.now(UTC),
            )
        except CampaignNotReadyError as exc:
            raise dg.Failure(str(exc), allow_retries=False) from exc
        with mailbox.open() as box:
            delivery = deliver_pending(db, box, retry=load_engine_config().policy.delivery)
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
    deps=[negotiations],
    description=(
        "Every negotiation of the campaign: state, round, our last offer, their ask, who we "
        "talk to and who is in control. Also reported by advance_negotiations_job after each "
        "batch of replies."
    ),
)
def negotiation_snapshots(
    context: dg.AssetExecutionContext, store: NegotiationStoreResource
) -> dg.MaterializeResult:
    with store.open() as db:
        rows = snapshot_rows(db, context.partition_key)
    return dg.MaterializeResult(metadata=snapshot_metadata(rows))


@dg.asset(
    partitions_def=campaign_partitions,
    group_name=NEGOTIATION_GROUP,
    kinds={"sqlite"},
    owners=OWNERS,
    deps=[negotiation_snapshots, campaign_agreements],
    description=(
        "The campaign's numbers: negotiations, agreements, close rate, average CPM achieved vs "
        "the target range, budget committed vs budget (money as text, never float)."
    ),
)
def campaign_report(
    context: dg.AssetExecutionContext, store: NegotiationStoreResource
) -> dg.MaterializeResult:
    with store.open() as db:
        report = report_for(db, context.partition_key)
    if report is None:
        raise dg.Failure(
            f"campaign {context.partition_key} is not in the store or did not validate",
            allow_retries=False,
        )
    return dg.MaterializeResult(metadata=report_metadata(report))


# --- shared with advance_negotiations_job -------------------------------------------------------
def snapshot_rows(db: NegotiationStore, campaign_id: str) -> list[SnapshotRow]:
    return [
        SnapshotRow.from_negotiation(
            load_negotiation(stored), controlled_by=stored.controlled_by.value
        )
        for stored in db.states.list_for_campaign(campaign_id)
    ]


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


def snapshot_metadata(rows: Sequence[SnapshotRow]) -> dict[str, Any]:
    states: dict[str, int] = {}
    for row in rows:
        states[row.state.value] = states.get(row.state.value, 0) + 1
    return {
        "dagster/row_count": len(rows),
        "by_state": ", ".join(f"{state}: {count}" for state, count in sorted(states.items()))
        or "none",
        "snapshot": dg.MetadataValue.md(snapshot_markdown(rows)),
    }


def report_for(db: NegotiationStore, campaign_id: str) -> CampaignReport | None:
    record = db.campaigns.get(campaign_id)
    if record is None or record.campaign is None:
        return None
    states = [stored.state for stored in db.states.summaries_for_campaign(campaign_id)]
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
        "report": dg.MetadataValue.md(f"**{_md_cell(report.client_name)}**\n\n{table}"),
        "agreements": dg.MetadataValue.md(_deals_markdown(report)),
    }


def touched_campaign_materializations(
    db: NegotiationStore, campaign_ids: Sequence[str]
) -> list[dg.AssetMaterialization]:
    """Snapshot and report materializations for campaigns a job changed (in that order)."""
    events: list[dg.AssetMaterialization] = []
    for campaign_id in campaign_ids:
        events.append(
            dg.AssetMaterialization(
                asset_key=negotiation_snapshots.key,
                partition=campaign_id,
                metadata=snapshot_metadata(snapshot_rows(db, campaign_id)),
            )
        )
        report = report_for(db, campaign_id)
        if report is not None:
            events.append(
                dg.AssetMaterialization(
                    asset_key=campaign_report.key,
                    partition=campaign_id,
                    metadata=report_metadata(report),
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
