"""Real-server fixtures for the mail tests (defined in tests/servers so others can reuse them)."""

from tests.servers.dovecot import dovecot_server, imap_account

__all__ = ["dovecot_server", "imap_account"]
