"""Simulator: seeded and deterministic, realistic replies, every persona reaches its outcome."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.sandbox.simulation import simulator
from negotiation_pipeline.sandbox.simulation.simulator import (
    Persona,
    SimulatedInfluencer,
    simulate,
)
from tests.domain.negotiation.engine_support import engine_config, make_campaign, opened
from tests.support.reading import read_reply


@pytest.fixture(scope="module")
def summary() -> dict[str, object]:
    return simulate(4, 30, seed=11, config=engine_config())


def test_same_seed_same_result_and_another_seed_differs(summary: dict[str, object]) -> None:
    assert simulate(4, 30, seed=11, config=engine_config()) == summary
    assert simulate(4, 30, seed=12, config=engine_config()) != summary


def test_campaigns_in_worker_processes_give_the_same_summary(summary: dict[str, object]) -> None:
    assert simulate(4, 30, seed=11, config=engine_config(), workers=3) == summary


def test_a_campaign_whose_draws_would_differ_apart_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replayed = simulator._skip_campaign

    def one_draw_more(c, influencers, rng, config) -> None:
        replayed(c, influencers, rng, config)
        rng.random()

    monkeypatch.setattr(simulator, "_skip_campaign", one_draw_more)
    with pytest.raises(RuntimeError, match="campaign 0 drew differently"):
        simulate(2, 3, seed=11, config=engine_config(), workers=2)


def test_observing_the_runs_needs_them_in_this_process() -> None:
    with pytest.raises(ValueError, match="workers=1"):
        simulate(2, 3, seed=11, config=engine_config(), workers=2, observe=lambda run, out: None)
    seen: list[str] = []
    simulate(2, 3, seed=11, config=engine_config(), observe=lambda run, out: seen.append("x"))
    assert len(seen) == 6


def test_summary_adds_up(summary: dict[str, object]) -> None:
    states = summary["final_states"]
    assert isinstance(states, dict)
    assert sum(states.values()) == summary["negotiations"] == 120
    agreed = states.get("agreed", 0)
    assert Decimal(str(summary["close_rate"])) == (Decimal(agreed) / 120).quantize(Decimal("0.001"))
    assert agreed > 0 and Decimal(str(summary["budget_used"])) > 0
    assert summary["agreements_within_target_max"] <= agreed
    rounds = summary["rounds"]
    assert isinstance(rounds, dict) and rounds["max"] <= engine_config().policy.max_rounds
    assert "replies_per_second" not in summary  # only with a clock


def test_each_persona_ends_where_it_should(summary: dict[str, object]) -> None:
    by_persona = summary["final_states_by_persona"]
    assert isinstance(by_persona, dict)
    assert set(by_persona) == {p.value for p in Persona}
    assert set(by_persona["ghost"]) <= {"stale", "escalated"}
    assert by_persona["ghost"].get("stale", 0) > 0
    assert by_persona["decliner"].get("rejected", 0) > 0
    assert by_persona["euro_asker"].get("escalated", 0) > 0
    reasons = summary["escalation_reasons"]
    assert isinstance(reasons, dict) and reasons.get("currency", 0) > 0


def _person(persona: Persona, reservation: str, **extra: object) -> SimulatedInfluencer:
    return SimulatedInfluencer(
        persona=persona,
        name="Jane Doe",
        email="jane@gmail.com",
        reservation=Decimal(reservation),
        followers=250_000,
        rng=random.Random(3),
        **extra,  # type: ignore[arg-type]
    )


def test_replies_quote_our_email_gmail_style_and_the_reader_sees_only_the_new_text() -> None:
    first = opened()
    assert first.email is not None
    person = _person(Persona.HARD_BARGAINER, "1800")
    text = person.answer(first.email, first.negotiation, make_campaign())
    assert text is not None
    assert "wrote:\n> Hi Jane," in text
    reading = read_reply(text, our_offer=first.negotiation.our_last_offer)
    assert reading.intent is Intent.COUNTER
    assert reading.proposed_rate is not None and reading.proposed_rate >= Decimal("1800")
    assert "Rate: $1,000.00" not in reading.new_text


def test_manager_signs_formally_with_a_phone_number() -> None:
    first = opened()
    assert first.email is not None
    person = _person(
        Persona.TALENT_MANAGER,
        "1500",
        manager_name="Jordan Miles",
        manager_email="jordan@brightlinetalent.com",
        agency="Brightline Talent",
    )
    text = person.answer(first.email, first.negotiation, make_campaign())
    assert text is not None
    assert "Talent Manager | Brightline Talent\n+1 (310) 555-0" in text
    assert person.sender == "Jordan Miles <jordan@brightlinetalent.com>"


def test_ghost_never_answers_and_accepter_takes_a_good_offer() -> None:
    first = opened()
    assert first.email is not None
    assert (
        _person(Persona.GHOST, "1").answer(first.email, first.negotiation, make_campaign()) is None
    )
    happy = _person(Persona.EARLY_ACCEPTER, "900")
    text = happy.answer(first.email, first.negotiation, make_campaign())
    assert text is not None
    assert read_reply(text, our_offer=Decimal("1000")).intent in (Intent.ACCEPT, Intent.UNCLEAR)


# --- standard opponents and the per-type table ----------------------------------------------------
def test_every_opponent_type_has_a_row_with_every_column(summary: dict[str, object]) -> None:
    from negotiation_pipeline.sandbox.simulation.metrics import TABLE_COLUMNS
    from negotiation_pipeline.sandbox.simulation.opponents import OpponentType

    rows = summary["by_opponent"]
    assert isinstance(rows, dict)
    assert {t.value for t in OpponentType} <= set(rows) and "all" in rows
    total = rows["all"]
    assert total["negotiations"] == 120
    assert sum(rows[t.value]["negotiations"] for t in OpponentType) > 0
    for row in rows.values():
        assert set(TABLE_COLUMNS) <= set(row)
        assert row["closeable"] <= row["negotiations"]
        assert row["ceiling_breaches"] == row["non_monotone_offers"] == 0
        assert row["more_money_for_less"] == 0
    table = summary["by_opponent_markdown"]
    assert isinstance(table, str) and table.startswith("| opponent | negotiations | closeable |")


def _opponent(kind: str, reservation: str, **traits: object):
    from negotiation_pipeline.sandbox.simulation.opponents import Opponent, OpponentType

    fields: dict[str, object] = {
        "kind": OpponentType(kind),
        "name": "Jane Doe",
        "email": "jane@gmail.com",
        "reservation": Decimal(reservation),
        "scope_cost": {1: Decimal(1), 2: Decimal("0.7"), 3: Decimal("0.6")},
        "usage_cost": Decimal("0.85"),
        "product_share": Decimal("0.5"),
        "markup": Decimal("0.5"),
        "deadline": 4,
        "rng": random.Random(1),
    }
    fields.update(traits)
    return Opponent(**fields)  # type: ignore[arg-type]


def _asks(person, rounds: int) -> list[Decimal | None]:
    """Their asks to a standing $1,000 offer, read by the real reply reader."""
    first = opened()
    assert first.email is not None
    asks = []
    for _ in range(rounds):
        text = person.answer(first.email, first.negotiation, make_campaign(), Decimal(50_000))
        asks.append(read_reply(text, our_offer=Decimal(1000)).proposed_rate if text else None)
    return asks


def test_time_dependent_tacticians_concede_in_their_own_shape() -> None:
    # Reservation $1,200, opening ask $1,800, deadline 4: Boulware holds, Conceder drops fast.
    boulware = _asks(_opponent("boulware", "1200"), 4)
    conceder = _asks(_opponent("conceder", "1200"), 4)
    linear = _asks(_opponent("linear", "1200"), 4)
    assert boulware[0] == conceder[0] == linear[0] == Decimal(1800)
    assert boulware[1] is not None and conceder[1] is not None and linear[1] is not None
    assert conceder[1] < linear[1] < boulware[1]  # after one round
    assert linear == [Decimal(1800), Decimal(1650), Decimal(1500), Decimal(1350)]


def test_hardliner_never_moves_and_anchor_folds_to_its_reservation() -> None:
    assert _asks(_opponent("hardliner", "1300", markup=Decimal(0)), 3) == [Decimal(1300)] * 3
    anchor = _asks(_opponent("anchor_then_fold", "1300", markup=Decimal("0.8"), hold=2), 3)
    assert anchor == [Decimal(2350), Decimal(2350), Decimal(1300)]


def test_opponents_accept_an_offer_at_their_current_ask_and_settle_after_the_deadline() -> None:
    first = opened()
    assert first.email is not None
    person = _opponent("linear", "900")  # their first ask $1,350 is above our $1,000
    text = person.answer(first.email, first.negotiation, make_campaign(), Decimal(50_000))
    assert read_reply(text, our_offer=Decimal(1000)).intent is Intent.COUNTER
    late = _opponent("boulware", "950", deadline=1)
    late.replies = 1  # past their deadline: anything at or above the reservation will do
    text = late.answer(first.email, first.negotiation, make_campaign(), Decimal(50_000))
    assert read_reply(text, our_offer=Decimal(1000)).intent is Intent.ACCEPT


def test_package_changes_move_an_opponents_price_by_its_own_costs() -> None:
    from negotiation_pipeline.domain.enums import UsageRightsDuration
    from negotiation_pipeline.domain.negotiation.policy import LeverState

    person = _opponent("linear", "1000")
    campaign = make_campaign()
    assert person.reservation_for(LeverState(scenario=2), campaign) == Decimal("700.00")
    shorter = LeverState(scenario=2, usage_rights=UsageRightsDuration.DAYS_30)
    assert person.reservation_for(shorter, campaign) == Decimal("595.00")
    with_product = LeverState(
        scenario=2, usage_rights=UsageRightsDuration.DAYS_30, product_offered=True
    )
    assert person.reservation_for(with_product, campaign) == Decimal("535.00")  # half of $120


def test_the_trace_check_counts_each_violation() -> None:
    from negotiation_pipeline.sandbox.simulation.metrics import OfferPoint, check_trace

    step = Decimal(5)
    good = [
        OfferPoint(Decimal(1000), Decimal(70_000), Decimal(2000)),
        OfferPoint(Decimal(1100), Decimal(70_000), Decimal(2000), Decimal(3000)),
        OfferPoint(Decimal(785), Decimal(50_000), Decimal(1500), Decimal(3000)),  # 1100 × 5/7
        OfferPoint(Decimal(900), Decimal(50_000), Decimal(1500), Decimal(900), agreement=True),
    ]
    assert check_trace(good, step) == check_trace([], step)
    bad = [
        OfferPoint(Decimal(1000), Decimal(70_000), Decimal(2000)),
        OfferPoint(Decimal(990), Decimal(70_000), Decimal(2000), Decimal(3000)),  # went down
        OfferPoint(Decimal(800), Decimal(50_000), Decimal(1500), Decimal(3000)),  # 990×5/7=707
        OfferPoint(Decimal(650), Decimal(40_000), Decimal(600), Decimal(620)),  # 800×4/5=640
    ]
    result = check_trace(bad, step)
    assert result.non_monotone == 1 and result.more_for_less == 2
    assert result.ceiling_breaches == 1 and result.above_their_ask == 1
