"""Whole conversations through the real state machine: opening → agreed / rejected / exit /
escalated / stale. The earlier product crashed on "yes" and "no" from awaiting_reply and never
sent agreement or exit emails; each of those paths is driven here end to end."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.domain.campaign import (
    BudgetConstraints,
    DeliverableScenarios,
    ProductLever,
    UsageRights,
)
from negotiation_pipeline.domain.emails import EmailKind, EmailTemplates
from negotiation_pipeline.domain.negotiation import (
    Action,
    EngineConfig,
    EscalationReason,
    InfluencerTerms,
    Negotiation,
    ReplyNotExpectedError,
    apply_event,
    follow_up_due,
)
from negotiation_pipeline.domain.policy import Lever
from negotiation_pipeline.domain.reply_reader import read_reply
from negotiation_pipeline.domain.state_machine import InvalidTransitionError
from negotiation_pipeline.domain.types import (
    CounterpartyType,
    Intent,
    NegotiationEvent,
    NegotiationState,
)
from tests.domain.engine_support import (
    NOW,
    engine_config,
    make_campaign,
    make_terms,
    opened,
    reading,
    reply,
)

S = NegotiationState
TEMPLATES = Path(__file__).resolve().parents[2] / "config" / "templates"


def _events(negotiation: Negotiation) -> list[str]:
    return [event for _, event, _ in negotiation.history]


# --- opening ------------------------------------------------------------------------------------
def test_opening_offer_is_at_the_floor_with_scenario_1_and_is_sent() -> None:
    outcome = opened()
    assert outcome.action is Action.SEND_OFFER
    assert outcome.negotiation.state is S.AWAITING_REPLY
    assert outcome.transitions == ((S.INITIAL_OFFER, "send_offer", S.AWAITING_REPLY),)
    assert outcome.negotiation.our_last_offer == Decimal("1000.00")
    assert outcome.email is not None and outcome.gate is not None and outcome.gate.passed
    assert "Rate: $1,000.00" in outcome.email.body
    assert "- 1 Instagram Reel\n- 3 Instagram Stories\n" in outcome.email.body
    assert outcome.email.to == "jane@gmail.com"


def test_opening_is_raised_to_the_campaign_min_cost() -> None:
    campaign = make_campaign(budget_constraints=BudgetConstraints(min_cost="1200"))
    outcome = opened(campaign)
    assert outcome.negotiation.our_last_offer == Decimal("1200.00")
    assert outcome.email is not None and "$1,200.00" in outcome.email.body


def test_opening_escalates_when_min_cost_is_above_the_ceiling() -> None:
    campaign = make_campaign(budget_constraints=BudgetConstraints(min_cost="2000"))
    outcome = opened(campaign)
    assert outcome.action is Action.ESCALATE
    assert outcome.email is None
    assert outcome.negotiation.state is S.ESCALATED
    assert outcome.escalation is not None
    assert outcome.escalation.reason is EscalationReason.NO_FEASIBLE_PRICE


# --- agreed -------------------------------------------------------------------------------------
def test_two_counters_then_agreement_within_the_ceiling() -> None:
    n = opened().negotiation
    first = reply(n, reading(Intent.COUNTER, "1500"))
    assert first.action is Action.SEND_COUNTER
    assert first.negotiation.our_last_offer == Decimal("1250.00")  # half the gap, rounded to $5
    assert first.negotiation.state is S.COUNTER_SENT
    assert first.transitions == (
        (S.AWAITING_REPLY, "receive_reply", S.COUNTER_RECEIVED),
        (S.COUNTER_RECEIVED, "send_counter", S.COUNTER_SENT),
    )
    assert first.email is not None
    assert "Rate: $1,250.00 (your ask: $1,500.00)" in first.email.body

    second = reply(first.negotiation, reading(Intent.COUNTER, "1400"), day=2)
    assert second.negotiation.our_last_offer == Decimal("1325.00")

    third = reply(second.negotiation, reading(Intent.COUNTER, "1350"), day=3)
    assert third.action is Action.ACCEPT  # within 5% of our $1,325 offer
    n = third.negotiation
    assert n.state is S.AGREED
    assert third.agreed_rate == n.agreed_rate == Decimal("1350.00")
    assert third.agreed_cpm == n.agreed_cpm == Decimal("27.00")  # 1350 / 50k views × 1000
    assert n.offers == (Decimal("1000.00"), Decimal("1250.00"), Decimal("1325.00"))
    assert _events(n) == [
        "send_offer",
        "receive_reply",
        "send_counter",
        "receive_reply",
        "send_counter",
        "receive_reply",
        "accept",
    ]
    assert third.email is not None and third.email.kind is EmailKind.AGREEMENT
    body = third.email.body
    assert "confirmed at $1,350.00" in body
    assert "Payment terms: Net 30" in body
    assert "Next steps:" in body and "statement of work" in body


def test_plain_yes_from_awaiting_reply_agrees_at_our_offer() -> None:
    outcome = reply(opened().negotiation, reading(Intent.ACCEPT))
    assert outcome.action is Action.ACCEPT
    assert outcome.negotiation.state is S.AGREED
    assert outcome.agreed_rate == Decimal("1000.00")
    assert outcome.email is not None and "$1,000.00" in outcome.email.body


def test_ask_below_our_offer_is_accepted_at_their_ask() -> None:
    outcome = reply(opened().negotiation, reading(Intent.COUNTER, "900"))
    assert outcome.action is Action.ACCEPT
    assert outcome.agreed_rate == Decimal("900.00")
    assert outcome.agreed_cpm == Decimal("18.00")


def test_accept_naming_a_higher_amount_is_treated_as_a_counter() -> None:
    outcome = reply(opened().negotiation, reading(Intent.ACCEPT, "1500"))
    assert outcome.action is Action.SEND_COUNTER
    assert outcome.negotiation.our_last_offer == Decimal("1250.00")


def test_last_allowed_round_accepts_an_ask_within_the_ceiling() -> None:
    n = replace(opened().negotiation, round_count=4)  # one counter left before max_rounds (5)
    outcome = reply(n, reading(Intent.COUNTER, "1600"))
    assert outcome.action is Action.ACCEPT
    assert outcome.agreed_rate == Decimal("1600.00")


# --- rejected and exit ----------------------------------------------------------------------------
@pytest.mark.parametrize("counters_first", [0, 1])
def test_no_from_any_waiting_state_rejects_without_an_email(counters_first: int) -> None:
    n = opened().negotiation
    for _ in range(counters_first):
        n = reply(n, reading(Intent.COUNTER, "1500")).negotiation
    start_state = n.state
    outcome = reply(n, reading(Intent.REJECT, text="Thanks, but I'll pass."))
    assert outcome.action is Action.REJECT
    assert outcome.email is None
    assert outcome.negotiation.state is S.REJECTED
    assert outcome.transitions[0] == (start_state, "receive_reply", S.COUNTER_RECEIVED)
    assert outcome.transitions[-1] == (S.COUNTER_RECEIVED, "reject", S.REJECTED)


def test_levers_in_order_each_once_then_best_and_final_then_polite_exit() -> None:
    n = opened().negotiation
    asks = ["2500", "2200", "1900", "1700"]
    expected = [
        (Lever.SCENARIO_2, "1310.00"),
        (Lever.SCENARIO_3, "1465.00"),
        (Lever.USAGE_RIGHTS, "1545.00"),
        (Lever.PRODUCT, "1585.00"),
    ]
    for day, (ask, (lever, rate)) in enumerate(zip(asks, expected, strict=True), start=1):
        outcome = reply(n, reading(Intent.COUNTER, ask), day=day)
        assert outcome.action is Action.SEND_COUNTER
        assert outcome.lever is lever
        assert outcome.email is not None and outcome.email.kind is EmailKind.LEVER
        assert outcome.negotiation.our_last_offer == Decimal(rate)
        n = outcome.negotiation
    assert n.levers.used == tuple(lever for lever, _ in expected)
    assert n.levers.scenario == 3
    assert n.levers.usage_rights is not None and n.levers.usage_rights.value == "30 days"
    assert n.levers.product_offered

    # Lever state survives storage: a JSON round trip mid-negotiation picks up where it was.
    n = Negotiation.from_dict(json.loads(json.dumps(n.to_dict())))

    final = reply(n, reading(Intent.COUNTER, "1650"), day=5)
    assert final.action is Action.SEND_COUNTER and final.lever is None
    assert final.negotiation.our_last_offer == Decimal("1620.00")  # the ceiling, never above
    assert final.email is not None and "the most we can do" in final.email.body

    exit_ = reply(final.negotiation, reading(Intent.COUNTER, "1650"), day=6)
    assert exit_.action is Action.EXIT
    assert exit_.negotiation.state is S.REJECTED
    assert exit_.email is not None and exit_.email.kind is EmailKind.EXIT
    assert "$1,620.00" in exit_.email.body
    assert exit_.gate is not None and exit_.gate.passed


def test_lever_emails_state_the_traded_scope() -> None:
    n = opened().negotiation
    scenario_2 = reply(n, reading(Intent.COUNTER, "2500"))
    assert scenario_2.email is not None
    assert "- 1 Instagram Reel\n- 1 Instagram Story\n" in scenario_2.email.body
    assert "3 Instagram Stories" not in scenario_2.email.body


def test_without_levers_an_ask_above_the_ceiling_gets_the_ceiling_then_exit() -> None:
    campaign = make_campaign(
        scenarios=DeliverableScenarios(scenario_1="1 Instagram Reel"),
        usage_rights=UsageRights(target="30 days", minimum="30 days"),
        product=ProductLever(available=False),
    )
    n = opened(campaign).negotiation
    final = reply(n, reading(Intent.COUNTER, "2000"), campaign)
    assert final.negotiation.our_last_offer == Decimal("1620.00")
    exit_ = reply(final.negotiation, reading(Intent.COUNTER, "1900"), campaign, day=2)
    assert exit_.action is Action.EXIT
    assert exit_.negotiation.state is S.REJECTED


# --- escalated ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("read", "reason"),
    [
        (reading(Intent.COUNTER, "6000"), EscalationReason.OVER_APPROVAL_LIMIT),
        (reading(Intent.COUNTER, "3500"), EscalationReason.OVER_HARD_CAP),  # 2 × $1,620 ceiling
        (reading(Intent.UNCLEAR, confidence=0.4), EscalationReason.UNCLEAR_INTENT),
        (reading(Intent.COUNTER, "1400", confidence=0.5), EscalationReason.UNCLEAR_INTENT),
        (reading(Intent.COUNTER, "1200", currency="EUR"), EscalationReason.CURRENCY),
        (
            reading(Intent.COUNTER, "1400", text="My lawyer needs to review the terms."),
            EscalationReason.LEGAL_LANGUAGE,
        ),
        (
            reading(Intent.REJECT, text="This is a joke of an offer, honestly."),
            EscalationReason.HOSTILE_TONE,
        ),
        (
            reading(Intent.COUNTER, "1400", text="Can we add a meet and greet at your store?"),
            EscalationReason.UNUSUAL_DELIVERABLES,
        ),
    ],
)
def test_escalations_move_to_escalated_and_never_send(read, reason) -> None:  # type: ignore[no-untyped-def]
    n = opened().negotiation
    outcome = reply(n, read)
    assert outcome.action is Action.ESCALATE
    assert outcome.email is None
    assert outcome.negotiation.state is S.ESCALATED
    assert outcome.transitions[-1] == (S.COUNTER_RECEIVED, "escalate", S.ESCALATED)
    assert outcome.escalation is not None
    assert outcome.escalation.reason is reason
    assert outcome.escalation.our_rate == Decimal("1000.00")
    assert outcome.escalation.suggested_action
    # Nothing was offered: the stored offer and levers are unchanged.
    assert outcome.negotiation.our_last_offer == n.our_last_offer
    assert outcome.negotiation.offers == n.offers


def test_approval_limit_escalation_carries_a_draft_a_human_can_send() -> None:
    outcome = reply(opened().negotiation, reading(Intent.COUNTER, "6000"))
    assert outcome.escalation is not None
    assert outcome.escalation.their_rate == Decimal("6000")
    draft = outcome.escalation.draft
    assert draft is not None and draft.kind is EmailKind.LEVER


def test_keywords_match_whole_words_only() -> None:
    text = "There is no issue with the agenda; I'd do $1,400."
    outcome = reply(opened().negotiation, reading(Intent.COUNTER, "1400", text=text))
    assert outcome.action is Action.SEND_COUNTER  # "sue" in "issue", "nda" in "agenda": no


def test_more_than_max_rounds_escalates_with_the_draft() -> None:
    n = opened().negotiation
    question = reading(Intent.QUESTION, text="What are the payment terms?")
    for day in range(1, 6):
        outcome = reply(n, question, day=day)
        assert outcome.action is Action.ANSWER_QUESTION
        n = outcome.negotiation
    assert n.round_count == 5
    outcome = reply(n, question, day=6)
    assert outcome.action is Action.ESCALATE
    assert outcome.escalation is not None
    assert outcome.escalation.reason is EscalationReason.MAX_ROUNDS
    assert outcome.escalation.draft is not None


def test_an_email_failing_the_gate_escalates_instead_of_sending() -> None:
    sources = {p.name: p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.j2")}
    sources["counter_offer.txt.j2"] = sources["counter_offer.txt.j2"].replace(
        "Let me know if we can lock this in.",
        "Let me know if we can lock this in; we'd love future campaigns with you.",
    )
    base = engine_config()
    tampered = EngineConfig(base.policy, base.triggers, EmailTemplates.from_sources(sources))
    outcome = reply(opened().negotiation, reading(Intent.COUNTER, "1500"), config=tampered)
    assert outcome.action is Action.ESCALATE
    assert outcome.email is None
    assert outcome.escalation is not None
    assert outcome.escalation.reason is EscalationReason.VALIDATION_FAILED
    assert any("future" in failure for failure in outcome.escalation.evidence)
    assert outcome.escalation.draft is not None
    assert outcome.negotiation.our_last_offer == Decimal("1000.00")


def test_a_reply_after_escalation_is_refused_and_a_human_resolves_it() -> None:
    escalated = reply(opened().negotiation, reading(Intent.COUNTER, "6000")).negotiation
    with pytest.raises(ReplyNotExpectedError):
        reply(escalated, reading(Intent.ACCEPT))
    resolved = apply_event(escalated, NegotiationEvent.RESUME_COUNTER, NOW)
    assert resolved.state is S.COUNTER_SENT
    with pytest.raises(InvalidTransitionError):
        apply_event(resolved, NegotiationEvent.RESUME_COUNTER, NOW)


# --- questions ------------------------------------------------------------------------------------
def test_question_answered_from_campaign_facts() -> None:
    text = "Before I decide: what are the payment terms and when does it go live?"
    outcome = reply(opened().negotiation, reading(Intent.QUESTION, text=text))
    assert outcome.action is Action.ANSWER_QUESTION
    assert outcome.negotiation.state is S.COUNTER_SENT
    assert outcome.email is not None
    assert "Payment: Net 30" in outcome.email.body
    assert "April 20, 2026" in outcome.email.body
    assert "$1,000.00" in outcome.email.body  # our offer restated, unchanged
    assert outcome.negotiation.our_last_offer == Decimal("1000.00")


@pytest.mark.parametrize(
    ("text", "campaign_changes"),
    [
        ("When would this need to go live?", {"publish_date": None, "timeline": None}),
        ("Will you send me the product?", {"product": ProductLever(available=False)}),
        ("Do you have a parking spot for my car?", {}),
    ],
)
def test_question_without_a_fact_escalates(text: str, campaign_changes: dict[str, object]) -> None:
    campaign = make_campaign(**campaign_changes)
    outcome = reply(opened(campaign).negotiation, reading(Intent.QUESTION, text=text), campaign)
    assert outcome.action is Action.ESCALATE
    assert outcome.escalation is not None
    assert outcome.escalation.reason is EscalationReason.UNANSWERABLE_QUESTION


# --- follow-ups and stale -----------------------------------------------------------------------
def test_one_follow_up_then_stale_then_a_late_reply_still_counts() -> None:
    config, campaign = engine_config(), make_campaign()
    n = opened().negotiation
    assert follow_up_due(n, NOW + timedelta(days=2, hours=23), campaign, config) is None
    nudge = follow_up_due(n, NOW + timedelta(days=3), campaign, config)
    assert nudge is not None and nudge.action is Action.FOLLOW_UP
    assert nudge.email is not None and nudge.email.kind is EmailKind.FOLLOW_UP
    assert "$1,000.00" in nudge.email.body
    assert nudge.transitions == ()
    n = nudge.negotiation
    assert n.followups_sent == 1 and n.state is S.AWAITING_REPLY

    assert follow_up_due(n, NOW + timedelta(days=6), campaign, config) is None
    stale = follow_up_due(n, NOW + timedelta(days=7), campaign, config)
    assert stale is not None and stale.action is Action.MARK_STALE
    assert stale.email is None
    assert stale.transitions == ((S.AWAITING_REPLY, "timeout", S.STALE),)
    assert follow_up_due(stale.negotiation, NOW + timedelta(days=30), campaign, config) is None

    late = reply(stale.negotiation, reading(Intent.ACCEPT), day=9)
    assert late.action is Action.ACCEPT
    assert late.negotiation.state is S.AGREED


# --- counterparty -------------------------------------------------------------------------------
MANAGER_TEXT = (
    "Hi Alex,\n\nThanks for the offer for Jane. We would need $1,500 for this package.\n\n"
    "Best regards,\nJordan Miles\nTalent Manager | Brightline Talent\n+1 (310) 555-0142"
)


def test_talent_manager_is_addressed_and_the_thread_stays_a_manager_thread() -> None:
    n = opened().negotiation
    outcome = reply(
        n,
        reading(Intent.COUNTER, "1500", text="We would need $1,500 for this package."),
        sender="Jordan Miles <jordan@brightlinetalent.com>",
        text=MANAGER_TEXT,
    )
    n = outcome.negotiation
    assert n.counterparty_type is CounterpartyType.TALENT_MANAGER
    assert n.agency_name == "Brightline Talent"
    assert outcome.email is not None
    assert outcome.email.to == "jordan@brightlinetalent.com"
    assert outcome.email.body.startswith("Hi Jordan,")
    assert "Jane" in outcome.email.body
    later = reply(n, reading(Intent.COUNTER, "1400"), day=2)
    assert later.negotiation.counterparty_type is CounterpartyType.TALENT_MANAGER


# --- storage and control ------------------------------------------------------------------------
def test_negotiation_round_trips_losslessly_through_json() -> None:
    n = reply(opened().negotiation, reading(Intent.COUNTER, "2500")).negotiation
    restored = Negotiation.from_dict(json.loads(json.dumps(n.to_dict())))
    assert restored == n
    assert isinstance(restored.our_last_offer, Decimal)
    assert n.to_dict()["our_last_offer"] == "1310.00"


def test_from_dict_names_a_missing_field() -> None:
    data = opened().negotiation.to_dict()
    del data["levers"]
    with pytest.raises(ValueError, match="levers"):
        Negotiation.from_dict(data)


def test_pause_and_resume_go_through_the_state_machine() -> None:
    n = opened().negotiation
    paused = apply_event(n, NegotiationEvent.PAUSE, NOW)
    assert paused.state is S.PAUSED and paused.pre_pause_state is S.AWAITING_REPLY
    with pytest.raises(ReplyNotExpectedError):
        reply(paused, reading(Intent.ACCEPT))
    restored = Negotiation.from_dict(json.loads(json.dumps(paused.to_dict())))
    resumed = apply_event(restored, NegotiationEvent.RESUME, NOW)
    assert resumed.state is S.AWAITING_REPLY
    assert reply(resumed, reading(Intent.ACCEPT)).negotiation.state is S.AGREED


def test_terms_reject_floats_and_inverted_limits() -> None:
    with pytest.raises(ValueError, match="floor_rate"):
        make_terms(floor_rate=1000.0)
    with pytest.raises(ValueError, match="above ceiling_rate"):
        make_terms(floor_rate=Decimal("2000"), ceiling_rate=Decimal("1000"))


# --- with the real reply reader -----------------------------------------------------------------
def test_conversation_read_by_the_real_reply_reader() -> None:
    first = opened()
    assert first.email is not None
    quoted = (
        "\n\nOn Mon, Mar 2, 2026 at 9:00 AM Alex Morgan <a@northbeam.test> wrote:\n"
        + "\n".join(f"> {line}" for line in first.email.body.splitlines())
    )
    text = "Hi Alex,\n\nThanks! I'd love to do this but I'd need $1,500 to make it work.\n\nJane"
    read = read_reply(text + quoted, our_offer=first.negotiation.our_last_offer)
    assert read.intent is Intent.COUNTER and read.proposed_rate == Decimal("1500")
    counter = reply(first.negotiation, read, text=text + quoted)
    assert counter.negotiation.our_last_offer == Decimal("1250.00")
    text = "Deal! Let's do it."
    read = read_reply(text, our_offer=counter.negotiation.our_last_offer)
    done = reply(counter.negotiation, read, text=text, day=2)
    assert done.action is Action.ACCEPT
    assert done.agreed_rate == Decimal("1250.00")


def test_terms_from_a_cpm_flexibility_row() -> None:
    from negotiation_pipeline.domain.cpm import FlexibilityRow
    from negotiation_pipeline.domain.types import Platform

    row = FlexibilityRow(
        name="Jane Doe",
        email="jane@gmail.com",
        platform=Platform.INSTAGRAM,
        average_views=50_000,
        engagement_rate=Decimal("4.2"),
        floor_cpm=Decimal("20"),
        max_allowed_cpm=Decimal("32.40"),
        opening_rate=Decimal("1000.00"),
        ceiling_rate=Decimal("1620.00"),
        reason="base",
    )
    assert InfluencerTerms.from_flexibility_row(row) == make_terms()
