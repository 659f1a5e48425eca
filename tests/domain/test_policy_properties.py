"""Hypothesis properties of the policy, over whole negotiations through the real engine:
offers never leave [floor/min cost, ceiling], never exceed the ask they answer, only move up,
and every negotiation stops waiting within max_rounds + 1 replies."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_pipeline.domain.campaign import BudgetConstraints
from negotiation_pipeline.domain.negotiation import Action, open_negotiation
from negotiation_pipeline.domain.policy import (
    ConcessionPolicy,
    PriceBounds,
    PriceMove,
    decide_price,
    price_bounds,
)
from negotiation_pipeline.domain.types import Intent
from tests.domain.engine_support import (
    NOW,
    engine_config,
    make_campaign,
    make_terms,
    reading,
    reply,
)

cents = st.integers(min_value=10_000, max_value=2_000_000).map(lambda c: Decimal(c) / 100)
ratio = st.integers(min_value=100, max_value=300).map(lambda p: Decimal(p) / 100)

replies = st.lists(
    st.tuples(
        st.sampled_from(
            [Intent.COUNTER, Intent.COUNTER, Intent.COUNTER, Intent.ACCEPT, Intent.QUESTION]
        ),
        st.none() | st.integers(min_value=30, max_value=450),  # ask as % of the ceiling
    ),
    min_size=1,
    max_size=12,
)


@st.composite
def setups(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    floor = draw(cents)
    ceiling = (floor * draw(ratio)).quantize(Decimal("0.01"))
    min_cost = draw(
        st.none() | st.integers(0, 120).map(lambda p: (ceiling * p / 100).quantize(Decimal(1)))
    )
    max_cost = draw(
        st.none() | st.integers(80, 300).map(lambda p: (ceiling * p / 100).quantize(Decimal(1)) + 1)
    )
    campaign = make_campaign(
        budget_constraints=BudgetConstraints(min_cost=min_cost, max_cost_without_approval=max_cost)
    )
    terms = make_terms(floor_rate=floor, ceiling_rate=ceiling)
    return campaign, terms


@settings(max_examples=150, deadline=None)
@given(setup=setups(), script=replies)
def test_offers_stay_in_bounds_below_the_ask_monotone_and_terminate(setup, script) -> None:  # type: ignore[no-untyped-def]
    campaign, terms = setup
    config = engine_config()
    bounds = price_bounds(terms.floor_rate, terms.ceiling_rate, campaign)
    outcome = open_negotiation("t", campaign, terms, config, NOW)
    if not bounds.is_feasible:
        assert outcome.action is Action.ESCALATE and outcome.email is None
        return
    n = outcome.negotiation
    assert n.our_last_offer == bounds.floor
    max_rounds = config.policy.max_rounds
    replies_handled = 0
    # Repeat the script so every negotiation meets more replies than it can ever need.
    for day, (intent, pct) in enumerate(script * (max_rounds + 2), start=1):
        if not n.is_waiting:
            break
        ask = (
            None if pct is None else str((terms.ceiling_rate * pct / 100).quantize(Decimal("0.01")))
        )
        text = "What are the payment terms?" if intent is Intent.QUESTION else ""
        outcome = reply(n, reading(intent, ask, text=text), campaign, day=day)
        replies_handled += 1
        n = outcome.negotiation
        if outcome.action is Action.SEND_COUNTER and ask is not None:
            assert n.our_last_offer is not None and n.our_last_offer < Decimal(ask)
        if outcome.action is Action.ACCEPT:
            assert outcome.agreed_rate is not None and outcome.agreed_rate <= bounds.ceiling
            if ask is not None:
                assert outcome.agreed_rate <= Decimal(ask)
        if outcome.email is not None:
            assert outcome.gate is not None and outcome.gate.passed, outcome.gate
            assert outcome.escalation is None
    for offer in n.offers:
        assert bounds.floor <= offer <= bounds.ceiling
    assert list(n.offers) == sorted(n.offers)
    assert n.round_count <= max_rounds
    assert not n.is_waiting, "a negotiation must end (agree, reject, exit, escalate)"
    assert replies_handled <= max_rounds + 1


@settings(max_examples=400, deadline=None)
@given(
    floor=cents,
    spread=ratio,
    position=st.integers(0, 100),
    ask_pct=st.none() | st.integers(1, 500),
    fraction=st.integers(1, 99),
    round_to=st.sampled_from([Decimal("0.01"), Decimal(1), Decimal(5), Decimal(50)]),
    last_round=st.booleans(),
)
def test_decide_price_invariants(
    floor, spread, position, ask_pct, fraction, round_to, last_round
) -> None:  # type: ignore[no-untyped-def]
    ceiling = (floor * spread).quantize(Decimal("0.01"))
    bounds = PriceBounds(floor, ceiling)
    last = (floor + (ceiling - floor) * position / 100).quantize(Decimal("0.01"))
    ask = None if ask_pct is None else (ceiling * ask_pct / 100).quantize(Decimal("0.01"))
    policy = ConcessionPolicy(step_fraction=Decimal(fraction) / 100, round_to=round_to)
    result = decide_price(
        their_ask=ask, our_last_offer=last, bounds=bounds, policy=policy, last_round=last_round
    )
    if result.move is PriceMove.ACCEPT:
        assert ask is not None and result.rate == ask
        assert ask <= last or ask <= ceiling
    else:
        assert last <= result.rate <= ceiling
        if ask is not None:
            assert result.rate < ask
        if result.move is PriceMove.ABOVE_CEILING:
            assert ask is not None and ask > ceiling
