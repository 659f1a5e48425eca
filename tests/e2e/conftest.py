"""End-to-end harness: the real product started the README's way (`negotiation-pipeline dev`,
i.e. `dagster dev` with webserver, daemon and code server) on a free loopback port, in the
sandbox, with every file it writes in a temporary folder.

One server per test module (it takes ~20 s to come up on 2 cores). Tests talk to it through
`InspectingWebserverClient` (GraphQL) and poll with `DevServer.wait_for`, which fails with the tail
of the server log so a red test says what Dagster said.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from negotiation_pipeline.sandbox.paths import INVALID_EXAMPLE_TASK, SANDBOX_DATA_DIR
from tests.support.dagster_webserver import InspectingWebserverClient

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 180.0
SHUTDOWN_GRACE_S = 30.0
POLL_INTERVAL_S = 1.0

# Everything that would switch the product from the sandbox to a real account, or point it at
# files outside the test's folder: removed from the server's environment.
_PRODUCT_ENV = (
    "CLICKUP_API_TOKEN", "CLICKUP_LIST_ID", "CLICKUP_API_URL",
    "IMAP_HOST", "IMAP_PORT", "IMAP_USER", "IMAP_PASSWORD", "IMAP_SECURITY", "IMAP_MAILBOX",
    "IMAP_SENT_FOLDER", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_SECURITY",
    "AGENT_EMAIL", "AGENT_NAME", "NEGOTIATION_MAILDIR",
    "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_AGREEMENTS_CHANNEL",
    "SLACK_ESCALATIONS_CHANNEL", "SLACK_ERRORS_CHANNEL", "SLACK_API_URL",
    "NEGOTIATION_DB", "NEGOTIATION_DATA_DIR", "NEGOTIATION_SANDBOX_DIR", "NEGOTIATION_CONFIG_DIR",
    "ROSTER_URL",
    "DAGSTER_HOME", "DAGSTER_WEBSERVER_URL",
)  # fmt: skip

T = TypeVar("T")


@dataclass
class DevServer:
    url: str
    work_dir: Path  # the test's copy of the sandbox, the store and the Dagster home
    dagster_home: Path
    db_path: Path
    sandbox_tasks: Path
    log_path: Path
    env: dict[str, str]  # the server's environment (for CLI subprocesses against it)
    client: InspectingWebserverClient
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait_for(
        self, what: str, probe: Callable[[], T | None], timeout_s: float, *, poll_s: float = 1.0
    ) -> T:
        """Call `probe` until it returns something other than None (or False); fail after
        `timeout_s` naming `what`, the last probe result and the server log tail."""
        deadline = time.monotonic() + timeout_s
        last: T | None = None
        while True:
            last = probe()
            if last is not None and last is not False:
                return last
            if self.process.poll() is not None:
                pytest.fail(f"dagster dev exited ({self.process.returncode}) while waiting for "
                            f"{what}\n--- log ---\n{self.log_tail()}")  # fmt: skip
            if time.monotonic() >= deadline:
                pytest.fail(
                    f"timed out after {timeout_s:g} s waiting for {what} (last: {last!r})\n"
                    f"--- dagster dev log ---\n{self.log_tail()}"
                )
            time.sleep(poll_s)


def listening_hosts(port: int) -> set[str]:
    """The local addresses with a TCP socket in LISTEN state on `port` (Linux /proc/net/tcp
    and tcp6: hex address, each 32-bit word little-endian; state 0A = LISTEN)."""
    found: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address_hex, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(address_hex)
            ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(str(ipaddress.ip_address(ordered)))
    return found


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def signals_not_ignored() -> Iterator[None]:
    """Children inherit *ignored* signals across exec. When the test runner was started in the
    background (SIGINT/SIGTERM ignored), `dagster dev` would ignore our shutdown signal, so the
    dispositions are made default while the server is spawned."""
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) == signal.SIG_IGN:
            saved[sig] = signal.signal(sig, signal.SIG_DFL)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def sandbox_environment(work_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PRODUCT_ENV}
    env.update(
        NEGOTIATION_SANDBOX_DIR=str(work_dir / "sandbox" / "clickup" / "tasks"),
        ROSTER_URL=str(work_dir / "sandbox" / "roster.csv"),
        NEGOTIATION_DB=str(work_dir / "state" / "negotiation.db"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            if httpx.get(f"{url}/server_info", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() >= deadline:
            state = f"exited {process.returncode}" if process.poll() is not None else "timed out"
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-60:])
            raise RuntimeError(f"dagster dev did not serve {url}/server_info ({state})\n{tail}")
        time.sleep(0.25)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT lets `dagster dev` stop its webserver, daemon and code server; whatever is left
    after the grace period (or stragglers such as multiprocessing helpers) gets SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SHUTDOWN_GRACE_S)
    with suppress(ProcessLookupError):  # start_new_session: the group id is its pid
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    work_dir = tmp_path_factory.mktemp("dev_server")
    shutil.copytree(SANDBOX_DATA_DIR, work_dir / "sandbox")
    env = sandbox_environment(work_dir)
    # The shipped sandbox holds valid tasks only; the invalid example joins this copy so the
    # tests also watch one campaign fail validation beside the others.
    shutil.copy(INVALID_EXAMPLE_TASK, Path(env["NEGOTIATION_SANDBOX_DIR"]) / "86b1aa003.json")
    home = work_dir / "dagster_home"
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work_dir / "dagster_dev.log"
    command = [
        sys.executable, "-m", "negotiation_pipeline.cli", "dev",
        "--port", str(port), "--dagster-home", str(home),
    ]  # fmt: skip
    with log_path.open("wb") as log, signals_not_ignored():
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_serving(process, url, log_path)
        with InspectingWebserverClient(url, timeout=30) as client:
            yield DevServer(
                url=url,
                work_dir=work_dir,
                dagster_home=home,
                db_path=Path(env["NEGOTIATION_DB"]),
                sandbox_tasks=Path(env["NEGOTIATION_SANDBOX_DIR"]),
                log_path=log_path,
                env=env,
                client=client,
                process=process,
            )
    finally:
        _stop(process)
