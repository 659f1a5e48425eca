"""Whole conversations through the real state machine: opening → agreed / rejected / exit /
escalated / stale, including a bare "yes" or "no" while awaiting a reply and the agreement and
exit emails; each of those paths is driven here end to end."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from negotiation_pipeline.domain.campaigns.campaign import (
    BudgetConstraints,
    DeliverableScenarios,
    ProductLever,
    UsageRights,
)
from negotiation_pipeline.domain.enums import (
    CounterpartyType,
    Intent,
    NegotiationEvent,
    NegotiationState,
)
from negotiation_pipeline.domain.negotiation.emails import EmailKind, EmailTemplates
from negotiation_pipeline.domain.negotiation.engine import (
    Action,
    EngineConfig,
    EscalationReason,
    InfluencerTerms,
    Negotiation,
    ReplyNotExpectedError,
    apply_event,
)
from negotiation_pipeline.domain.negotiation.follow_up import follow_up_due
from negotiation_pipeline.domain.negotiation.policy import DeclinePolicy, Lever
from negotiation_pipeline.domain.negotiation.state_machine import InvalidTransitionError
from negotiation_pipeline.settings.files import packaged_config_dir
from tests.domain.negotiation.engine_support import (
    NOW,
    engine_config,
    make_campaign,
    make_terms,
    opened,
    reading,
    reply,
)
from tests.support.reading import read_reply

TEMPLATES = packaged_config_dir() / "templates"


def _events(negotiation: Negotiation) -> list[str]:
    return [event for _, event, _ in negotiation.history]


# --- opening ------------------------------------------------------------------------------------
def test_opening_offer_is_at_the_floor_with_scenario_1_and_is_sent() -> None:
    outcome = opened()
    assert outcome.action is Action.SEND_OFFER
    assert outcome.negotiation.state is NegotiationState.AWAITING_REPLY
    assert outcome.transitions == (
        (NegotiationState.INITIAL_OFFER, "send_offer", NegotiationState.AWAITING_REPLY),
    )
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
    assert outcome.negotiation.state is NegotiationState.ESCALATED
    assert outcome.escalation is not None
    assert outcome.escalation.reason is EscalationReason.NO_FEASIBLE_PRICE


# --- agreed -------------------------------------------------------------------------------------
def test_counters_follow_the_curve_then_ac_next_agrees_within_the_ceiling() -> None:
    # Floor $1,000, ceiling $1,620, exponent 0.6 over 5 rounds: the curve is at 6.8%, 21.7%,
    # 42.7% and 68.9% of the $620 gap after 1-4 counters, rounded to $5.
    n = opened().negotiation
    first = reply(n, reading(Intent.COUNTER, "1500"))
    assert first.action is Action.SEND_COUNTER
    assert first.negotiation.our_last_offer == Decimal("1040.00")
    assert first.negotiation.state is NegotiationState.COUNTER_SENT
    assert first.transitions == (
        (NegotiationState.AWAITING_REPLY, "receive_reply", NegotiationState.COUNTER_RECEIVED),
        (NegotiationState.COUNTER_RECEIVED, "send_counter", NegotiationState.COUNTER_SENT),
    )
    assert first.email is not None
    assert "Rate: $1,040.00 (your ask: $1,500.00)" in first.email.body

    second = reply(first.negotiation, reading(Intent.COUNTER, "1400"), day=2)
    assert second.negotiation.our_last_offer == Decimal("1135.00")
    third = reply(second.negotiation, reading(Intent.COUNTER, "1300"), day=3)
    assert third.negotiation.our_last_offer == Decimal("1265.00")

    fourth = reply(third.negotiation, reading(Intent.COUNTER, "1280"), day=4)
    assert fourth.action is Action.ACCEPT  # $1,280 is below our next offer ($1,425): AC_next
    assert "AC_next" in fourth.reason and fourth.facts["next_offer"] == "$1,425.00"
    n = fourth.negotiation
    assert n.state is NegotiationState.AGREED
    assert fourth.agreed_rate == n.agreed_rate == Decimal("1280.00")
    assert fourth.agreed_cpm == n.agreed_cpm == Decimal("25.60")  # 1280 / 50k views × 1000
    assert n.offers == (
        Decimal("1000.00"),
        Decimal("1040.00"),
        Decimal("1135.00"),
        Decimal("1265.00"),
    )
    assert _events(n) == [
        "send_offer",
        "receive_reply",
        "send_counter",
        "receive_reply",
        "send_counter",
        "receive_reply",
        "send_counter",
        "receive_reply",
        "accept",
    ]
    assert fourth.email is not None and fourth.email.kind is EmailKind.AGREEMENT
    body = fourth.email.body
    assert "confirmed at $1,280.00" in body
    assert "- Payment: by bank transfer within 30 days" in body
    assert "Next steps:" in body and "statement of work" in body


def test_plain_yes_from_awaiting_reply_agrees_at_our_offer() -> None:
    outcome = reply(opened().negotiation, reading(Intent.ACCEPT))
    assert outcome.action is Action.ACCEPT
    assert outcome.negotiation.state is NegotiationState.AGREED
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
    assert outcome.negotiation.our_last_offer == Decimal("1040.00")


def test_last_allowed_round_accepts_an_ask_within_the_ceiling() -> None:
    n = replace(opened().negotiation, round_count=4)  # one counter left before max_rounds (5)
    outcome = reply(n, reading(Intent.COUNTER, "1600"))
    assert outcome.action is Action.ACCEPT
    assert outcome.agreed_rate == Decimal("1600.00")


# --- rejected and exit ----------------------------------------------------------------------------
@pytest.mark.parametrize("counters_first", [0, 1])
def test_no_from_any_waiting_state_rejects_with_a_short_courteous_close(
    counters_first: int,
) -> None:
    n = opened().negotiation
    for _ in range(counters_first):
        n = reply(n, reading(Intent.COUNTER, "1500")).negotiation
    start_state = n.state
    outcome = reply(n, reading(Intent.REJECT, text="Thanks, but I'll pass."))
    assert outcome.action is Action.REJECT
    assert outcome.negotiation.state is NegotiationState.REJECTED
    assert outcome.transitions[0] == (
        start_state,
        "receive_reply",
        NegotiationState.COUNTER_RECEIVED,
    )
    assert outcome.transitions[-1] == (
        NegotiationState.COUNTER_RECEIVED,
        "reject",
        NegotiationState.REJECTED,
    )
    assert outcome.email is not None and outcome.email.kind is EmailKind.DECLINE
    assert outcome.gate is not None and outcome.gate.passed
    body = outcome.email.body
    assert "$" not in body  # no price haggling in a goodbye
    assert "If anything changes on your side, just reply to this email" in body  # door open
    assert len(body) < 500


def test_the_door_can_be_left_shut_or_the_close_not_sent() -> None:
    base = engine_config()
    shut = base.policy.model_copy(update={"decline": DeclinePolicy(leave_door_open=False)})
    config = EngineConfig(shut, base.triggers, base.templates, base.vocabulary)
    outcome = reply(opened().negotiation, reading(Intent.REJECT), config=config)
    assert outcome.email is not None and "reply to this email" not in outcome.email.body
    silent = base.policy.model_copy(update={"decline": DeclinePolicy(send_close=False)})
    config = EngineConfig(silent, base.triggers, base.templates, base.vocabulary)
    outcome = reply(opened().negotiation, reading(Intent.REJECT), config=config)
    assert outcome.email is None and outcome.negotiation.state is NegotiationState.REJECTED


def test_firm_asks_above_the_ceiling_walk_the_levers_then_exit() -> None:
    # The same $2,500 ask (above the $1,620 ceiling) every time: after two unchanged asks the
    # scope comes down at the same price per view (so the money falls with it), then the
    # product joins our best offer on the last round, then we step back.
    n = opened().negotiation
    expected = [
        (None, "1040.00", 1),
        (None, "1135.00", 1),
        (Lever.SCENARIO_2, "810.00", 2),  # 1135 × 35,714 / 50,000 views, rounded down to $5
        (Lever.SCENARIO_3, "645.00", 3),  # 810 × 28,571 / 35,714
        (Lever.PRODUCT, "925.00", 3),  # scenario 3's ceiling (925.71), product on top
    ]
    for day, (lever, rate, scenario) in enumerate(expected, start=1):
        outcome = reply(n, reading(Intent.COUNTER, "2500"), day=day)
        assert outcome.action is Action.SEND_COUNTER
        assert outcome.lever is lever
        assert outcome.email is not None
        assert outcome.email.kind is (EmailKind.COUNTER if lever is None else EmailKind.LEVER)
        assert outcome.negotiation.our_last_offer == Decimal(rate)
        assert outcome.negotiation.levers.scenario == scenario
        n = outcome.negotiation
        # Lever state survives storage: a JSON round trip picks up where it was.
        n = Negotiation.from_dict(json.loads(json.dumps(n.to_dict())))
    assert n.levers.used == (Lever.SCENARIO_2, Lever.SCENARIO_3, Lever.PRODUCT)
    exit_ = reply(n, reading(Intent.COUNTER, "2500"), day=6)
    assert exit_.action is Action.EXIT
    assert exit_.negotiation.state is NegotiationState.REJECTED
    assert exit_.email is not None and exit_.email.kind is EmailKind.EXIT
    assert "$925.00" in exit_.email.body
    assert "set aside per creator" in exit_.email.body and "campaign budget" not in exit_.email.body
    assert exit_.gate is not None and exit_.gate.passed


def test_lever_emails_state_the_traded_scope() -> None:
    n = opened().negotiation
    for day in (1, 2):
        n = reply(n, reading(Intent.COUNTER, "2500"), day=day).negotiation
    scenario_2 = reply(n, reading(Intent.COUNTER, "2500"), day=3)
    assert scenario_2.lever is Lever.SCENARIO_2
    assert scenario_2.email is not None
    body = scenario_2.email.body
    assert "- 1 Instagram Reel\n- 1 Instagram Story\n" in body
    assert "3 Instagram Stories" not in body
    assert "For $810.00 we can lighten the scope" in body


def test_without_levers_the_curve_reaches_the_ceiling_then_exit() -> None:
    campaign = make_campaign(
        scenarios=DeliverableScenarios(scenario_1="1 Instagram Reel"),
        usage_rights=UsageRights(target="30 days", minimum="30 days"),
        product=ProductLever(available=False),
    )
    n = opened(campaign).negotiation
    offers = []
    for day in range(1, 6):
        outcome = reply(n, reading(Intent.COUNTER, "2000"), campaign, day=day)
        assert outcome.action is Action.SEND_COUNTER and outcome.lever is None
        n = outcome.negotiation
        offers.append(str(n.our_last_offer))
    assert offers == ["1040.00", "1135.00", "1265.00", "1425.00", "1620.00"]
    assert outcome.email is not None and "best and final" in outcome.email.body
    exit_ = reply(n, reading(Intent.COUNTER, "1900"), campaign, day=6)
    assert exit_.action is Action.EXIT
    assert exit_.negotiation.state is NegotiationState.REJECTED


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
def test_escalations_move_to_escalated_and_never_send(read, reason) -> None:
    n = opened().negotiation
    outcome = reply(n, read)
    assert outcome.action is Action.ESCALATE
    assert outcome.email is None
    assert outcome.negotiation.state is NegotiationState.ESCALATED
    assert outcome.transitions[-1] == (
        NegotiationState.COUNTER_RECEIVED,
        "escalate",
        NegotiationState.ESCALATED,
    )
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
    assert draft is not None and draft.kind is EmailKind.COUNTER
    assert "$1,040.00" in draft.body


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
    sources["_closing.txt.j2"] = sources["_closing.txt.j2"].replace(
        "Let me know if we can lock this in.",
        "Let me know if we can lock this in; we'd love future campaigns with you.",
    )
    base = engine_config()
    tampered = EngineConfig(
        base.policy, base.triggers, EmailTemplates.from_sources(sources), base.vocabulary
    )
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
    assert resolved.state is NegotiationState.COUNTER_SENT
    with pytest.raises(InvalidTransitionError):
        apply_event(resolved, NegotiationEvent.RESUME_COUNTER, NOW)


# --- questions ------------------------------------------------------------------------------------
def test_question_answered_from_campaign_facts() -> None:
    text = "Before I decide: what are the payment terms and when does it go live?"
    outcome = reply(opened().negotiation, reading(Intent.QUESTION, text=text))
    assert outcome.action is Action.ANSWER_QUESTION
    assert outcome.negotiation.state is NegotiationState.COUNTER_SENT
    assert outcome.email is not None
    assert "- Payment: by bank transfer within 30 days" in outcome.email.body
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
    assert n.followups_sent == 1 and n.state is NegotiationState.AWAITING_REPLY

    assert follow_up_due(n, NOW + timedelta(days=6), campaign, config) is None
    stale = follow_up_due(n, NOW + timedelta(days=7), campaign, config)
    assert stale is not None and stale.action is Action.MARK_STALE
    assert stale.email is None
    assert stale.transitions == (
        (NegotiationState.AWAITING_REPLY, "timeout", NegotiationState.STALE),
    )
    assert follow_up_due(stale.negotiation, NOW + timedelta(days=30), campaign, config) is None

    late = reply(stale.negotiation, reading(Intent.ACCEPT), day=9)
    assert late.action is Action.ACCEPT
    assert late.negotiation.state is NegotiationState.AGREED


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
    assert n.to_dict()["our_last_offer"] == "1040.00"
    assert n.asks == ((Decimal("2500.00"), Decimal("50.00"), 0),)  # per 1,000 of 50,000 views
    assert n.said  # the variants and paragraphs used so far


def test_records_written_before_asks_and_packages_were_stored_still_load() -> None:
    data = reply(opened().negotiation, reading(Intent.COUNTER, "2500")).negotiation.to_dict()
    for key in ("asks", "said", "recipient_name", "agreed_package"):
        data.pop(key)
    data["terms"].pop("scenarios")
    old = Negotiation.from_dict(data)
    assert old.asks == () and old.terms.scenarios == ()
    assert reply(old, reading(Intent.ACCEPT), day=2).agreed_rate == Decimal("1040.00")


def test_from_dict_names_a_missing_field() -> None:
    data = opened().negotiation.to_dict()
    del data["levers"]
    with pytest.raises(ValueError, match="levers"):
        Negotiation.from_dict(data)


def test_pause_and_resume_go_through_the_state_machine() -> None:
    n = opened().negotiation
    paused = apply_event(n, NegotiationEvent.PAUSE, NOW)
    assert (
        paused.state is NegotiationState.PAUSED
        and paused.pre_pause_state is NegotiationState.AWAITING_REPLY
    )
    with pytest.raises(ReplyNotExpectedError):
        reply(paused, reading(Intent.ACCEPT))
    restored = Negotiation.from_dict(json.loads(json.dumps(paused.to_dict())))
    resumed = apply_event(restored, NegotiationEvent.RESUME, NOW)
    assert resumed.state is NegotiationState.AWAITING_REPLY
    assert reply(resumed, reading(Intent.ACCEPT)).negotiation.state is NegotiationState.AGREED


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
    assert counter.negotiation.our_last_offer == Decimal("1040.00")
    text = "Deal! Let's do it."
    read = read_reply(text, our_offer=counter.negotiation.our_last_offer)
    done = reply(counter.negotiation, read, text=text, day=2)
    assert done.action is Action.ACCEPT
    assert done.agreed_rate == Decimal("1040.00")


def test_terms_from_a_cpm_flexibility_row() -> None:
    from negotiation_pipeline.domain.campaigns.cpm import FlexibilityRow
    from negotiation_pipeline.domain.enums import Platform

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
