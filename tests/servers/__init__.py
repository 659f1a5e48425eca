"""Real servers on loopback for integration tests, benchmarks and crash tests.

- `tests.servers.dovecot`: `running_dovecot()` context manager (a real Dovecot IMAP server) and
  the pytest fixtures `dovecot_server` (session) and `imap_account` (a fresh user per test).
- `tests.servers.smtp`: `running_smtp()` (aiosmtpd, optional STARTTLS + AUTH, delivering into
  Dovecot) and the fixture `smtp_to_dovecot`.

Import the fixtures into a test module or conftest (`from tests.servers.dovecot import
dovecot_server, imap_account`) to use them.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
