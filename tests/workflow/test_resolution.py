"""Resolving escalations over a real SQLite store and Maildir: each action sends its email
once, moves the state, records the agreement, audits who decided, and queues Slack."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.domain.negotiation.engine import Negotiation
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.store.audit_filters import AuditQuery
from negotiation_pipeline.workflow.escalations import (
    TargetError,
    find_waiting_thread,
    list_escalations,
)
from negotiation_pipeline.workflow.persistence import load_negotiation
from negotiation_pipeline.workflow.resolution import (
    ResolutionError,
    ResolutionRequest,
    ResolutionResult,
    ResolveAction,
    deliver_resolution,
    resolve,
)
from tests.workflow.escalated import (
    AGENT_ADDRESSES,
    JANE,
    JANE_THREAD,
    escalate_jane,
    last_sent,
)
from tests.workflow.support import NOW, engine_config, sent_by_recipient, sent_message_ids


def _resolve(store: SQLiteStore, action: ResolveAction, **kwargs: Any) -> ResolutionResult:
    target = str(kwargs.pop("target", JANE_THREAD))
    request = ResolutionRequest(target=target, action=action, **kwargs)
    return resolve(
        store,
        request,
        config=engine_config(),
        actor="cli:lead",
        agent_addresses=AGENT_ADDRESSES,
        now=NOW,
    )


def _state(store: SQLiteStore) -> NegotiationState:
    stored = store.states.load(JANE_THREAD)
    assert stored is not None
    return stored.state


def _negotiation(store: SQLiteStore) -> Negotiation:
    stored = store.states.load(JANE_THREAD)
    assert stored is not None
    return load_negotiation(stored)


def test_escalations_list_the_ask_offer_ceiling_and_draft(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    escalate_jane(store, mailbox)
    (item,) = list_escalations(store)
    assert item.thread_id == JANE_THREAD and item.influencer == "Jane Doe"
    assert item.client_name == "Glow Labs" and item.campaign_id == "cmp-1"
    assert item.their_ask == "9000.00" and item.ask_currency == "USD"
    assert item.our_last_offer is not None and Decimal(item.our_last_offer) >= Decimal("1000")
    assert Decimal(item.ceiling) == Decimal("1620.00")
    assert item.reason.startswith("over approval limit")
    assert item.draft_kind is not None and item.draft_amount is not None
    assert item.draft_deliverables and item.since == NOW
    assert list_escalations(store, "other-campaign") == []


def test_accept_sends_one_agreement_at_their_ask_and_records_it(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    escalate_jane(store, mailbox)
    result = _resolve(store, ResolveAction.ACCEPT, note="client approved")
    assert result.state_after == "agreed" and result.amount == "9000.00"
    assert result.override is not None and "above the ceiling" in result.override
    assert deliver_resolution(store, mailbox, result, now=NOW) == "sent"
    email = last_sent(mailbox)
    assert "$9,000.00" in email.get_content()
    assert str(email["In-Reply-To"]).strip() == "<ask@gmail.com>"
    (agreement,) = store.agreements.for_campaign("cmp-1")
    assert agreement.rate == Decimal("9000.00")
    record = store.campaigns.get("cmp-1")
    assert record is not None and record.cpm_tracker_data
    assert [a["cpm"] for a in record.cpm_tracker_data["agreements"]] == [str(agreement.cpm)]
    transition = store.audit.query(
        AuditQuery(thread_id=JANE_THREAD, event_type=EventType.STATE_TRANSITION)
    )[0]
    assert transition.metadata is not None
    assert transition.metadata["actor"] == "cli:lead"
    assert transition.metadata["note"] == "client approved"
    assert transition.metadata["transitions"] == [["escalated", "accept", "agreed"]]
    sent = store.audit.query(AuditQuery(thread_id=JANE_THREAD, event_type=EventType.EMAIL_SENT))[0]
    assert sent.metadata is not None
    assert sent.metadata["actor"] == "cli:lead"
    assert sent.metadata["resolution_key"] == result.key
    assert store.audit.query(AuditQuery(thread_id=JANE_THREAD, event_type=EventType.AGREEMENT))
    texts = [n.text for n in store.notifications.with_status("pending")]
    assert any(t.startswith("Resolved: Jane Doe") for t in texts)
    assert any(t.startswith("Deal agreed: Jane Doe") for t in texts)
    assert store.view_refresh.pending() == ["cmp-1"]


def test_the_same_resolution_twice_sends_once(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    escalate_jane(store, mailbox)
    first = _resolve(store, ResolveAction.COUNTER, amount="1500")
    # The process died before sending: the repeat finds the decision and sends it once.
    again = _resolve(store, ResolveAction.COUNTER, amount="1500")
    assert again.repeated and again.message_id == first.message_id
    assert deliver_resolution(store, mailbox, again, now=NOW) == "sent"
    assert deliver_resolution(store, mailbox, first, now=NOW) == "sent"
    assert first.message_id is not None
    assert sent_message_ids(mailbox.root)[first.message_id] == 1
    with pytest.raises(ResolutionError, match="not waiting for a human"):
        _resolve(store, ResolveAction.DECLINE)


def test_counter_goes_through_the_gate_and_the_ceiling(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    escalate_jane(store, mailbox)
    with pytest.raises(ResolutionError, match="above the ceiling"):
        _resolve(store, ResolveAction.COUNTER, amount="2000")
    with pytest.raises(ResolutionError, match="not money"):
        _resolve(store, ResolveAction.COUNTER, amount="lots")
    assert _state(store) is NegotiationState.ESCALATED  # refused moves change nothing
    result = _resolve(store, ResolveAction.COUNTER, amount="2000", allow_above_ceiling=True)
    assert result.state_after == "counter_sent" and result.override is not None
    deliver_resolution(store, mailbox, result, now=NOW)
    assert "$2,000.00" in last_sent(mailbox).get_content()
    negotiation = _negotiation(store)
    assert negotiation.our_last_offer == Decimal("2000") and negotiation.held is None
    audit = store.audit.query(
        AuditQuery(thread_id=JANE_THREAD, event_type=EventType.STATE_TRANSITION)
    )[0]
    assert audit.metadata is not None
    assert "above the ceiling" in audit.metadata["human_override"]


def test_send_draft_as_is_or_edited_through_the_gate(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    escalate_jane(store, mailbox)
    negotiation = _negotiation(store)
    assert negotiation.held is not None and negotiation.held.email is not None
    draft = negotiation.held.email.body
    bad = draft + "\nWe could also do $4,000 if that helps.\n"
    with pytest.raises(ResolutionError, match=r"\$4,000.00 is not one we decided"):
        _resolve(store, ResolveAction.SEND_DRAFT, text=bad)
    edited = draft.replace("Hi Jane,", "Hi Jane,\n\nThanks for your patience.", 1)
    result = _resolve(store, ResolveAction.SEND_DRAFT, text=edited)
    deliver_resolution(store, mailbox, result, now=NOW)
    assert "Thanks for your patience." in last_sent(mailbox).get_content()
    assert result.state_after == "counter_sent"


def test_decline_closes_courteously(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    escalate_jane(store, mailbox)
    result = _resolve(store, ResolveAction.DECLINE, target="JANE DOE")
    assert result.state_after == "rejected"
    deliver_resolution(store, mailbox, result, now=NOW)
    assert "step back" in last_sent(mailbox).get_content()
    assert len(sent_by_recipient(mailbox)[JANE]) == 2  # the opening and the close


def test_targets_by_email_and_name_and_ambiguity(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    escalate_jane(store, mailbox)
    assert find_waiting_thread(store, JANE.upper()) == JANE_THREAD
    assert find_waiting_thread(store, "  jane   doe ") == JANE_THREAD
    with pytest.raises(TargetError, match="no negotiation"):
        find_waiting_thread(store, "Nobody Here")
    with pytest.raises(ResolutionError, match="not waiting for a human"):
        _resolve(store, ResolveAction.ACCEPT, target="sam@gmail.com")


def test_control_commands_mark_the_campaign_views_stale(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    from negotiation_pipeline.workflow.control import pause

    escalate_jane(store, mailbox)
    assert store.view_refresh.pending() == []
    pause(store, "sam@gmail.com", actor="cli:lead", now=NOW)
    assert store.view_refresh.pending() == ["cmp-1"]
    assert store.view_refresh.clear(["cmp-1"]) == 1 and store.view_refresh.pending() == []
