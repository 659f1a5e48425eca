"""The outbox's delivery columns and the installation key, on both engines, and the migration of
a version 1 store (outbox without them) to the current schema."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from negotiation_pipeline.store import (
    SCHEMA_VERSION,
    NegotiationStore,
    OutboxEmail,
    OutboxStatus,
    SQLiteStore,
    StoreError,
)
from negotiation_pipeline.store.postgres import PostgresStore
from tests.store.conftest import StoreLocation
from tests.store.test_migrations import FIXTURE, build_postgres_v1, fixture_rows

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "s3cret-value-for-tests-0123456789abcdef"


def _email(n: int) -> OutboxEmail:
    return OutboxEmail(
        message_id=f"<m{n}@agency.test>",
        to_addr=f"p{n}@gmail.com",
        subject=f"Offer {n}",
        body=f"Body {n}",
        thread_id=f"t{n}",
        campaign_id="cmp",
    )


def _queued(store: NegotiationStore, count: int) -> list[str]:
    ids = []
    for n in range(count):
        assert store.outbox.add(_email(n))
        ids.append(_email(n).message_id)
    return ids


def test_a_temporary_failure_waits_until_its_next_attempt(store: NegotiationStore) -> None:
    first, second = _queued(store, 2)

    assert store.outbox.record_attempt(first, "451 try later", T0 + timedelta(minutes=5)) == 1
    assert store.outbox.record_attempt(first, "451 again", T0 + timedelta(minutes=10)) == 2

    assert [e.message_id for e in store.outbox.pending(due_at=T0)] == [second]
    due = store.outbox.pending(due_at=T0 + timedelta(minutes=10))
    assert [e.message_id for e in due] == [first, second]  # oldest first once due
    assert [e.message_id for e in store.outbox.pending()] == [first, second]  # all pending
    row = store.outbox.get(first)
    assert row is not None and (row.attempts, row.last_error) == (2, "451 again")
    assert row.next_attempt_at == T0 + timedelta(minutes=10)


def test_failed_is_final_and_counted_once(store: NegotiationStore) -> None:
    (mid,) = _queued(store, 1)

    assert store.outbox.mark_failed(mid, "550 no such user")
    assert not store.outbox.mark_failed(mid, "550 again")  # a racing run does not give up twice
    assert not store.outbox.mark_sent(mid)
    assert store.outbox.record_attempt(mid, "451", T0) is None
    assert store.outbox.pending() == []
    row = store.outbox.get(mid)
    assert row is not None and row.status is OutboxStatus.FAILED
    assert (row.attempts, row.last_error) == (1, "550 no such user")


def test_sent_with_its_copy_pending_until_filed(store: NegotiationStore) -> None:
    filed_at_once, copy_later = _queued(store, 2)

    assert store.outbox.mark_sent(filed_at_once, T0)
    assert store.outbox.mark_sent(copy_later, T0, copy_pending=True)
    assert not store.outbox.mark_sent(copy_later, T0)  # sent is never sent again

    assert [e.message_id for e in store.outbox.copies_to_file()] == [copy_later]
    assert store.outbox.mark_copy_filed(copy_later)
    assert not store.outbox.mark_copy_filed(copy_later)
    assert store.outbox.copies_to_file() == []
    row = store.outbox.get(copy_later)
    assert row is not None and row.status is OutboxStatus.SENT and row.sent_at == T0


def test_the_message_id_key_is_created_once_and_kept(store_location: StoreLocation) -> None:
    first = store_location.open()
    key = first.installation.message_id_secret()
    with first.transaction() as uow:
        assert uow.installation.message_id_secret() == key
    first.close()
    again = store_location.open()
    assert again.installation.message_id_secret() == key  # survives a restart
    assert len(key) == 32
    assert key.hex() not in repr(again.installation)
    again.close()


def test_two_stores_have_different_keys(tmp_path: Path) -> None:
    one = SQLiteStore(tmp_path / "one.db").installation.message_id_secret()
    two = SQLiteStore(tmp_path / "two.db").installation.message_id_secret()
    assert one != two


def test_a_configured_key_wins_and_a_short_one_is_refused_without_echo(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.db", message_id_secret=SECRET)
    assert store.installation.message_id_secret() == SECRET.encode()
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM installation").fetchone()[0] == 0
    with pytest.raises(StoreError, match="too short") as caught:
        SQLiteStore(tmp_path / "b.db", message_id_secret="short-but-secret")
    assert "short-but-secret" not in str(caught.value)


# --- migration from schema version 1 --------------------------------------------------------
def test_a_version_1_sqlite_file_is_migrated_keeping_its_rows_in_order(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURE, path)  # a real version-1 store (its own emails are all sent)
    with closing(sqlite3.connect(path)) as conn, conn:
        stamp = "2099-01-01T00:00:00.000000Z"  # equal times: insertion order breaks the tie
        for mid, status in (("<b@x>", "pending"), ("<a@x>", "sent"), ("<c@x>", "pending")):
            conn.execute(
                "INSERT INTO outbox (message_id, to_addr, subject, body, status, created_at) "
                "VALUES (?, 'p@x.com', 's', 'b', ?, ?)",
                (mid, status, stamp),
            )

    store = SQLiteStore(path)

    assert store.schema_version == SCHEMA_VERSION
    assert [e.message_id for e in store.outbox.pending()] == ["<b@x>", "<c@x>"]
    sent = store.outbox.get("<a@x>")
    assert sent is not None and sent.status is OutboxStatus.SENT and not sent.sent_copy_pending
    assert store.outbox.mark_failed("<b@x>", "550")  # the new status is allowed
    store.close()
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.postgres
def test_a_version_1_postgres_store_is_migrated(pg_location: StoreLocation) -> None:
    rows = fixture_rows()
    old_email = {
        "message_id": "<old@x>", "to_addr": "p@x.com", "subject": "s", "body": "b",
        "status": "pending", "created_at": "2099-01-01T00:00:00.000000Z",
    }  # fmt: skip
    rows["outbox"] = [*rows["outbox"], old_email]
    build_postgres_v1(pg_location, rows)

    store = pg_location.open()

    assert isinstance(store, PostgresStore) and store.schema_version == SCHEMA_VERSION
    (old,) = store.outbox.pending()
    assert (old.message_id, old.attempts, old.sent_copy_pending) == ("<old@x>", 0, False)
    assert store.outbox.mark_failed("<old@x>", "550")
    store.close()
