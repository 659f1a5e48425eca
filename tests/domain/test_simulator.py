"""Simulator: seeded and deterministic, realistic replies, every persona reaches its outcome."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from negotiation_pipeline.cli import main
from negotiation_pipeline.domain.reply_reader import read_reply
from negotiation_pipeline.domain.simulator import (
    Persona,
    SimulatedInfluencer,
    simulate,
)
from negotiation_pipeline.domain.types import Intent
from tests.domain.engine_support import engine_config, make_campaign, opened


@pytest.fixture(scope="module")
def summary() -> dict[str, object]:
    return simulate(4, 30, seed=11, config=engine_config())


def test_same_seed_same_result_and_another_seed_differs(summary: dict[str, object]) -> None:
    assert simulate(4, 30, seed=11, config=engine_config()) == summary
    assert simulate(4, 30, seed=12, config=engine_config()) != summary


def test_summary_adds_up(summary: dict[str, object]) -> None:
    states = summary["final_states"]
    assert isinstance(states, dict)
    assert sum(states.values()) == summary["negotiations"] == 120
    agreed = states.get("agreed", 0)
    assert Decimal(str(summary["close_rate"])) == (Decimal(agreed) / 120).quantize(Decimal("0.001"))
    assert agreed > 0 and Decimal(str(summary["budget_used"])) > 0
    assert summary["agreements_within_target_max"] <= agreed  # type: ignore[operator]
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


def test_cli_prints_json_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--campaigns", "1", "--influencers", "6", "--seed", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["negotiations"] == 6
    assert {"final_states", "rounds", "close_rate", "average_cpm_achieved", "budget_used"} <= set(
        out
    )
    assert isinstance(out["budget_used"], str)
    assert out["replies_per_second"] is None or out["replies_per_second"] > 0


def test_cli_rejects_nonsense_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--campaigns", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
