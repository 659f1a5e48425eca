"""Running the command line in-process with click's CliRunner, stdout and stderr kept apart."""

from __future__ import annotations

from collections.abc import Mapping

from click.testing import CliRunner, Result

from negotiation_pipeline.cli import cli


def run_cli(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """`negotiation-pipeline ARGS...`; an unexpected exception propagates (a traceback is a
    bug, never an answer)."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
