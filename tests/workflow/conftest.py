from __future__ import annotations

from pathlib import Path

import pytest

from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import SQLiteStore
from tests.servers.dovecot import dovecot_server, imap_account
from tests.servers.smtp import server_certificate, smtp_to_dovecot
from tests.workflow.support import open_mailbox

__all__ = ["dovecot_server", "imap_account", "server_certificate", "smtp_to_dovecot"]


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "negotiation.db")


@pytest.fixture
def mailbox(tmp_path: Path) -> MaildirMailbox:
    return open_mailbox(tmp_path / "mail")
