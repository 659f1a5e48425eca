"""A throwaway PostgreSQL server on loopback (initdb into a temp dir, pg_ctl start, stop at exit).

Usage outside pytest (benchmarks):

    with running_postgres() as server:
        url = server.url                     # postgresql://test@127.0.0.1:PORT/postgres

In pytest: `from tests.servers.postgres import postgres_url` and ask for `postgres_url` (session
scoped: one server for the whole run; tests isolate themselves with one schema each).

NEGOTIATION_TEST_POSTGRES_URL set: that server is used and nothing is started.
No server binaries: the fixture skips with a reason naming what is missing, except under CI=true,
where it fails (CI installs the `postgresql` package in .ci/run).
initdb refuses to run as root, so as root the server runs as the unprivileged `postgres` user
(created by the Debian package) through `runuser`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port

URL_ENV_VAR = "NEGOTIATION_TEST_POSTGRES_URL"
SERVER_USER = "postgres"  # the account the Debian package creates
DATABASE_USER = "test"
START_TIMEOUT_SECONDS = 30
BINARIES = ("initdb", "pg_ctl")
# Durability is pointless for a throwaway cluster; these make initdb and every commit faster.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c listen_addresses=127.0.0.1 -c max_connections=200"
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says what is missing."""


@dataclass(frozen=True)
class PostgresServer:
    url: str
    data_dir: Path | None  # None: an external server from NEGOTIATION_TEST_POSTGRES_URL


def find_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    on_path = [shutil.which(name) for name in BINARIES]
    if all(on_path):
        return Path(str(on_path[0])).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for candidate in reversed(versions):
        if all((candidate / name).is_file() for name in BINARIES):
            return candidate
    return None


def postgres_unavailable_reason() -> str | None:
    if os.environ.get(URL_ENV_VAR, "").strip():
        return None
    if find_bin_dir() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
            "/usr/lib/postgresql/*/bin; apt-get install -y postgresql, or set "
            f"{URL_ENV_VAR} to a server to test against"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return (
                f"running as root and there is no unprivileged '{SERVER_USER}' user to run "
                "initdb as (initdb refuses root)"
            )
        if shutil.which("runuser") is None:
            return "running as root and `runuser` (util-linux) is missing to drop privileges"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVER_USER, "--", *command]
    return command


def _run(command: list[str], what: str, cwd: Path) -> None:
    # cwd: the server user may not be allowed into the caller's directory (e.g. under /root).
    done = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{what} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}"
        )


def _prepare_root() -> Path:
    # Not pytest's tmp_path: under root it is mode 0700, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="negotiation-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
    return root


def _wait_until_accepting(url: str) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def running_postgres(attempts: int = 3) -> Iterator[PostgresServer]:
    """Start a fresh cluster on a free loopback port; stop it and delete its files on exit."""
    external = os.environ.get(URL_ENV_VAR, "").strip()
    if external:
        yield PostgresServer(url=external, data_dir=None)
        return
    reason = postgres_unavailable_reason()
    if reason is not None:
        raise PostgresUnavailable(reason)
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    root = _prepare_root()
    data_dir = root / "data"
    pg_ctl = str(bin_dir / "pg_ctl")
    started = False
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", DATABASE_USER,
             "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
            "initdb", root,
        )  # fmt: skip
        for attempt in range(attempts):
            port = free_port()
            options = f"-p {port} -k {root} {SERVER_OPTIONS}"
            try:
                _run(
                    [pg_ctl, "start", "-D", str(data_dir), "-w", "-t", str(START_TIMEOUT_SECONDS),
                     "-l", str(root / "server.log"), "-o", options],
                    "pg_ctl start", root,
                )  # fmt: skip
            except PostgresUnavailable:
                if attempt == attempts - 1:
                    raise
                continue  # most likely the port was taken between probing and binding
            started = True
            break
        url = f"postgresql://{DATABASE_USER}@127.0.0.1:{port}/postgres"
        _wait_until_accepting(url)
        yield PostgresServer(url=url, data_dir=data_dir)
    finally:
        if started:
            subprocess.run(
                _as_server_user([pg_ctl, "stop", "-D", str(data_dir), "-m", "immediate", "-w"]),
                capture_output=True,
                timeout=60,
                check=False,
                cwd=root,
            )
        shutil.rmtree(root, ignore_errors=True)


def skip_or_fail_without_postgres() -> None:
    """pytest.skip when no server can run; under CI=true fail instead (CI installs one)."""
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the PostgreSQL tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    skip_or_fail_without_postgres()
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url
