"""`negotiation-pipeline dev`: the Dagster UI and daemon on this machine (`dagster dev`) with a
persistent Dagster home in the project."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import click

from negotiation_pipeline.cli.common import EXIT_FAILURE, error, exits_with_code
from negotiation_pipeline.cli.dev_server import DEFAULT_HOST, DEFAULT_PORT


@click.command("dev", short_help="Run the Dagster UI and daemon locally.")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to serve on.")
@click.option(
    "--port", "-p", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True,
    help="Port to serve on.",
)  # fmt: skip
@click.option(
    "--dagster-home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Instance folder (default: <project>/.dagster_home).",
)
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- DAGSTER_ARGS]...")
@exits_with_code
def dev_command(
    host: str, port: int, dagster_home: Path | None, dagster_args: tuple[str, ...]
) -> int:
    """Run the Dagster UI and daemon on this machine; Ctrl-C stops both.

    With no environment variables set, the sandbox runs: simulated campaigns, influencers and
    mailbox, nothing sent anywhere. Runs, schedules and sensor state are kept in
    <project>/.dagster_home between sessions (or --dagster-home). Arguments after `--` go to
    `dagster dev` unchanged.
    """
    from negotiation_pipeline.cli.dev_server import (
        DAGSTER_HOME_DIR,
        DevServerError,
        dagster_dev_argv,
        find_project_root,
        prepare_dagster_home,
    )

    try:
        root = find_project_root()
        home = dagster_home.resolve() if dagster_home else root / DAGSTER_HOME_DIR
        copied = prepare_dagster_home(root, home)
    except (DevServerError, OSError) as exc:
        error(str(exc))
        return EXIT_FAILURE
    note = " (dagster.yaml copied in)" if copied else ""
    # dagster warns that ./dagster.yaml "will not be used": the copy in DAGSTER_HOME is used.
    click.echo(f"DAGSTER_HOME={home}{note}; it holds the copy of ./dagster.yaml", err=True)
    click.echo(f"Dagster UI on http://{host}:{port}", err=True)
    argv = dagster_dev_argv(host, port, list(dagster_args))
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(root)
    stop_signals_reach_the_server()
    # exec, not a child process: Ctrl-C and SIGTERM reach `dagster dev` directly, and it shuts
    # down its webserver, daemon and code server itself.
    os.execve(argv[0], argv, {**os.environ, "DAGSTER_HOME": str(home)})


def stop_signals_reach_the_server() -> None:
    """Make SIGINT and SIGTERM stop `dagster dev` however this command was started.

    A shell without job control (a script, `cmd &`, CI, nohup) starts background commands with
    SIGINT ignored, and an ignored signal stays ignored across exec. `dagster dev` then maps
    SIGTERM onto that same ignored SIGINT handling, so neither signal would ever stop it. The
    default disposition here lets Python turn SIGINT into KeyboardInterrupt in `dagster dev`,
    and SIGTERM with it."""
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_DFL)
