"""Negotiations opened for real (opening offers through the workflow, stored in SQLite) for the
control, follow-up and notification tests, plus small helpers to move one into a given state."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import FlexibilityRow
from negotiation_pipeline.domain.enums import NegotiationEvent
from negotiation_pipeline.domain.negotiation.engine import Negotiation, apply_event
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import Controller, NegotiationStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import load_negotiation, save_negotiation
from tests.domain.negotiation.engine_support import make_campaign
from tests.workflow.support import AGENT, NOW, engine_config, flex_row, stored_campaign


def open_threads(
    store: NegotiationStore,
    rows: list[FlexibilityRow] | None = None,
    *,
    campaign: Campaign | None = None,
    now: datetime = NOW,
    mailbox: MaildirMailbox | None = None,
) -> list[str]:
    """Open one negotiation per row (default: Jane) and, with a mailbox, send the offers."""
    campaign = stored_campaign(store, campaign or make_campaign())
    result = open_campaign_negotiations(
        store,
        campaign.campaign_id,
        engine_config(),
        rows=rows or [flex_row()],
        sender=AGENT,
        now=now,
    )
    if mailbox is not None:
        deliver_pending(store, mailbox)
    return list(result.opened)


def second_campaign(**overrides: Any) -> Campaign:
    fields: dict[str, Any] = {"campaign_id": "cmp-2", "client_name": "Peak Outdoor"}
    return make_campaign(**(fields | overrides))


def negotiation(store: NegotiationStore, thread_id: str) -> Negotiation:
    stored = store.states.load(thread_id)
    assert stored is not None, thread_id
    return load_negotiation(stored)


def rewrite(
    store: NegotiationStore,
    thread_id: str,
    *events: NegotiationEvent,
    now: datetime = NOW,
    controlled_by: Controller | None = None,
    **changes: Any,
) -> Negotiation:
    """Apply state machine events and field changes to a stored negotiation and save it."""
    stored = store.states.load(thread_id)
    assert stored is not None, thread_id
    current = load_negotiation(stored)
    for event in events:
        current = apply_event(current, event, now)
    current = replace(current, **changes)
    with store.transaction() as uow:
        save_negotiation(
            uow,
            current,
            stored.campaign,
            dict(stored.cpm_tracker_data),
            controlled_by=controlled_by,
        )
    return current
