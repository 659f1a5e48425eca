"""The command tree as a whole: every command's help renders, every store option falls back to
NEGOTIATION_DB, and the installed entry point and `python -m` run the same tree."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from negotiation_pipeline.cli import cli, main
from tests.cli.support import run_cli


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


ALL_PATHS = list(walk(cli))


def test_the_tree_holds_every_command() -> None:
    assert {" ".join(p) for p in ALL_PATHS} >= {
        "", "audit", "backfill-cpm", "campaign", "campaign validate", "control",
        "control allow-sender", "control pause", "control resume", "control stop",
        "control stop-agency", "control takeover", "dev", "read-reply", "simulate",
    }  # fmt: skip


@pytest.mark.parametrize("path", ALL_PATHS, ids=lambda p: " ".join(p) or "root")
def test_every_help_renders_for_operators(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: negotiation-pipeline {' '.join(path)}".rstrip())
    # Help is for the people running the product, not a tour of its code.
    for developer_note in ("TODO", "SPEC", ".py", "argparse", "Imported here"):
        assert developer_note not in result.stdout


@pytest.mark.parametrize("path", ALL_PATHS, ids=lambda p: " ".join(p) or "root")
def test_every_store_option_falls_back_to_negotiation_db(path: tuple[str, ...]) -> None:
    for param in command_at(path).params:
        if param.name == "db":
            assert isinstance(param, click.Option) and param.envvar == "NEGOTIATION_DB"


def test_main_returns_the_exit_code_for_usage_errors_and_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    assert "Commands:" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2
    assert "No such command 'no-such-command'" in capsys.readouterr().err
    assert main([]) == 2  # a command is required


def test_the_installed_script_and_python_m_run_the_same_cli(tmp_path: Path) -> None:
    # A missing SQLite file gives the one answer that needs no store at all, so both entry
    # points are compared on it; the commands on a PostgreSQL store are tested beside them.
    script = Path(sys.executable).parent / "negotiation-pipeline"
    missing = str(tmp_path / "absent.db")
    for command in ([str(script)], [sys.executable, "-m", "negotiation_pipeline.cli"]):
        done = subprocess.run(
            [*command, "audit", "--db", missing],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            f"error: database file not found: {missing} (set NEGOTIATION_DB or pass --db)\n"
        )
        version = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        assert version.returncode == 0 and version.stdout.startswith("negotiation-pipeline, ")
