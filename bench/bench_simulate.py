"""Whole simulated negotiations, end to end in-process (read_reply → handle_reply → persona).

Run: uv run python bench/bench_simulate.py [--campaigns 50] [--influencers 200] [--seed 1]
Target: --campaigns 50 --influencers 200 (10,000 negotiations) in under 60 s on one core.
Same as `uv run negotiation-pipeline simulate ...`, plus the wall time of the whole command.
The per-opponent strategy table of that run, with its goals checked, is reported as a section of
its own (run_all.py writes it to RESULTS.md under its heading).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

from bench._results import emit, emit_section
from negotiation_pipeline.sandbox.simulation.simulator import simulate
from negotiation_pipeline.settings.engine import load_engine_config

SIMULATE_TARGET_S = 60.0
STRATEGY_TITLE = "Negotiation strategy against standard opponents"

# (opponent row, column, least value): the strategy's goals on the 50 x 200, seed 1 run.
DEAL_RATE_GOALS = (
    ("conceder", "deal_rate_closeable", 0.9),
    ("linear", "deal_rate_closeable", 0.9),
    ("tit_for_tat", "deal_rate_closeable", 0.9),
    ("boulware", "deal_rate_closeable", 0.75),
    ("all", "surplus_captured", 0.5),
)
ZERO_GOALS = ("ceiling_breaches", "non_monotone_offers", "more_money_for_less")


def goal_lines(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Each goal with the measured value and whether it is met."""
    lines = []
    for column in ZERO_GOALS:
        value = rows["all"][column]
        lines.append(f"- {column} = 0 over all opponents: {value} ({_met(value == 0)})")
    for row, column, least in DEAL_RATE_GOALS:
        value = rows.get(row, {}).get(column, "")
        ok = value != "" and float(value) >= least
        lines.append(f"- {column} >= {least} against {row}: {value or 'n/a'} ({_met(ok)})")
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def strategy_section(summary: dict[str, Any], args: argparse.Namespace, wall: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = (
        f"uv run negotiation-pipeline simulate --campaigns {args.campaigns} "
        f"--influencers {args.influencers} --seed {args.seed}"
    )
    return "\n".join(
        [
            f"Measured {when} by `bench/bench_simulate.py` ({wall:.1f} s for "
            f"{summary['negotiations']:,} negotiations, {summary['replies_processed']:,} replies) "
            "through the real engine: reply reader, `handle_reply` (strategy, templates, "
            "validation gate) and follow-ups.",
            f"The same run: `{command}` (the table alone: add `--table`).",
            "",
            summary["by_opponent_markdown"],
            "",
            "Goals (set for the 50 x 200, seed 1 run):",
            *goal_lines(summary["by_opponent"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--influencers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    config = load_engine_config()
    summary = simulate(args.campaigns, args.influencers, args.seed, config, clock=time.perf_counter)
    summary["wall_seconds_including_config_load"] = round(time.perf_counter() - started, 3)
    print(json.dumps(summary, indent=2))
    wall = summary["wall_seconds_including_config_load"]
    size = f"{args.campaigns} campaigns x {args.influencers} influencers"
    emit(f"simulate {size} (wall)", wall, "s", target="< 60 s", ok=wall < SIMULATE_TARGET_S)
    emit(f"simulate {size}: close rate", float(summary["close_rate"]), "", digits=3)
    emit(
        f"simulate {size}: average CPM achieved (target range "
        f"${summary['average_target_cpm_min']}-${summary['average_target_cpm_max']})",
        float(summary["average_cpm_achieved"]),
        "USD",
        digits=2,
    )
    emit_section(STRATEGY_TITLE, strategy_section(summary, args, wall))


if __name__ == "__main__":
    main()
