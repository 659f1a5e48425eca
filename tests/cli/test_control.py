"""`negotiation-pipeline control ...`: in-process through main([...]) and once as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from negotiation_pipeline.cli.main import main
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import Controller, SQLiteStore
from tests.workflow.opened_threads import negotiation, open_threads, rewrite
from tests.workflow.support import flex_row

S = NegotiationState


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "negotiation.db"


@pytest.fixture
def threads(db_path: Path) -> list[str]:
    store = SQLiteStore(db_path)
    opened = open_threads(store, [flex_row(), flex_row("Sam Lee", "sam@gmail.com")])  # Jane, Sam
    store.close()
    return opened


def _run(db_path: Path, *argv: str) -> int:
    return main(["control", *argv, "--db", str(db_path), "--actor", "maria"])


def test_pause_then_resume_prints_one_line_per_thread(
    db_path: Path, threads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    jane, sam = threads

    assert _run(db_path, "pause", jane) == 0
    assert capsys.readouterr().out == f"{jane}: awaiting_reply -> paused\n"
    store = SQLiteStore(db_path)
    assert negotiation(store, jane).state is S.PAUSED
    assert negotiation(store, sam).state is S.AWAITING_REPLY
    audit = store.audit.query(thread_id=jane, event_type=EventType.STATE_TRANSITION, limit=1)
    assert audit[0].metadata is not None and audit[0].metadata["actor"] == "maria"

    assert _run(db_path, "resume", jane) == 0
    assert capsys.readouterr().out == f"{jane}: paused -> awaiting_reply\n"
    assert negotiation(SQLiteStore(db_path), jane).state is S.AWAITING_REPLY


def test_takeover_by_email_and_stop_agency(
    db_path: Path, threads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    jane, sam = threads
    assert _run(db_path, "takeover", "Jane@Gmail.com") == 0
    assert "taken over by maria" in capsys.readouterr().out
    store = SQLiteStore(db_path)
    stored = store.states.load(jane)
    assert stored is not None and stored.controlled_by is Controller.HUMAN

    rewrite(store, sam, agency_name="Bright Talent")
    assert _run(db_path, "stop-agency", "BRIGHT TALENT") == 0
    assert capsys.readouterr().out == f"{sam}: awaiting_reply -> stopped\n"
    assert negotiation(store, sam).state is S.STOPPED


def test_errors_exit_2_with_a_clear_message(
    db_path: Path, threads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    jane, _ = threads
    assert _run(db_path, "stop", "nobody@example.com") == 2
    err = capsys.readouterr().err
    assert err == "error: no negotiation with influencer email 'nobody@example.com'\n"

    assert _run(db_path, "resume", jane) == 2
    captured = capsys.readouterr()
    assert captured.out == (
        f"{jane}: unchanged: not paused and not taken over: nothing to resume "
        "(state awaiting_reply)\n"
    )
    assert captured.err == f"error: resume {jane}: nothing changed\n"

    missing = db_path.parent / "missing.db"
    assert main(["control", "pause", jane, "--db", str(missing)]) == 2
    assert "database file not found" in capsys.readouterr().err
    assert not missing.exists()  # the CLI never invents an empty database


def test_unknown_action_is_an_argparse_error(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["control", "restart", "x", "--db", str(db_path)])
    assert exited.value.code == 2
    assert "invalid choice: 'restart'" in capsys.readouterr().err


def test_control_as_a_separate_process_then_resume_in_another(
    db_path: Path, threads: list[str]
) -> None:
    """The pause is written by one process and undone by a second one: nothing lives in
    memory, so a restart between the two loses nothing."""
    jane, _ = threads
    env = {**os.environ, "NEGOTIATION_DB": str(db_path), "USER": "ops"}
    command = [sys.executable, "-m", "negotiation_pipeline.cli.main", "control"]
    paused = subprocess.run(
        [*command, "pause", "jane@gmail.com"], env=env, capture_output=True, text=True, timeout=60
    )
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout == f"{jane}: awaiting_reply -> paused\n"
    stored = SQLiteStore(db_path).states.load(jane)
    assert stored is not None and stored.pre_pause_state is S.AWAITING_REPLY

    resumed = subprocess.run(
        [*command, "resume", jane], env=env, capture_output=True, text=True, timeout=60
    )
    assert resumed.returncode == 0, resumed.stderr
    assert negotiation(SQLiteStore(db_path), jane).state is S.AWAITING_REPLY
    entries = SQLiteStore(db_path).audit.query(
        thread_id=jane, event_type=EventType.STATE_TRANSITION, limit=1
    )
    assert entries[0].metadata is not None
    assert entries[0].metadata["actor"].startswith("cli:")
