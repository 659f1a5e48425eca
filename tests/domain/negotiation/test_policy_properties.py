"""Hypothesis properties of the strategy, over whole negotiations through the real engine: no
sequence of asks makes us offer above the package's ceiling, below its floor, at or above the
ask we answer, less than before for the same package, less per view than before (beyond one
rounding step), or more money for less (scope or usage down at a higher price per view); every
amount we state is on the rounding step; every negotiation stops waiting within
max_rounds + 1 replies; every email passes the gate.

The package limits are recomputed here from the cpm_flexibility row and the policy file, not
taken from the engine."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from hypothesis import event, given, settings
from hypothesis import strategies as st

from negotiation_pipeline.domain.campaigns.campaign import (
    BudgetConstraints,
    Campaign,
    DeliverableScenarios,
    ProductLever,
    UsageRights,
)
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Intent, Platform, UsageRightsDuration
from negotiation_pipeline.domain.negotiation.concession import (
    LeverOption,
    MoveKind,
    PricedTerm,
    Situation,
    decide,
)
from negotiation_pipeline.domain.negotiation.engine import (
    Action,
    InfluencerTerms,
    Negotiation,
    open_negotiation,
)
from negotiation_pipeline.domain.negotiation.policy import (
    ConcessionPolicy,
    Lever,
    LeverState,
    apply_lever,
    next_lever,
)
from negotiation_pipeline.domain.negotiation.pricing import Package, PackageBounds
from tests.domain.negotiation.engine_support import (
    NOW,
    engine_config,
    make_campaign,
    reading,
    reply,
)

D = Decimal
U = UsageRightsDuration
STEP = engine_config().policy.concession.round_to

PACKAGES = [
    ("1 Instagram Reel, 3 Instagram Stories", "1 Instagram Reel, 1 Instagram Story", "1 Reel"),
    ("2 TikTok videos, 1 TikTok story", "1 TikTok video", None),
    ("1 YouTube integration, 1 YouTube Short", None, "1 YouTube Short"),
    ("1 sponsored post", None, None),
]
USAGE = [(U.DAYS_90, U.DAYS_30), (U.MONTHS_6, U.DAYS_60), (U.DAYS_30, U.DAYS_30)]

replies = st.lists(
    st.tuples(
        st.sampled_from(
            [Intent.COUNTER, Intent.COUNTER, Intent.COUNTER, Intent.ACCEPT, Intent.QUESTION]
        ),
        st.none() | st.integers(min_value=30, max_value=240),  # ask as % of scenario 1's ceiling
    ),
    min_size=1,
    max_size=12,
)


@st.composite
def setups(draw: st.DrawFn) -> tuple[Campaign, InfluencerTerms]:
    s1, s2, s3 = draw(st.sampled_from(PACKAGES))
    target, minimum = draw(st.sampled_from(USAGE))
    min_cpm = D(draw(st.integers(10, 40)))
    max_cpm = min_cpm * D(draw(st.integers(100, 160))) / 100
    views = draw(st.integers(1, 400)) * 1000
    product = draw(st.booleans())
    base = make_campaign(
        cpm_range={"min_cpm": min_cpm, "max_cpm": max_cpm.quantize(D("0.01"))},
        scenarios=DeliverableScenarios(scenario_1=s1, scenario_2=s2, scenario_3=s3),
        usage_rights=UsageRights(target=target, minimum=minimum),
        product=ProductLever(available=product, description="a kit", value="90"),
    )
    tracker = CampaignCPMTracker("cmp-1", min_cpm, max_cpm, 3)
    profile = InfluencerProfile(
        "Jane Doe", "jane@gmail.com", Platform.INSTAGRAM, "jane", views, D("4.2")
    )
    [row] = build_flexibility_rows(base, [profile], tracker, engine_config().policy.package_value)
    ceiling = row.ceiling_rate
    min_cost = draw(
        st.none() | st.integers(0, 110).map(lambda p: (ceiling * p / 100).quantize(D(1)))
    )
    max_cost = draw(
        st.none() | st.integers(60, 300).map(lambda p: (ceiling * p / 100).quantize(D(1)) + 1)
    )
    constraints = BudgetConstraints(min_cost=min_cost, max_cost_without_approval=max_cost)
    campaign = base.model_copy(update={"budget_constraints": constraints})
    [row] = build_flexibility_rows(
        campaign, [profile], tracker, engine_config().policy.package_value
    )
    return campaign, InfluencerTerms.from_flexibility_row(row)


@dataclass(frozen=True)
class Limit:
    weight: Fraction  # expected views × the usage term's configured value
    floor: Decimal
    ceiling: Decimal


def limit(terms: InfluencerTerms, campaign: Campaign, levers: LeverState) -> Limit:
    """The package's bounds from the row's scenario columns and the policy's usage values."""
    price = next(p for p in terms.scenarios if p.scenario == levers.scenario)
    worth = engine_config().policy.package_value.usage_rights_value
    usage, target = levers.usage(campaign), campaign.usage_rights.target
    factor = Fraction(worth[usage]) / Fraction(worth[target])
    floor = Fraction(price.opening_rate) * factor
    ceiling = Fraction(price.ceiling_rate) * factor
    constraints = campaign.budget_constraints
    if constraints.min_cost is not None:
        floor = max(floor, Fraction(constraints.min_cost))
    if constraints.max_cost_without_approval is not None:
        ceiling = min(ceiling, Fraction(constraints.max_cost_without_approval))
    to_cents = lambda f: D(round(f * 100)) / 100  # noqa: E731
    return Limit(price.expected_views * Fraction(worth[usage]), to_cents(floor), to_cents(ceiling))


def _fits(lim: Limit) -> bool:
    return lim.floor <= lim.ceiling


def _opening_candidates(campaign: Campaign, order: tuple[Lever, ...]) -> list[LeverState]:
    """Scenario 1, then each package the lever order reaches in turn, as a negotiation that
    spends one lever after another would."""
    states = [LeverState()]
    while (lever := next_lever(states[-1], campaign, order)) is not None:
        states.append(apply_lever(states[-1], lever, campaign))
    return states


def _check_offer(prev: tuple[Decimal, Limit] | None, amount: Decimal, lim: Limit) -> None:
    assert amount <= lim.ceiling, f"{amount} above the package ceiling {lim.ceiling}"
    assert amount >= lim.floor, f"{amount} below the package floor {lim.floor}"
    if prev is None:
        return
    before, before_limit = prev
    kept = Fraction(before) * lim.weight / before_limit.weight  # same price per view
    assert lim.weight <= before_limit.weight, "we never ask for more than before"
    if lim.weight == before_limit.weight:
        assert amount >= before, f"offer went down for the same package: {before} -> {amount}"
    else:
        assert Fraction(amount) <= kept, f"more money for less: {before} -> {amount}"
        assert kept - Fraction(amount) < Fraction(STEP), "price per view fell by a step"


@settings(max_examples=200, deadline=None)
@given(setup=setups(), script=replies)
def test_no_sequence_of_asks_breaches_or_pays_more_for_less(setup, script) -> None:
    campaign, terms = setup
    config = engine_config()
    outcome = open_negotiation("t", campaign, terms, config, NOW)
    scenario_1 = limit(terms, campaign, LeverState())
    reachable = _opening_candidates(campaign, config.policy.concession.lever_order)
    fitting = [s for s in reachable if _fits(limit(terms, campaign, s))]
    if not fitting:
        assert outcome.action is Action.ESCALATE and outcome.email is None
        return
    # The first package the lever order reaches that fits its ceiling is the one offered:
    # scenario 1 whenever it fits, else less work for less money, never a price above a ceiling.
    assert outcome.negotiation.levers == fitting[0]
    assert fitting[0] == LeverState() or not _fits(scenario_1)
    first = limit(terms, campaign, fitting[0])
    n: Negotiation = outcome.negotiation
    assert n.our_last_offer is not None
    _check_offer(None, n.our_last_offer, first)
    last: tuple[Decimal, Limit] = (n.our_last_offer, first)
    max_rounds, handled = config.policy.max_rounds, 0
    for day, (intent, pct) in enumerate(script * (max_rounds + 2), start=1):
        if not n.is_waiting:
            break
        ask = None if pct is None else str((terms.ceiling_rate * pct / 100).quantize(D("0.01")))
        text = "What are the payment terms?" if intent is Intent.QUESTION else ""
        outcome = reply(n, reading(intent, ask, text=text), campaign, day=day)
        handled += 1
        n = outcome.negotiation
        lim = limit(terms, campaign, n.levers)
        if outcome.email is not None:
            assert outcome.gate is not None and outcome.gate.passed, outcome.gate
        if outcome.action is Action.SEND_COUNTER:
            assert n.our_last_offer is not None
            if ask is not None:
                assert n.our_last_offer < D(ask), "never at or past their ask"
            if lim.ceiling - lim.floor >= STEP:  # else no step amount fits: cents are allowed
                assert n.our_last_offer % STEP == 0, f"unrounded offer {n.our_last_offer}"
            _check_offer(last, n.our_last_offer, lim)
            last = (n.our_last_offer, lim)
        if outcome.action is Action.ACCEPT:
            assert outcome.agreed_rate is not None and outcome.agreed_rate <= lim.ceiling
            if ask is not None:
                assert outcome.agreed_rate <= D(ask)
            assert outcome.agreed_package is not None
            assert outcome.agreed_package.scenario == n.levers.scenario
    assert n.round_count <= max_rounds
    assert not n.is_waiting, "a negotiation must end (agree, reject, exit, escalate)"
    assert handled <= max_rounds + 1


def _bounds(views: int, floor: str, ceiling: str, scenario: int = 1) -> PackageBounds:
    return PackageBounds(
        package=Package(scenario, U.DAYS_90),
        expected_views=views,
        value_views=D(views),
        floor=D(floor),
        ceiling=D(ceiling),
        value_weight=D(views),
    )


@settings(max_examples=400, deadline=None)
@given(
    views=st.integers(1_000, 500_000),
    spread=st.integers(100, 300),
    position=st.integers(0, 100),
    round_=st.integers(0, 6),
    ask_pct=st.none() | st.integers(1, 400),
    exponent=st.sampled_from([D("0.3"), D("0.6"), D(1), D(3)]),
    step=st.sampled_from([D(1), D(5), D(25)]),
    shares=st.lists(st.integers(20, 99), max_size=2),
    asks=st.lists(st.integers(50, 400), max_size=4),
)
def test_decide_keeps_every_move_inside_the_package_limits(
    views, spread, position, round_, ask_pct, exponent, step, shares, asks
) -> None:
    floor = (D(views) * D(20) / 1000).quantize(D("0.01"))
    ceiling = (floor * spread / 100).quantize(D("0.01"))
    bounds = _bounds(views, str(floor), str(ceiling))
    policy = ConcessionPolicy(exponent=exponent, round_to=step)
    last = (floor + (ceiling - floor) * position / 100).quantize(D("0.01"))
    options = []
    for number, share in enumerate(shares, start=2):
        v = views * share // 100 or 1
        after = _bounds(v, str(floor * share / 100), str(ceiling * share / 100), number)
        options.append(LeverOption(Lever.SCENARIO_2, LeverState(scenario=number), after))
    history = tuple(
        PricedTerm(ceiling * p / 100, bounds.price_per_1k(ceiling * p / 100)) for p in asks
    )
    situation = Situation(bounds, last, round_, 5, history, tuple(options))
    ask = None if ask_pct is None else (ceiling * ask_pct / 100).quantize(D("0.01"))
    move = decide(situation, ask, policy)
    assert move.reason and move.facts.get("rule")
    if move.kind is MoveKind.ACCEPT:
        assert ask is not None and move.rate == ask <= ceiling
    elif move.kind is MoveKind.COUNTER:
        assert move.rate is not None and last <= move.rate <= ceiling
        assert ask is None or move.rate < ask
    elif move.kind is MoveKind.LEVER:
        assert move.lever is not None and move.rate is not None
        after = move.lever.bounds
        assert move.rate <= after.ceiling and move.rate < (ask or move.rate + 1)
        mine, theirs = Fraction(bounds.value_weight), Fraction(after.value_weight)
        assert Fraction(move.rate) * mine <= Fraction(last) * theirs
    else:
        assert move.kind is MoveKind.EXIT and ask is not None and ask > ceiling


@settings(max_examples=150, deadline=None)
@given(
    setup=setups(),
    markup=st.integers(10, 120),
    floor_pct=st.integers(40, 160),
    rounding=st.sampled_from([D(1), D(10), D(50)]),
    looseness=st.integers(80, 125),
)
def test_a_mirroring_creator_never_gets_a_breach_or_more_money_for_less(
    setup, markup, floor_pct, rounding, looseness
) -> None:
    """A tit-for-tat creator: each ask comes down (per value-weighted view) by about the share
    our offer went up, never below their floor, rounded to their step."""
    campaign, terms = setup
    config = engine_config()
    outcome = open_negotiation("t", campaign, terms, config, NOW)
    first = limit(terms, campaign, LeverState())
    if first.floor > first.ceiling:
        return
    n: Negotiation = outcome.negotiation
    assert n.our_last_offer is not None
    last: tuple[Decimal, Limit] = (n.our_last_offer, first)
    floor = Fraction(terms.ceiling_rate) * floor_pct / 100
    ask_per_view = Fraction(terms.ceiling_rate) * (100 + markup) / 100 / first.weight
    ours_before: Fraction | None = None
    for day in range(1, config.policy.max_rounds + 3):
        if not n.is_waiting:
            break
        lim = limit(terms, campaign, n.levers)
        ours = Fraction(n.our_last_offer or 0) / lim.weight
        if ours_before is not None and ours > ours_before:
            ask_per_view *= 1 - (1 - ours_before / ours) * looseness / 100
        ours_before = ours
        wanted = max(ask_per_view * lim.weight, floor * lim.weight / first.weight)
        ask = max(D(math.ceil(wanted / Fraction(rounding))) * rounding, rounding)
        ask_per_view = Fraction(ask) / lim.weight
        outcome = reply(n, reading(Intent.COUNTER, str(ask)), campaign, day=day)
        event(outcome.facts.get("their_concessions", "not read as a mirror"))
        n = outcome.negotiation
        lim = limit(terms, campaign, n.levers)
        if outcome.email is not None:
            assert outcome.gate is not None and outcome.gate.passed, outcome.gate
        if outcome.action is Action.SEND_COUNTER:
            assert n.our_last_offer is not None and n.our_last_offer < ask
            _check_offer(last, n.our_last_offer, lim)
            last = (n.our_last_offer, lim)
        if outcome.action is Action.ACCEPT:
            assert outcome.agreed_rate is not None
            assert outcome.agreed_rate <= min(lim.ceiling, ask)
    assert n.round_count <= config.policy.max_rounds
    assert not n.is_waiting
