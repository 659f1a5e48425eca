"""Whole negotiations for value, table-driven: opening → replies → outcome, with the money of
every email, the package on the table and our price per 1,000 value-weighted views.

The influencer has 40,000 average views and 4.2% engagement (max allowed CPM $32.40 on a
$20-$30 target). The packages are worth (a Story is a quarter of a Reel's views):
- scenario 1, Reel + 3 Stories: 70,000 views, $1,400 (floor CPM) to $2,268 (ceiling);
- scenario 2, Reel + Story: 50,000 views, $1,000 to $1,620;
- scenario 3, Reel: 40,000 views, $800 to $1,296.
Usage rights of 30 days are worth 1.10 / 1.20 of the 90-day target. The curve (exponent 0.6,
5 rounds) is at 6.8%, 21.7%, 42.7%, 68.9% and 100% of a package's range after 1-5 counters.

Against a mirror (someone who answers our raise with a matching cut, tit for tat) we offer the
meeting point √(ask · offer) at once: $3,000 against $1,400 and $2,880 against $1,460 (a 4%
cut for our 4.3% raise) put it at √(2,880 × 1,460) = $2,050.56, offered as $2,055.

This replaces the sandbox thread that went $756 (Reel + 3 Stories) → $970 (Reel + Story) →
agreed $1,075 (3 Stories): here every lever lowers the money with the work."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

import pytest

from negotiation_pipeline.domain.campaigns.campaign import (
    Campaign,
    DeliverableScenarios,
    ProductLever,
    UsageRights,
)
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Intent, NegotiationState, Platform
from negotiation_pipeline.domain.negotiation.email_gate import money_mentions
from negotiation_pipeline.domain.negotiation.emails import EmailKind
from negotiation_pipeline.domain.negotiation.engine import (
    Action,
    InfluencerTerms,
    Negotiation,
    Outcome,
    open_negotiation,
)
from negotiation_pipeline.domain.negotiation.planning import answered_offers
from negotiation_pipeline.domain.negotiation.policy import Lever
from tests.domain.negotiation.engine_support import (
    NOW,
    engine_config,
    make_campaign,
    reading,
    reply,
)

D = Decimal
NO_LIMITS = {"min_cost": None, "max_cost_without_approval": None}
VIEWS = {1: 70_000, 2: 50_000, 3: 40_000}
USAGE = {"90 days": Fraction(1), "30 days": Fraction(11, 12)}


def _campaign(**changes: object) -> Campaign:
    return make_campaign(budget_constraints=NO_LIMITS, **changes)


def _terms(campaign: Campaign) -> InfluencerTerms:
    tracker = CampaignCPMTracker("cmp-1", D(20), D(30), 3)
    person = InfluencerProfile(
        "Jane Doe", "jane@gmail.com", Platform.INSTAGRAM, "jane", 40_000, D("4.2")
    )
    [row] = build_flexibility_rows(
        campaign, [person], tracker, engine_config().policy.package_value
    )
    return InfluencerTerms.from_flexibility_row(row)


@dataclass(frozen=True)
class Step:
    says: str  # an amount they ask, "yes" or "no"
    action: Action
    offer: str  # our offer on the table after this step (the agreed rate on acceptance)
    scenario: int
    usage: str = "90 days"
    lever: Lever | None = None
    product: bool = False


def _per_1k(amount: Decimal, scenario: int, usage: str) -> Fraction:
    return Fraction(amount) * 1000 / (VIEWS[scenario] * USAGE[usage])


def _converse(campaign: Campaign, steps: list[Step]) -> Negotiation:
    opened = open_negotiation("t", campaign, _terms(campaign), engine_config(), NOW)
    assert opened.email is not None
    assert [a for a, _ in money_mentions(opened.email.body)] == [D("1400.00")]
    n = opened.negotiation
    previous = (D("1400.00"), 1, campaign.usage_rights.target.value)
    for day, step in enumerate(steps, start=1):
        if step.says in ("yes", "no"):
            read = reading(Intent.ACCEPT if step.says == "yes" else Intent.REJECT)
        else:
            read = reading(Intent.COUNTER, step.says)
        outcome = reply(n, read, campaign, day=day)
        n = outcome.negotiation
        where = f"step {day} ({step.says})"
        assert outcome.action is step.action, (where, outcome.reason)
        assert outcome.lever is step.lever, where
        assert (n.levers.scenario, n.levers.usage(campaign).value) == (step.scenario, step.usage)
        assert n.levers.product_offered is step.product, where
        assert outcome.email is not None and outcome.gate is not None and outcome.gate.passed
        stated = {a for a, _ in money_mentions(outcome.email.body)}
        if step.action is Action.ACCEPT:
            assert outcome.agreed_rate == D(step.offer), where
            assert outcome.agreed_package is not None
            assert outcome.agreed_package.scenario == step.scenario
            assert outcome.agreed_package.expected_views == VIEWS[step.scenario]
            expected_cpm = (D(step.offer) * 1000 / VIEWS[step.scenario]).quantize(D("0.01"))
            assert outcome.agreed_cpm == expected_cpm, where  # on the agreed package's views
        elif step.action is Action.REJECT:
            assert outcome.email.kind is EmailKind.DECLINE and stated == set()
            continue
        else:
            assert n.our_last_offer == D(step.offer), where
            ours = {D(step.offer)} if step.action is Action.EXIT else {D(step.offer), D(step.says)}
            assert stated - {D(120)} == ours, where  # our offer, their ask, the product value
        # Never more money for less: less value never comes at a higher price per view.
        amount, scenario, usage = D(step.offer), step.scenario, step.usage
        if VIEWS[scenario] * USAGE[usage] < VIEWS[previous[1]] * USAGE[previous[2]]:
            assert _per_1k(amount, scenario, usage) <= _per_1k(*previous), where
            assert amount < previous[0], where
        previous = (amount, scenario, usage)
    return n


C = Action.SEND_COUNTER
PATHS: dict[str, tuple[dict[str, Any], list[Step]]] = {
    "no lever: the curve, then AC_next": (
        {},
        [
            Step("3000", C, "1460.00", 1),  # 1400 + 6.8% of 868
            Step("2500", C, "1590.00", 1),  # 21.7%
            Step("2100", C, "1770.00", 1),  # 42.7%, below their ask
            Step("1800", Action.ACCEPT, "1800.00", 1),  # at or below our next ($2,000): agree
        ],
    ),
    "scenario 2 then usage rights, accepted": (
        {},
        [
            Step("3500", C, "1460.00", 1),
            Step("3500", C, "1590.00", 1),
            # Firm twice: Reel + Story at the same $22.71 per 1,000 views: 1590 × 50/70 → $1,135
            Step("3500", C, "1135.00", 2, lever=Lever.SCENARIO_2),
            # 5% above Reel + Story's $1,620: keep the deliverables, shorten the rights (× 11/12)
            Step("1700", C, "1040.00", 2, "30 days", Lever.USAGE_RIGHTS),
            Step("yes", Action.ACCEPT, "1040.00", 2, "30 days"),
        ],
    ),
    "scenarios 2 and 3, then the product with our best offer": (
        {},
        [
            Step("3500", C, "1460.00", 1),
            Step("3500", C, "1590.00", 1),
            Step("3500", C, "1135.00", 2, lever=Lever.SCENARIO_2),
            Step("2400", C, "905.00", 3, lever=Lever.SCENARIO_3),  # 1135 × 40/50 = 908 → $905
            # Last round: the Reel at its ceiling ($1,296 → $1,295) with the $120 serum set on top
            Step("1300", C, "1295.00", 3, lever=Lever.PRODUCT, product=True),
            Step("yes", Action.ACCEPT, "1295.00", 3, product=True),
        ],
    ),
    "usage rights only (one scenario, no product)": (
        {
            "scenarios": DeliverableScenarios(scenario_1="1 Instagram Reel, 3 Instagram Stories"),
            "product": ProductLever(available=False),
        },
        [
            Step("2600", C, "1460.00", 1),
            Step("2600", C, "1590.00", 1),
            Step("2600", C, "1455.00", 1, "30 days", Lever.USAGE_RIGHTS),  # 1590 × 11/12
            Step("2150", C, "1830.00", 1, "30 days"),  # the curve on the shorter-rights package
            Step("yes", Action.ACCEPT, "1830.00", 1, "30 days"),
        ],
    ),
    "a small gap keeps the deliverables": (
        {},
        [
            Step("2450", C, "1460.00", 1),  # 8% above the $2,268 ceiling
            Step("2450", C, "1590.00", 1),
            Step("2450", C, "1455.00", 1, "30 days", Lever.USAGE_RIGHTS),  # not scenario 2
            Step("yes", Action.ACCEPT, "1455.00", 1, "30 days"),
        ],
    ),
    "every package refused: polite exit at our best": (
        {},
        [
            Step("4000", C, "1460.00", 1),
            Step("4000", C, "1590.00", 1),
            Step("4000", C, "1135.00", 2, lever=Lever.SCENARIO_2),
            Step("4000", C, "905.00", 3, lever=Lever.SCENARIO_3),
            Step("4000", C, "1295.00", 3, lever=Lever.PRODUCT, product=True),
            Step("4000", Action.EXIT, "1295.00", 3, product=True),
        ],
    ),
    "a mirror is met at the meeting point at once": (
        {},
        [
            Step("3000", C, "1460.00", 1),
            Step("2880", C, "2055.00", 1),  # they matched: √(2880 × 1460) = 2050.56 → $2,055
            Step("yes", Action.ACCEPT, "2055.00", 1),
        ],
    ),
    "a mirror that stops moving within the ceiling: its floor is accepted": (
        {},
        [
            Step("3000", C, "1460.00", 1),
            Step("2880", C, "2055.00", 1),
            Step("2200", C, "2130.00", 1),  # still a mirror: √(2200 × 2055) = 2126.26 → $2,130
            Step("2200", Action.ACCEPT, "2200.00", 1),  # no move for our raise: their floor
        ],
    ),
    "a mirror beyond the ceiling: our best offer, then the levers at that price per view": (
        {},
        [
            Step("4000", C, "1460.00", 1),
            Step("3840", C, "2265.00", 1),  # √(3840 × 1460) = 2367.8, capped at the $2,268 ceiling
            # 2480 is within 10% of the ceiling: keep the deliverables, 2265 × 11/12 → $2,075
            Step("2480", C, "2075.00", 1, "30 days", Lever.USAGE_RIGHTS),
            Step("2270", C, "2075.00", 1, "30 days", Lever.PRODUCT, product=True),
            Step("yes", Action.ACCEPT, "2075.00", 1, "30 days", product=True),
        ],
    ),
    "a mirror's floor above the ceiling: the next package at our best price per view": (
        {},
        [
            Step("3000", C, "1460.00", 1),
            Step("2880", C, "2055.00", 1),
            Step("2500", C, "2265.00", 1),  # √(2500 × 2055) = 2266.6 → our best, $2,265
            Step("2500", C, "1615.00", 2, lever=Lever.SCENARIO_2),  # 2265 × 50/70 = 1617.9
            Step("yes", Action.ACCEPT, "1615.00", 2),
        ],
    ),
    "a mirror's floor a product cannot bridge: the product comes last": (
        {"usage_rights": UsageRights(target="30 days", minimum="30 days")},
        [
            Step("3000", C, "1460.00", 1, "30 days"),
            Step("2880", C, "2055.00", 1, "30 days"),
            Step("2450", C, "2245.00", 1, "30 days"),  # √(2450 × 2055) = 2243.8 → $2,245
            # $182 above the ceiling and firm: the $120 product cannot close it, so Reel + Story
            # at the same price per view (2245 × 50/70 = 1603.6 → $1,600) comes before it
            Step("2450", C, "1600.00", 2, "30 days", Lever.SCENARIO_2),
            Step("yes", Action.ACCEPT, "1600.00", 2, "30 days"),
        ],
    ),
    "a decline gets a short close": (
        {},
        [Step("2600", C, "1460.00", 1), Step("no", Action.REJECT, "1460.00", 1)],
    ),
}


@pytest.mark.parametrize("path", list(PATHS), ids=list(PATHS))
def test_whole_negotiation(path: str) -> None:
    changes, steps = PATHS[path]
    n = _converse(_campaign(**changes), steps)
    assert not n.is_waiting
    final = steps[-1].action
    expected = {
        Action.ACCEPT: NegotiationState.AGREED,
        Action.EXIT: NegotiationState.REJECTED,
        Action.REJECT: NegotiationState.REJECTED,
    }[final]
    assert n.state is expected


def test_scope_levers_never_raise_the_money_offered() -> None:
    """The reproduction: before packages had values each lever raised the money."""
    campaign = _campaign()
    n = open_negotiation("t", campaign, _terms(campaign), engine_config(), NOW).negotiation
    trail = [(n.levers.scenario, n.our_last_offer)]
    for day, ask in enumerate(["3200", "3100", "3000", "3000", "3000"], start=1):
        n = reply(n, reading(Intent.COUNTER, ask), campaign, day=day).negotiation
        trail.append((n.levers.scenario, n.our_last_offer))
    assert any(s > 1 for s, _ in trail), "the asks should have moved us to a lighter package"
    for (before_s, before), (after_s, after) in pairwise(trail):
        if after_s > before_s:
            assert after is not None and before is not None and after < before, trail


def test_the_agreed_package_and_the_reasons_go_with_the_outcome() -> None:
    campaign = _campaign()
    n = open_negotiation("t", campaign, _terms(campaign), engine_config(), NOW).negotiation
    for day, ask in enumerate(["3500", "3500", "3500"], start=1):
        outcome = reply(n, reading(Intent.COUNTER, ask), campaign, day=day)
        n = outcome.negotiation
    facts = outcome.facts
    assert facts["lever"] == "scenario_2" and facts["package_after"].startswith("scenario 2")
    assert "not come down" in facts["rule"] and facts["ceiling_after"] == "$1,620.00"
    assert facts["curve"] == "exponent 0.6" and facts["round"] == "3 of 5"
    done = reply(n, reading(Intent.ACCEPT), campaign, day=4)
    package = done.agreed_package
    assert package is not None
    assert package.describe() == "1 Instagram Reel, 1 Instagram Story; usage 90 days"
    assert done.negotiation.agreed_package == package
    assert Negotiation.from_dict(done.negotiation.to_dict()).agreed_package == package


def _asked(campaign: Campaign, asks: list[str]) -> list[Outcome]:
    n = open_negotiation("t", campaign, _terms(campaign), engine_config(), NOW).negotiation
    outcomes = []
    for day, ask in enumerate(asks, start=1):
        outcomes.append(reply(n, reading(Intent.COUNTER, ask), campaign, day=day))
        n = outcomes[-1].negotiation
    return outcomes


def test_a_mirror_move_and_its_numbers_go_to_the_audit_trail() -> None:
    *_, met = _asked(_campaign(), ["3000", "2880"])
    assert met.facts["their_concessions"] == "match ours"
    assert met.facts["meeting_offer"] == "$2,055.00" == met.facts["offer"]
    assert "where matching ends" in met.facts["rule"] and met.facts["rule"] == met.reason
    *_, floor = _asked(_campaign(), ["3000", "2880", "2200", "2200"])
    assert floor.facts["their_concessions"] == "at their floor"
    assert "their floor" in floor.facts["rule"] and floor.agreed_rate == D("2200.00")


@pytest.mark.parametrize(
    ("second_ask", "why"),
    [
        ("2500", "a cut four times the matching one follows their own schedule"),
        ("2900", "asks in $100 steps: our 4.3% raise would buy at most one step back"),
    ],
)
def test_only_a_readable_matching_cut_makes_a_mirror(second_ask: str, why: str) -> None:
    *_, second = _asked(_campaign(), ["3000", second_ask])
    assert second.negotiation.our_last_offer == D("1590.00"), why  # the curve's 21.7%
    assert "their_concessions" not in second.facts and "meeting_offer" not in second.facts


def test_the_offer_each_ask_answered_is_known_only_when_every_reply_named_one() -> None:
    campaign = _campaign()
    first, second = _asked(campaign, ["3000", "2880"])
    # As when their next reply is handled: each ask answered the offer before it.
    assert answered_offers(replace(second.negotiation, replies_received=3)) == (
        D("1400.00"),
        D("1460.00"),
    )
    asks_terms = reading(Intent.QUESTION, text="What are the payment terms?")
    question = reply(first.negotiation, asks_terms, campaign, day=2).negotiation
    assert question.our_last_offer == D("1460.00") and question.round_count == 2
    asked = reply(question, reading(Intent.COUNTER, "2880"), campaign, day=3)
    assert answered_offers(replace(asked.negotiation, replies_received=4)) == (None, None)
    assert asked.negotiation.our_last_offer != D("2055.00")  # no meeting without the evidence
