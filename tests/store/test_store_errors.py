"""Database failures become StoreAccessErrors an operator can act on: they name the database
(the SQLite path; the PostgreSQL location without its password) and say what went wrong.
Real files, a real second connection holding the lock, the throwaway PostgreSQL server."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.store import AuditQuery, SQLiteStore, StoreAccessError, StoreError
from negotiation_pipeline.store.errors import sqlite_error
from negotiation_pipeline.store.postgres import PostgresStore
from tests.store.conftest import StoreLocation

ENTRY = AuditEntry(event_type=EventType.ERROR, metadata={"stage": "test"})


def test_a_locked_sqlite_database_names_the_file_and_the_wait(tmp_path: Path) -> None:
    path = tmp_path / "negotiation.db"
    store = SQLiteStore(path, busy_timeout_s=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, and not letting go
    try:
        with pytest.raises(StoreAccessError) as caught:
            store.audit.insert(ENTRY)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    message = str(caught.value)
    assert message.startswith(f"SQLite database {path} is locked: another process held it")
    assert "0.2 s busy timeout" in message
    assert "(sqlite3.OperationalError: database is locked)" in message
    assert caught.value.database == str(path)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    store.audit.insert(ENTRY)  # usable again once the other writer is gone
    store.close()


def _rollback_journal_file_held_by_a_writer(path: Path) -> sqlite3.Connection:
    """A file in SQLite's default (rollback) journal mode that another connection is writing."""
    with sqlite3.connect(path, isolation_level=None) as setup:
        setup.execute("CREATE TABLE other_app (x)")
    setup.close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_opening_waits_for_a_writer_before_switching_the_file_to_wal(tmp_path: Path) -> None:
    # SQLite refuses the switch to WAL at once, without the busy timeout, while another
    # connection writes; three processes opening an old store together hit this.
    path = tmp_path / "negotiation.db"
    holder = _rollback_journal_file_held_by_a_writer(path)
    let_go = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    let_go.start()
    try:
        store = SQLiteStore(path, busy_timeout_s=10)
    finally:
        let_go.join()
        holder.close()
    assert store.schema_version > 0
    store.audit.insert(ENTRY)
    store.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()


def test_a_writer_that_never_lets_go_of_an_old_file_is_a_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "negotiation.db"
    holder = _rollback_journal_file_held_by_a_writer(path)
    try:
        with pytest.raises(StoreAccessError, match="is locked: another process held it"):
            SQLiteStore(path, busy_timeout_s=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "negotiation.db"
    path.write_bytes(b"these are not the pages you are looking for" * 100)
    with pytest.raises(StoreAccessError, match=f"{path} is not a SQLite database"):
        SQLiteStore(path)


def test_a_folder_where_the_file_should_be_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(StoreAccessError, match=f"cannot open SQLite database {tmp_path}: "):
        SQLiteStore(tmp_path)


def test_a_database_path_below_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file, not a folder")
    with pytest.raises(StoreAccessError, match=f"cannot prepare SQLite database {blocker}/n.db"):
        SQLiteStore(blocker / "n.db")


@pytest.mark.parametrize(
    ("driver_message", "expected"),
    [
        ("disk I/O error", "disk I/O error on SQLite database /srv/n.db (failing or full disk"),
        ("database or disk is full", "SQLite database /srv/n.db: the disk is full"),
        ("attempt to write a readonly database", "SQLite database /srv/n.db is read-only"),
        ("database disk image is malformed", "SQLite database /srv/n.db is damaged"),
        ("no such table: campaigns", "SQLite database /srv/n.db: sqlite3.OperationalError: no"),
    ],
)
def test_causes_that_cannot_be_staged_here_get_the_same_treatment(
    driver_message: str, expected: str
) -> None:
    error = sqlite_error(Path("/srv/n.db"), sqlite3.OperationalError(driver_message))
    assert str(error).startswith(expected)
    assert driver_message in str(error)


@pytest.mark.postgres
def test_a_lost_postgres_connection_names_the_store_without_its_password(
    pg_location: StoreLocation,
) -> None:
    import psycopg

    url = f"{pg_location.target}?password=s3cret-pw"  # the test server trusts any password
    store = PostgresStore(url, schema=pg_location.schema)
    store.audit.insert(ENTRY)
    with psycopg.connect(pg_location.target, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'negotiation_pipeline' AND pid <> pg_backend_pid()"
        )
    with pytest.raises(StoreAccessError) as caught:
        store.audit.query(AuditQuery())
    message = str(caught.value)
    assert message.startswith(f"PostgreSQL store at {pg_location.target}?password=***")
    assert f"(schema {pg_location.schema})" in message
    assert "s3cret-pw" not in message and "s3cret-pw" not in caught.value.database
    assert isinstance(caught.value, StoreError)
    store.close()
