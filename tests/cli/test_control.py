"""`negotiation-pipeline control ...`: in-process through click's CliRunner and once as a real
process (the installed entry point), over a SQLite file and a PostgreSQL schema alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import AuditQuery, Controller
from tests.cli.conftest import CliStore
from tests.cli.support import run_cli
from tests.workflow.opened_threads import negotiation, open_threads, rewrite
from tests.workflow.support import flex_row


@pytest.fixture
def threads(cli_store: CliStore) -> list[str]:
    store = cli_store.open()
    opened = open_threads(store, [flex_row(), flex_row("Sam Lee", "sam@gmail.com")])  # Jane, Sam
    store.close()
    return opened


def _run(cli_store: CliStore, *argv: str) -> Result:
    return run_cli("control", *argv, "--db", cli_store.db, "--actor", "maria")


def test_pause_then_resume_prints_one_line_per_thread(
    cli_store: CliStore, threads: list[str]
) -> None:
    jane, sam = threads

    paused = _run(cli_store, "pause", jane)
    assert paused.exit_code == 0
    assert paused.stdout == f"{jane}: awaiting_reply -> paused\n"
    with cli_store.opened() as store:
        assert negotiation(store, jane).state is NegotiationState.PAUSED
        assert negotiation(store, sam).state is NegotiationState.AWAITING_REPLY
        audit = store.audit.query(
            AuditQuery(thread_id=jane, event_type=EventType.STATE_TRANSITION, limit=1)
        )
    assert audit[0].metadata is not None and audit[0].metadata["actor"] == "maria"

    resumed = _run(cli_store, "resume", jane)
    assert resumed.exit_code == 0
    assert resumed.stdout == f"{jane}: paused -> awaiting_reply\n"
    with cli_store.opened() as store:
        assert negotiation(store, jane).state is NegotiationState.AWAITING_REPLY


def test_takeover_by_email_and_stop_agency(cli_store: CliStore, threads: list[str]) -> None:
    jane, sam = threads
    taken = _run(cli_store, "takeover", "Jane@Gmail.com")
    assert taken.exit_code == 0
    assert "taken over by maria" in taken.stdout
    with cli_store.opened() as store:  # open while the command writes, as an operator's may be
        stored = store.states.load(jane)
        assert stored is not None and stored.controlled_by is Controller.HUMAN

        rewrite(store, sam, agency_name="Bright Talent")
        stopped = _run(cli_store, "stop-agency", "BRIGHT TALENT")
        assert stopped.exit_code == 0
        assert stopped.stdout == f"{sam}: awaiting_reply -> stopped\n"
        assert negotiation(store, sam).state is NegotiationState.STOPPED


def test_errors_exit_2_with_a_clear_message(
    cli_store: CliStore, threads: list[str], tmp_path: Path
) -> None:
    jane, _ = threads
    unknown = _run(cli_store, "stop", "nobody@example.com")
    assert unknown.exit_code == 2
    assert unknown.stderr == "error: no negotiation with influencer email 'nobody@example.com'\n"

    captured = _run(cli_store, "resume", jane)
    assert captured.exit_code == 2
    assert captured.stdout == (
        f"{jane}: unchanged: not paused and not taken over: nothing to resume "
        "(state awaiting_reply)\n"
    )
    assert captured.stderr == f"error: resume {jane}: nothing changed\n"

    missing = tmp_path / "missing.db"  # a file named with --db, whatever the usual store
    absent = run_cli("control", "pause", jane, "--db", str(missing))
    assert absent.exit_code == 2
    assert "database file not found" in absent.stderr
    assert not missing.exists()  # the CLI never invents an empty database


# Refused before any store is opened, whatever the engine; the file it names stays absent.
def test_unknown_action_is_a_usage_error(tmp_path: Path) -> None:
    db_path = tmp_path / "negotiation.db"
    result = run_cli("control", "restart", "x", "--db", str(db_path))
    assert result.exit_code == 2
    assert "No such command 'restart'" in result.stderr
    assert not db_path.exists()


def test_the_store_comes_from_negotiation_db_and_the_actor_from_the_user(
    cli_store: CliStore, threads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    jane, _ = threads
    monkeypatch.setenv("USER", "dana")
    monkeypatch.setenv("LOGNAME", "dana")
    result = run_cli("control", "stop", jane, env={"NEGOTIATION_DB": cli_store.db})
    assert result.exit_code == 0, result.output
    with cli_store.opened() as store:
        entries = store.audit.query(
            AuditQuery(thread_id=jane, event_type=EventType.STATE_TRANSITION, limit=1)
        )
    assert entries[0].metadata is not None and entries[0].metadata["actor"] == "cli:dana"


def test_control_as_a_separate_process_then_resume_in_another(
    cli_store: CliStore, threads: list[str]
) -> None:
    """The pause is written by one process and undone by a second one: nothing lives in
    memory, so a restart between the two loses nothing."""
    jane, _ = threads
    env = {**os.environ, **cli_store.env, "USER": "ops"}
    command = [sys.executable, "-m", "negotiation_pipeline.cli", "control"]
    paused = subprocess.run(
        [*command, "pause", "jane@gmail.com"], env=env, capture_output=True, text=True, timeout=60
    )
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout == f"{jane}: awaiting_reply -> paused\n"
    with cli_store.opened() as store:
        stored = store.states.load(jane)
    assert stored is not None and stored.pre_pause_state is NegotiationState.AWAITING_REPLY

    resumed = subprocess.run(
        [*command, "resume", jane], env=env, capture_output=True, text=True, timeout=60
    )
    assert resumed.returncode == 0, resumed.stderr
    with cli_store.opened() as store:
        assert negotiation(store, jane).state is NegotiationState.AWAITING_REPLY
        entries = store.audit.query(
            AuditQuery(thread_id=jane, event_type=EventType.STATE_TRANSITION, limit=1)
        )
    assert entries[0].metadata is not None
    assert entries[0].metadata["actor"].startswith("cli:")
