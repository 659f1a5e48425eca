"""`negotiation-pipeline simulate`: the JSON summary, the per-opponent table, bad sizes."""

from __future__ import annotations

import json

import pytest

from tests.cli.support import run_cli


def test_cli_prints_json_summary() -> None:
    result = run_cli("simulate", "--campaigns", "1", "--influencers", "6", "--seed", "2")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["negotiations"] == 6
    assert {"final_states", "rounds", "close_rate", "average_cpm_achieved", "budget_used"} <= set(
        out
    )
    assert isinstance(out["budget_used"], str)
    assert out["replies_per_second"] is None or out["replies_per_second"] > 0


def test_the_same_seed_gives_the_same_negotiations() -> None:
    args = ("simulate", "--campaigns", "1", "--influencers", "4", "--seed", "7")
    first, second = json.loads(run_cli(*args).stdout), json.loads(run_cli(*args).stdout)
    for key in ("final_states", "rounds", "budget_used", "average_cpm_achieved"):
        assert first[key] == second[key]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--campaigns", "0"),
        ("--influencers", "-3"),
        ("--campaigns", "two"),
        ("--seed", "x"),
        ("--workers", "0"),
    ],
)
def test_cli_rejects_nonsense_sizes(option: str, value: str) -> None:
    result = run_cli("simulate", option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert result.stdout == ""


def test_cli_prints_the_per_opponent_table() -> None:
    result = run_cli(
        "simulate", "--campaigns", "1", "--influencers", "12", "--seed", "3", "--table"
    )
    assert result.exit_code == 0
    out = result.stdout
    assert out.splitlines()[0].startswith("| opponent | negotiations | closeable | agreed |")
    assert "| all | 12 |" in out


def test_any_number_of_workers_prints_the_same_summary() -> None:
    args = ("simulate", "--campaigns", "3", "--influencers", "5", "--seed", "4")
    one = json.loads(run_cli(*args, "--workers", "1").stdout)
    two = json.loads(run_cli(*args, "--workers", "2").stdout)
    for timing in ("elapsed_seconds", "engine_seconds", "replies_per_second"):
        one.pop(timing), two.pop(timing)
    assert one == two and one["negotiations"] == 15
