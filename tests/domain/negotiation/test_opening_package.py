"""The first offer's package: scenario 1 when it fits its ceiling, else the first smaller package
the lever order reaches that does (less work for less money), else an escalation."""

from __future__ import annotations

from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import BudgetConstraints
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.domain.negotiation.engine import (
    Action,
    InfluencerTerms,
    Outcome,
    open_negotiation,
)
from negotiation_pipeline.domain.negotiation.policy import Lever
from tests.domain.negotiation.engine_support import NOW, engine_config, make_campaign


def _open(approval_cap: str) -> Outcome:
    """40,000 average views at CPM 20-30: Reel + 3 Stories opens at $1,400, Reel + Story at
    $1,000, a Reel alone at $800 (the pricing tests derive these from expected views)."""
    campaign = make_campaign(
        cpm_range={"min_cpm": "20", "max_cpm": "30"},
        budget_constraints=BudgetConstraints(max_cost_without_approval=approval_cap),
    )
    tracker = CampaignCPMTracker("cmp-1", Decimal(20), Decimal(30), 3)
    jane = InfluencerProfile("Jane Doe", "jane@x.test", Platform.INSTAGRAM, "j", 40_000, Decimal(4))
    [row] = build_flexibility_rows(campaign, [jane], tracker, engine_config().policy.package_value)
    terms = InfluencerTerms.from_flexibility_row(row)
    return open_negotiation("t-1", campaign, terms, engine_config(), NOW)


def test_scenario_1_within_the_approval_cap_is_the_opening_package() -> None:
    outcome = _open("1500")

    assert outcome.action is Action.SEND_OFFER
    assert outcome.negotiation.our_last_offer == Decimal("1400.00")
    assert outcome.negotiation.levers.used == ()
    assert outcome.email is not None and "- 3 Instagram Stories" in outcome.email.body


def test_scenario_1_above_the_approval_cap_opens_on_the_smaller_package_that_fits() -> None:
    outcome = _open("1200")

    assert outcome.action is Action.SEND_OFFER
    assert outcome.negotiation.our_last_offer == Decimal("1000.00")
    levers = outcome.negotiation.levers
    assert (levers.scenario, levers.used) == (2, (Lever.SCENARIO_2,))
    assert outcome.email is not None
    body = outcome.email.body
    assert "- 1 Instagram Reel\n- 1 Instagram Story\n" in body and "- Rate: $1,000.00" in body
    assert "3 Instagram Stories" not in body
    assert "scenario_2" in str(outcome.facts.get("rule"))


def test_no_package_within_the_approval_cap_escalates_before_any_email() -> None:
    outcome = _open("700")

    assert outcome.action is Action.ESCALATE and outcome.email is None
    assert outcome.negotiation.our_last_offer is None
    assert outcome.escalation is not None
    assert "$1,400.00" in outcome.escalation.detail
    assert "no smaller package fits" in outcome.escalation.detail
