"""Lever order and availability, keyword triggers, question topics (the concession curve and
package prices are in test_concession.py and test_pricing.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from negotiation_pipeline.domain.campaigns.campaign import (
    DeliverableScenarios,
    ProductLever,
    UsageRights,
)
from negotiation_pipeline.domain.enums import UsageRightsDuration
from negotiation_pipeline.domain.negotiation.policy import (
    ConcessionPolicy,
    EscalationTriggers,
    KeywordTrigger,
    Lever,
    LeverState,
    QuestionTopic,
    TriggerCategory,
    apply_lever,
    next_lever,
)
from tests.domain.negotiation.engine_support import engine_config, make_campaign

D = Decimal


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


def test_lever_order_is_configuration_and_a_scenario_lever_never_adds_scope_back() -> None:
    campaign = make_campaign()
    order = (Lever.USAGE_RIGHTS, Lever.SCENARIO_3, Lever.SCENARIO_2, Lever.PRODUCT)
    state = LeverState()
    seen = []
    while (lever := next_lever(state, campaign, order)) is not None:
        seen.append(lever)
        state = apply_lever(state, lever, campaign)
    # scenario 2 is richer than scenario 3, so once 3 is on the table it is no longer a lever
    assert seen == [Lever.USAGE_RIGHTS, Lever.SCENARIO_3, Lever.PRODUCT]
    with pytest.raises(ValueError, match="twice"):
        ConcessionPolicy(lever_order=(Lever.PRODUCT, Lever.PRODUCT))


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
