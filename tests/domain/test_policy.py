"""Concession math, price bounds, lever order and keyword triggers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from negotiation_pipeline.domain.campaign import (
    BudgetConstraints,
    DeliverableScenarios,
    ProductLever,
    UsageRights,
)
from negotiation_pipeline.domain.policy import (
    ConcessionPolicy,
    EscalationTriggers,
    KeywordTrigger,
    Lever,
    LeverState,
    PriceBounds,
    QuestionTopic,
    TriggerCategory,
    apply_lever,
    concession_step,
    decide_price,
    next_lever,
    price_bounds,
)
from negotiation_pipeline.domain.types import UsageRightsDuration
from tests.domain.engine_support import engine_config, make_campaign

D = Decimal
POLICY = ConcessionPolicy()  # 5 % tolerance, half the gap, rounded to $5
BOUNDS = PriceBounds(floor=D("1000.00"), ceiling=D("1620.00"))


def _decide(ask: str | None, last: str = "1000.00", last_round: bool = False) -> tuple[str, str]:
    decision = decide_price(
        their_ask=None if ask is None else D(ask),
        our_last_offer=D(last),
        bounds=BOUNDS,
        policy=POLICY,
        last_round=last_round,
    )
    return decision.move.value, str(decision.rate)


@pytest.mark.parametrize(
    ("last", "target", "expected"),
    [
        ("1000.00", "1500.00", "1250.00"),
        ("1000.00", "1003.00", "1003.00"),  # rounding up past the target is clamped to it
        ("1250.00", "1400.00", "1325.00"),
        ("1000.00", "900.00", "1000.00"),  # never backwards
        ("1000.00", "1000.00", "1000.00"),
    ],
)
def test_concession_step(last: str, target: str, expected: str) -> None:
    assert concession_step(D(last), D(target), POLICY) == D(expected)


@pytest.mark.parametrize(
    ("ask", "last", "last_round", "expected"),
    [
        ("900", "1000.00", False, ("accept", "900.00")),  # below our offer: take it
        ("1000", "1000.00", False, ("accept", "1000.00")),
        ("1050", "1000.00", False, ("accept", "1050.00")),  # within 5 %
        ("1051", "1000.00", False, ("counter", "1025.00")),
        ("1500", "1000.00", False, ("counter", "1250.00")),
        ("1500", "1000.00", True, ("accept", "1500.00")),  # last round, within ceiling
        ("1620", "1000.00", False, ("counter", "1310.00")),
        ("2500", "1000.00", False, ("above_ceiling", "1310.00")),  # step toward the ceiling
        ("2500", "1620.00", True, ("above_ceiling", "1620.00")),  # never above the ceiling
        (None, "1000.00", False, ("counter", "1310.00")),  # no amount: step toward the ceiling
    ],
)
def test_decide_price(
    ask: str | None, last: str, last_round: bool, expected: tuple[str, str]
) -> None:
    assert _decide(ask, last, last_round) == expected


def test_policy_fraction_must_be_strictly_between_0_and_1() -> None:
    with pytest.raises(ValueError, match="step_fraction"):
        ConcessionPolicy(step_fraction=D(1))
    assert ConcessionPolicy(step_fraction=0.25).step_fraction == D("0.25")  # type: ignore[arg-type]


def test_price_bounds_apply_min_cost_and_approval_limit() -> None:
    campaign = make_campaign(
        budget_constraints=BudgetConstraints(min_cost="1100", max_cost_without_approval="1500")
    )
    assert price_bounds(D("1000"), D("1620"), campaign) == PriceBounds(D("1100.00"), D("1500.00"))
    loose = make_campaign(budget_constraints=BudgetConstraints())
    assert price_bounds(D("1000"), D("1620"), loose) == PriceBounds(D("1000.00"), D("1620.00"))
    tight = make_campaign(budget_constraints=BudgetConstraints(min_cost="1700"))
    assert not price_bounds(D("1000"), D("1620"), tight).is_feasible


def test_levers_come_in_order_and_each_is_used_once() -> None:
    campaign = make_campaign()
    state = LeverState()
    seen = []
    while (lever := next_lever(state, campaign)) is not None:
        seen.append(lever)
        state = apply_lever(state, lever, campaign)
    assert seen == [Lever.SCENARIO_2, Lever.SCENARIO_3, Lever.USAGE_RIGHTS, Lever.PRODUCT]
    assert state.scenario == 3
    assert state.usage(campaign) is UsageRightsDuration.DAYS_30
    assert state.product_offered
    assert LeverState.from_dict(state.to_dict()) == state


def test_levers_the_campaign_does_not_offer_are_skipped() -> None:
    campaign = make_campaign(
        scenarios=DeliverableScenarios(scenario_1="1 Reel", scenario_3="1 Story"),
        usage_rights=UsageRights(target="90 days", minimum="90 days"),
        product=ProductLever(available=False),
    )
    assert next_lever(LeverState(), campaign) is Lever.SCENARIO_3
    after = apply_lever(LeverState(), Lever.SCENARIO_3, campaign)
    assert next_lever(after, campaign) is None


def test_keyword_triggers_match_whole_words_case_insensitively() -> None:
    triggers = EscalationTriggers(
        legal_language=KeywordTrigger(keywords=("NDA", "legal team", "sue you")),
        hostile_tone=KeywordTrigger(enabled=False, keywords=("scam",)),
    )
    hits = triggers.keyword_hits("Our LEGAL   team will send an nda.")
    assert [(h.category, h.matched) for h in hits] == [(TriggerCategory.LEGAL, "LEGAL   team")]
    assert triggers.keyword_hits("The agenda has no issue; I will pursue it") == ()
    assert triggers.keyword_hits("this is a scam") == ()  # category disabled


def test_blank_keywords_are_rejected() -> None:
    with pytest.raises(ValueError, match="blank"):
        KeywordTrigger(keywords=("ok", " "))


def test_question_topics_from_the_repository_policy() -> None:
    policy = engine_config().policy
    assert policy.topics_in("What are the payment terms, and how long is the usage?") == (
        QuestionTopic.USAGE_RIGHTS,
        QuestionTopic.PAYMENT,
    )
    assert policy.topics_in("Can I keep working with other brands?") == (QuestionTopic.EXCLUSIVITY,)
    assert policy.topics_in("Nice weather today") == ()
