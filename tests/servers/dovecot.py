"""A real Dovecot IMAP server on loopback.

Usage outside pytest (benchmarks, crash tests):

    with running_dovecot() as server:
        account = server.add_user("agent@example.test", "secret")
        config = account.imap_config()          # ImapConfig(security="plain", ...)

In pytest: `from tests.servers.dovecot import dovecot_server, imap_account` and ask for
`imap_account` (fresh user, so tests never see each other's mail).

Dovecot missing: the fixtures skip with a reason, except under CI=true, where they fail (CI
installs it in .ci/run). Dovecot runs as root (its userdb maps everyone to uid nobody).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from negotiation_pipeline.integrations.mail.imap import ImapConfig
from tests.servers import free_port

DOVECOT_BINARY = "/usr/sbin/dovecot"
START_TIMEOUT_SECONDS = 15.0

_CONFIG_TEMPLATE = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
# Added to the verified config: turns off the auth-failure penalty (Dovecot docs: mode 0 on the
# anvil-auth-penalty listener), which otherwise delays every later login from 127.0.0.1 by
# seconds after a wrong-password test.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


class DovecotUnavailable(RuntimeError):
    """Dovecot cannot run here (not installed, or not root)."""


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str

    def imap_config(self, **overrides: object) -> ImapConfig:
        settings: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "security": "plain",
            "timeout_seconds": 10.0,
        }
        settings.update(overrides)
        return ImapConfig(**settings)  # type: ignore[arg-type]


@dataclass
class DovecotServer:
    host: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    passwords: dict[str, str] = field(default_factory=dict)
    _pool: list[str] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_user(self, user: str | None = None, password: str = "secret") -> ImapAccount:
        """An account with an empty mailbox. Without a name, one of the pre-created pool users is
        handed out (instant). A new name is written to the passwd-file and waited for: Dovecot
        notices a changed file by its mtime, which can lag within the same second."""
        with self._lock:
            if user is None:
                if not self._pool:
                    raise RuntimeError("user pool exhausted; pass pool_size to running_dovecot()")
                user = self._pool.pop()
                return ImapAccount(self.host, self.port, user, self.passwords[user])
            if user not in self.passwords:
                self.passwords[user] = password
                _write_users(self.root, self.passwords)
                self._wait_until_login_works(user)
        return ImapAccount(self.host, self.port, user, self.passwords[user])

    def _wait_until_login_works(self, user: str) -> None:
        deadline = time.monotonic() + 10.0
        while True:
            # Keep the mtime moving so Dovecot's stat() check sees a change.
            os.utime(self.root / "users")
            client = imaplib.IMAP4(self.host, self.port, timeout=5)
            try:
                client.login(user, self.passwords[user])
                client.logout()
                return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            finally:
                with suppress(OSError):
                    client.shutdown()

    def account(self, user: str) -> ImapAccount:
        return ImapAccount(self.host, self.port, user, self.passwords[user])

    def maildir_of(self, user: str) -> Path:
        return self.root / "mail" / user / "Maildir"

    def log_text(self) -> str:
        log = self.root / "dovecot.log"
        return log.read_text(errors="replace") if log.exists() else ""


def dovecot_unavailable_reason() -> str | None:
    if not Path(DOVECOT_BINARY).exists():
        return (
            f"dovecot is not installed ({DOVECOT_BINARY} missing); "
            "apt-get install -y --no-install-recommends dovecot-imapd"
        )
    if os.geteuid() != 0:
        return "the test Dovecot runs as root (its userdb maps users to uid nobody)"
    return None


def skip_or_fail_without_dovecot() -> None:
    """pytest.skip when Dovecot cannot run; under CI=true fail instead (CI must run mail tests)."""
    reason = dovecot_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the mail integration tests cannot run: {reason}")
    pytest.skip(reason)


def _write_users(root: Path, passwords: dict[str, str]) -> None:
    temporary = root / "users.tmp"
    temporary.write_text("".join(f"{name}:{{PLAIN}}{pw}\n" for name, pw in passwords.items()))
    temporary.replace(root / "users")


def _write_layout(root: Path, port: int, passwords: dict[str, str]) -> Path:
    nobody = pwd.getpwnam("nobody")
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chown(root / "mail", nobody.pw_uid, nobody.pw_gid)
    _write_users(root, passwords)
    config = root / "dovecot.conf"
    config.write_text(_CONFIG_TEMPLATE.format(root=root, port=port))
    return config


def _wait_for_greeting(process: subprocess.Popen[bytes], port: int, root: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text(errors="replace") if root.exists() else ""
            raise DovecotUnavailable(f"dovecot exited with {process.returncode}: {log[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as probe:
                if probe.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise DovecotUnavailable(f"dovecot did not greet on port {port} in {START_TIMEOUT_SECONDS}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextmanager
def running_dovecot(
    users: dict[str, str] | None = None, pool_size: int = 300, attempts: int = 3
) -> Iterator[DovecotServer]:
    """Start Dovecot in a fresh temp dir on a free loopback port; stop it and delete it on exit.

    `users` ({address: password}) exist from the start, plus `pool_size` anonymous users
    (password "secret") that add_user() hands out one per test."""
    pool = [f"pool-{number:04d}@example.test" for number in range(pool_size)]
    passwords = {**dict.fromkeys(pool, "secret"), **(users or {})}
    reason = dovecot_unavailable_reason()
    if reason is not None:
        raise DovecotUnavailable(reason)
    # Not pytest's tmp_path: that is mode 0700 under root, and Dovecot's mail processes run as
    # nobody and must traverse the path to their maildirs. A short path also keeps the unix
    # sockets under base_dir within the 108-byte limit.
    root = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
    root.chmod(0o755)
    process: subprocess.Popen[bytes] | None = None
    try:
        for attempt in range(attempts):
            port = free_port()
            config = _write_layout(root, port, passwords)
            process = subprocess.Popen(
                [DOVECOT_BINARY, "-F", "-c", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_for_greeting(process, port, root)
                break
            except DovecotUnavailable:
                _stop(process)
                if attempt == attempts - 1:
                    raise
        assert process is not None
        yield DovecotServer(
            host="127.0.0.1",
            port=port,
            root=root,
            process=process,
            passwords=passwords,
            _pool=pool[::-1],
        )
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """One Dovecot for the whole session (starting it costs about a second)."""
    skip_or_fail_without_dovecot()
    with running_dovecot() as server:
        yield server


@pytest.fixture
def imap_account(dovecot_server: DovecotServer) -> ImapAccount:
    """A fresh IMAP user with an empty mailbox."""
    return dovecot_server.add_user()
