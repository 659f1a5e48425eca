"""`negotiation-pipeline dev` stops on SIGTERM and on Ctrl-C (SIGINT to its process group) even
when started the way a script, CI job or `cmd &` starts it: no terminal, stdin from /dev/null,
its own session, and SIGINT ignored as a shell without job control leaves it. The command and
every process it started (webserver, daemon, code servers) must be gone within the grace
period."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from negotiation_pipeline.sandbox.paths import SANDBOX_DATA_DIR
from tests.e2e.conftest import (
    REPO_ROOT,
    SHUTDOWN_GRACE_S,
    _wait_until_serving,
    free_loopback_port,
    sandbox_environment,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _as_a_background_job() -> None:
    """What a non-interactive shell does to `cmd &` before exec."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


def _session_members(session_id: int) -> list[int]:
    """Pids of the live processes of one session (Linux /proc: field 6 of stat is the session;
    the comm field may hold spaces and parentheses, so fields are counted after its last ')')."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, session = fields[0], int(fields[3])
        if session == session_id and state != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.parametrize("how", ["sigterm", "ctrl_c"])
def test_dev_and_all_its_children_stop_within_the_grace_period(tmp_path: Path, how: str) -> None:
    shutil.copytree(SANDBOX_DATA_DIR, tmp_path / "sandbox")
    env = sandbox_environment(tmp_path)
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "dagster_dev.log"
    command = [
        sys.executable, "-m", "negotiation_pipeline.cli", "dev",
        "--port", str(port), "--dagster-home", str(tmp_path / "home"),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_as_a_background_job,
        )
    try:
        _wait_until_serving(process, url, log_path)
        assert len(_session_members(process.pid)) >= 3  # dev, webserver, daemon at least

        if how == "sigterm":
            process.send_signal(signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground group
        stopped_by = time.monotonic() + SHUTDOWN_GRACE_S
        while time.monotonic() < stopped_by and (
            process.poll() is None or _session_members(process.pid)
        ):
            time.sleep(0.5)

        left = _session_members(process.pid)
        log_tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        assert process.poll() is not None, f"dagster dev still running\n{log_tail}"
        assert left == [], f"children still running: {left}\n{log_tail}"
        assert "Dagster services shut down." in log_path.read_text(errors="replace")
    finally:
        if process.poll() is None or _session_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
