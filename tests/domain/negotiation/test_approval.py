"""Holding an email for approval and approving it: the thread waits where the send would start
from, and approving the draft gives exactly the record the agent's own send would have."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from negotiation_pipeline.domain.enums import ApprovalMode, Intent, NegotiationState
from negotiation_pipeline.domain.negotiation import human
from negotiation_pipeline.domain.negotiation.approval import (
    hold_for_approval,
    holds,
    needs_approval,
)
from negotiation_pipeline.domain.negotiation.emails import EmailKind
from negotiation_pipeline.domain.negotiation.engine import Negotiation, Outcome
from tests.domain.negotiation.engine_support import NOW, opened, reading, reply

LATER = NOW + timedelta(hours=3)


def _comparable(negotiation: Negotiation) -> Negotiation:
    return replace(negotiation, last_activity=None, held=None, resolutions=())


@pytest.mark.parametrize("kind", list(EmailKind))
def test_which_kinds_wait_in_each_mode(kind: EmailKind) -> None:
    assert needs_approval(ApprovalMode.REVIEW_EVERY_EMAIL, kind)
    assert not needs_approval(ApprovalMode.AUTONOMOUS, kind)
    assert needs_approval(ApprovalMode.APPROVE_AGREEMENTS, kind) is (kind is EmailKind.AGREEMENT)


def test_a_held_opening_waits_in_initial_offer_and_approving_it_opens_as_the_agent_would() -> None:
    sent = opened()
    held = hold_for_approval(None, sent, NOW)
    waiting = held.negotiation
    assert held.email is None and held.transitions == ()
    assert waiting.state is NegotiationState.INITIAL_OFFER and waiting.history == ()
    assert waiting.our_last_offer is None and waiting.offers == () and waiting.said == ()
    move = human.send_draft(waiting, None, LATER)
    assert move.email == sent.email
    assert _comparable(move.negotiation) == _comparable(sent.negotiation)


def _reply_outcomes(intent: Intent, rate: str) -> tuple[Negotiation, Outcome]:
    start = opened().negotiation
    return start, reply(start, reading(intent, rate))


@pytest.mark.parametrize(("intent", "rate"), [(Intent.COUNTER, "2400"), (Intent.ACCEPT, "1000")])
def test_a_held_answer_waits_after_the_receipt_and_approving_it_matches_the_send(
    intent: Intent, rate: str
) -> None:
    before, sent = _reply_outcomes(intent, rate)
    assert sent.email is not None and sent.escalation is None
    held = hold_for_approval(before, sent, NOW)
    waiting = held.negotiation
    assert waiting.state is NegotiationState.COUNTER_RECEIVED
    assert [event for _, event, _ in held.transitions] == ["receive_reply"]
    assert waiting.round_count == before.round_count and waiting.offers == before.offers
    assert waiting.agreed_rate is None and held.agreed_rate is None
    assert waiting.replies_received == before.replies_received + 1
    move = human.send_draft(waiting, None, LATER)
    assert move.email == sent.email
    assert _comparable(move.negotiation) == _comparable(sent.negotiation)
    assert move.agreed_rate == sent.agreed_rate


def test_an_escalation_is_never_held_for_approval() -> None:
    _, escalated = _reply_outcomes(Intent.COUNTER, "9000")  # above the approval limit
    assert escalated.escalation is not None
    assert not holds(escalated, ApprovalMode.REVIEW_EVERY_EMAIL)
