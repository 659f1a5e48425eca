"""Real-server fixtures for the mail tests (defined in tests/servers so others can reuse them)."""

from tests.servers.dovecot import dovecot_server, imap_account
from tests.servers.smtp import server_certificate, smtp_to_dovecot

__all__ = ["dovecot_server", "imap_account", "server_certificate", "smtp_to_dovecot"]
