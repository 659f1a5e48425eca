"""`negotiation-pipeline simulate`: negotiate with simulated influencers, in this process."""

from __future__ import annotations

import click

from negotiation_pipeline.cli.common import EXIT_FAILURE, EXIT_OK, exits_with_code


@click.command("simulate")
@click.option(
    "--campaigns", type=click.IntRange(min=1), default=3, show_default=True,
    help="Number of campaigns.",
)  # fmt: skip
@click.option(
    "--influencers", type=click.IntRange(min=1), default=10, show_default=True,
    help="Simulated influencers per campaign.",
)  # fmt: skip
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same run)."
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None,
    help="Processes to run campaigns in (default: one per CPU core, at most one per campaign). "
    "The summary is the same with any number; only the timings differ.",
)  # fmt: skip
@click.option(
    "--table", is_flag=True,
    help="Print only the per-opponent table (markdown) instead of the JSON summary.",
)  # fmt: skip
@exits_with_code
def simulate_command(
    campaigns: int, influencers: int, seed: int, workers: int | None, table: bool
) -> int:
    """Negotiate with simulated influencers and print a summary.

    Nothing is sent and no store is written: the whole negotiation runs in memory with the
    engine configuration in use.
    """
    import json
    import os
    import time

    from negotiation_pipeline.sandbox.simulation.simulator import simulate
    from negotiation_pipeline.settings.engine import load_engine_config
    from negotiation_pipeline.settings.files import ConfigError

    try:
        config = load_engine_config()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        return EXIT_FAILURE
    processes = workers or min(os.cpu_count() or 1, campaigns)
    summary = simulate(
        campaigns, influencers, seed, config, clock=time.perf_counter, workers=processes
    )
    click.echo(summary["by_opponent_markdown"] if table else json.dumps(summary, indent=2))
    return EXIT_OK
