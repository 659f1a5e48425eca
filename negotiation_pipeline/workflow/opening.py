"""Open the negotiations of one campaign: one opening offer per influencer of its CPM table.

Each influencer is opened in its own transaction (state row + outbox email + audit), and an
influencer whose thread already exists is skipped, so re-running never emails anyone twice. The
emails are only queued here; `outbox.deliver_pending` sends them after the commit.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from negotiation_pipeline.domain.addresses import split_address_list
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import SCENARIO_COLUMNS, FlexibilityRow
from negotiation_pipeline.domain.enums import EventType, Platform
from negotiation_pipeline.domain.money import parse_decimal
from negotiation_pipeline.domain.negotiation.engine import (
    EngineConfig,
    InfluencerTerms,
    Outcome,
    open_negotiation,
)
from negotiation_pipeline.integrations.mail.base import SenderIdentity
from negotiation_pipeline.store.audit_filters import AuditQuery
from negotiation_pipeline.store.base import NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import OutboxEmail
from negotiation_pipeline.workflow.approval import hold_if_required
from negotiation_pipeline.workflow.audit_entries import (
    escalated_event,
    escalation_audit,
    transition_audit,
)
from negotiation_pipeline.workflow.events import (
    FinalState,
    NegotiationsStarted,
    PipelineEvent,
)
from negotiation_pipeline.workflow.notify import queue_alerts
from negotiation_pipeline.workflow.persistence import (
    campaign_tracker,
    next_message_id,
    save_negotiation,
    thread_id_for,
)


class CampaignNotReadyError(ValueError):
    """The campaign is unknown to the store or did not validate: nothing can be opened."""


@dataclass(frozen=True)
class OpeningResult:
    opened: tuple[str, ...]  # thread ids opened by this call (offer queued or escalated)
    already_open: int  # influencers that already had a negotiation (skipped, no email)
    escalated: int  # opened straight into `escalated` (no feasible price, gate failure)
    events: tuple[PipelineEvent, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (influencer email, why) rows that were unusable
    awaiting_approval: int = 0  # opening offers held as drafts by the campaign's approval mode


def flexibility_rows_from_records(
    records: Iterable[Mapping[Hashable, Any]],
) -> list[FlexibilityRow]:
    """`cpm_flexibility` DataFrame records (`table.to_dict("records")`) → FlexibilityRow.

    Money cells must be Decimal or text (a float is refused by parse_decimal); numpy integers
    and pandas' missing values are normalised.
    """
    rows: list[FlexibilityRow] = []
    for record in records:
        engagement = record.get("engagement_rate")
        rows.append(
            FlexibilityRow(
                name=str(record["name"]),
                email=str(record["email"]),
                platform=Platform(str(record["platform"])),
                average_views=int(record["average_views"]),
                engagement_rate=None if _missing(engagement) else parse_decimal(engagement),
                floor_cpm=parse_decimal(record["floor_cpm"]),
                max_allowed_cpm=parse_decimal(record["max_allowed_cpm"]),
                opening_rate=parse_decimal(record["opening_rate"]),
                ceiling_rate=parse_decimal(record["ceiling_rate"]),
                reason=str(record.get("reason") or ""),
                manager_emails=_address_list(record.get("manager_emails")),
                **_scenario_cells(record),
            )
        )
    return rows


def _address_list(value: object) -> tuple[str, ...]:
    if _missing(value) or not str(value).strip():
        return ()
    return tuple(split_address_list(str(value)))


def _scenario_cells(record: Mapping[Hashable, Any]) -> dict[str, Any]:
    """The per-scenario columns that are filled (a table from before they existed has none)."""
    cells: dict[str, Any] = {}
    for column in SCENARIO_COLUMNS:
        value = record.get(column)
        if value is None or _missing(value):
            continue
        cells[column] = int(value) if column.endswith("_views") else parse_decimal(value)
    return cells


def _missing(value: object) -> bool:
    # pandas writes NaN (a float) or None for an empty object cell; NaN is not equal to itself.
    return value is None or (isinstance(value, float) and value != value)


def open_campaign_negotiations(
    store: NegotiationStore,
    campaign_id: str,
    config: EngineConfig,
    *,
    rows: Sequence[FlexibilityRow],
    sender: SenderIdentity,
    now: datetime,
) -> OpeningResult:
    """Open one negotiation per row that has none yet (see module docstring)."""
    record = store.campaigns.get(campaign_id)
    if record is None:
        raise CampaignNotReadyError(f"campaign {campaign_id!r} is not in the store")
    campaign = record.campaign
    if campaign is None:
        raise CampaignNotReadyError(f"campaign {campaign_id!r} has not validated yet")
    opened: list[str] = []
    events: list[PipelineEvent] = []
    skipped: list[tuple[str, str]] = []
    already_open = escalated = awaiting = 0
    # One read up front (not one per influencer): which threads exist, and the tracker snapshot
    # each new negotiation row keeps. The transaction below re-checks its own thread.
    existing = {s.thread_id for s in store.states.summaries_for_campaign(campaign_id)}
    started = bool(existing)
    with store.transaction() as uow:
        tracker_data = campaign_tracker(uow, campaign, len(rows)).to_dict()
    for row in rows:
        thread_id = thread_id_for(campaign_id, row.email)
        if thread_id in existing:
            already_open += 1
            continue
        try:
            terms = InfluencerTerms.from_flexibility_row(row)
        except ValueError as exc:
            skipped.append((row.email, str(exc)))
            _audit_skip(store, campaign, row, thread_id, str(exc))
            continue
        gated = hold_if_required(
            None, open_negotiation(thread_id, campaign, terms, config, now), campaign,
            config.policy, now,
        )  # fmt: skip
        outcome = gated.outcome
        opening_events = (
            _escalation_events(outcome, campaign) if outcome.escalation is not None else []
        )
        if gated.event is not None:
            opening_events.append(gated.event)
        with store.transaction() as uow:
            if uow.states.load(thread_id) is not None:
                already_open += 1
                existing.add(thread_id)
                continue
            if not started:
                uow.audit.insert(_campaign_start(campaign, len(rows)))
            _store_opening(uow, campaign, outcome, sender, tracker_data, row, gated.extra_audit)
            queue_alerts(uow, opening_events)  # commits with the negotiation it reports
        started = True
        existing.add(thread_id)
        opened.append(thread_id)
        if outcome.escalation is not None:
            escalated += 1
        awaiting += gated.event is not None
        events.extend(opening_events)
    if opened:
        started_event = NegotiationsStarted(
            campaign_id,
            record.client_name,
            len(opened),
            tuple(opened),
            listed=len(campaign.influencers) or len(rows),
            found=len(rows) - len(skipped),
            skipped=(
                *_roster_skips(store, campaign, rows),
                *(f"{email}: {why}" for email, why in skipped),
            ),
        )
        events.insert(0, started_event)
        with store.transaction() as uow:  # the count is known only now, after every opening
            queue_alerts(uow, [started_event])
    return OpeningResult(
        tuple(opened), already_open, escalated, tuple(events), tuple(skipped), awaiting
    )


def _roster_skips(
    store: NegotiationStore, campaign: Campaign, rows: Sequence[FlexibilityRow]
) -> list[str]:
    """ "identifier: reason" for each influencer listed on the task that the roster join left
    out, from the skip entries `campaign_influencers` audits. Only identifiers still listed and
    not now among the found rows count (the join may have run before the roster was fixed),
    each once, with its latest reason."""
    listed = {identifier.strip().casefold() for identifier in campaign.influencers}
    found = {key.casefold() for row in rows for key in (row.name, row.email)}
    entries = store.audit.query(
        AuditQuery(
            campaign=campaign.campaign_id,
            event_type=EventType.CAMPAIGN_INFLUENCER_SKIP,
            limit=_SKIP_ENTRIES_READ,
        )
    )
    latest: dict[str, str] = {}
    for entry in entries:  # newest first
        identifier = (entry.influencer_name or "").strip()
        key = identifier.casefold()
        if entry.thread_id or key not in listed or key in found or key in latest:
            continue
        latest[key] = f"{identifier}: {(entry.metadata or {}).get('reason', 'skipped')}"
    return list(latest.values())


# Enough for every listed influencer of any real campaign several times over.
_SKIP_ENTRIES_READ = 1000


def _campaign_start(campaign: Campaign, influencer_count: int) -> AuditEntry:
    return AuditEntry(
        event_type=EventType.CAMPAIGN_START,
        campaign_id=campaign.campaign_id,
        metadata={"client": campaign.client_name, "influencers": influencer_count},
    )


def _store_opening(
    uow: UnitOfWork,
    campaign: Campaign,
    outcome: Outcome,
    sender: SenderIdentity,
    tracker_data: dict[str, Any],
    row: FlexibilityRow,
    approval_audit: dict[str, str],
) -> None:
    negotiation = outcome.negotiation
    thread_id = negotiation.thread_id
    save_negotiation(uow, negotiation, campaign, tracker_data)
    queued = None
    if outcome.email is not None and outcome.escalation is None:
        queued = next_message_id(uow, thread_id, sender.domain)
        uow.outbox.add(
            OutboxEmail(
                message_id=queued,
                to_addr=outcome.email.to,
                to_name=outcome.email.to_name,
                subject=outcome.email.subject,
                body=outcome.email.body,
                thread_id=thread_id,
                campaign_id=campaign.campaign_id,
            )
        )
    extra = {
        "flexibility_reason": row.reason,
        "ceiling_rate": str(row.ceiling_rate),
        **approval_audit,
    }
    uow.audit.insert(transition_audit(outcome, queued, extra))
    if outcome.escalation is not None:
        uow.audit.insert(escalation_audit(outcome))


def _escalation_events(outcome: Outcome, campaign: Campaign) -> list[PipelineEvent]:
    negotiation = outcome.negotiation
    return [
        escalated_event(outcome),
        FinalState(
            negotiation.thread_id,
            campaign.campaign_id,
            negotiation.terms.name,
            negotiation.state,
        ),
    ]


def _audit_skip(
    store: NegotiationStore, campaign: Campaign, row: FlexibilityRow, thread_id: str, why: str
) -> None:
    store.audit.insert(
        AuditEntry(
            event_type=EventType.CAMPAIGN_INFLUENCER_SKIP,
            campaign_id=campaign.campaign_id,
            influencer_name=row.name or None,
            thread_id=thread_id,
            metadata={"email": row.email, "reason": why},
        )
    )
