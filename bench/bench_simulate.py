"""Whole simulated negotiations, end to end in-process (read_reply → handle_reply → persona).

Run: uv run python bench/bench_simulate.py [--campaigns 50] [--influencers 200] [--seed 1]
Target: --campaigns 50 --influencers 200 (10,000 negotiations) in under 60 s on one core.
Same as `uv run negotiation-pipeline simulate ...`, plus the wall time of the whole command.
"""

from __future__ import annotations

import argparse
import json
import time

from bench._results import emit
from negotiation_pipeline.sandbox.simulation.simulator import simulate
from negotiation_pipeline.settings.engine import load_engine_config

SIMULATE_TARGET_S = 60.0


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


if __name__ == "__main__":
    main()
