"""Fixtures of the workflow tests: the business store on each backend, a sandbox Maildir, and
the real mail servers (Dovecot, aiosmtpd) for the tests that need them.

Every test that asks for `store` (or `store_location`) runs once on a SQLite file and once on
the throwaway PostgreSQL server (marked `postgres`, one schema per test; skipped with the
reason when no server can start), as the store suite does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import PostgresStore, SQLiteStore
from tests.servers.dovecot import dovecot_server, imap_account
from tests.servers.smtp import server_certificate, smtp_to_dovecot
from tests.store.conftest import (  # noqa: F401 (fixtures)
    BACKENDS,
    StoreLocation,
    db_path,
    pg_location,
    postgres_server,
    postgres_url,
)
from tests.workflow.support import open_mailbox

__all__ = ["dovecot_server", "imap_account", "server_certificate", "smtp_to_dovecot"]


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, db_path: Path) -> StoreLocation:  # noqa: F811
    if request.param == "sqlite":
        return StoreLocation("sqlite", str(db_path))
    location: StoreLocation = request.getfixturevalue("pg_location")
    return location


@pytest.fixture
def store(store_location: StoreLocation) -> Iterator[SQLiteStore | PostgresStore]:
    opened = store_location.open()
    yield opened
    opened.close()


@pytest.fixture
def mailbox(tmp_path: Path) -> MaildirMailbox:
    return open_mailbox(tmp_path / "mail")
