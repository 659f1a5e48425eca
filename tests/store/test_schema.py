from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from negotiation_pipeline.store import (
    SCHEMA_VERSION,
    NegotiationStore,
    SchemaVersionError,
    SQLiteStore,
    StoreError,
    StoreNotFoundError,
    UnitOfWork,
    default_db_path,
)

EXPECTED_TABLES = {
    "campaigns",
    "negotiation_state",
    "audit_log",
    "inbound_messages",
    "outbox",
    "agreements",
    "mail_cursor",
    "notification_outbox",
    "schema_version",
}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def test_file_is_in_wal_mode_with_foreign_keys_and_busy_timeout(sqlite_store: SQLiteStore) -> None:
    store = sqlite_store
    with sqlite3.connect(store.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store.transaction() as _:
        conn = store._thread_connection(open_new=False)
        assert conn is not None
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000


def test_schema_created_and_reopen_is_idempotent(db_path: Path) -> None:
    first = SQLiteStore(db_path)
    first.mail_cursors.set("INBOX", 7, 42)
    first.close()
    second = SQLiteStore(db_path)  # runs every CREATE ... IF NOT EXISTS again
    assert _tables(db_path) >= EXPECTED_TABLES
    assert second.schema_version == SCHEMA_VERSION
    cursor = second.mail_cursors.get("INBOX")
    assert cursor is not None and cursor.last_uid == 42
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


def test_missing_file_is_an_error_when_create_is_false(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(StoreNotFoundError, match=r"nope\.db"):
        SQLiteStore(missing, create=False)
    assert not missing.exists()


def test_newer_schema_version_is_refused(db_path: Path) -> None:
    SQLiteStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, 'x')", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaVersionError, match="newer"):
        SQLiteStore(db_path)


def test_nested_store_call_inside_transaction_is_a_clear_error(store: NegotiationStore) -> None:
    with pytest.raises(StoreError, match="use the unit of work"), store.transaction():
        store.outbox.pending()


def test_unit_of_work_cannot_be_used_after_its_transaction(store: NegotiationStore) -> None:
    with store.transaction() as uow:
        pass
    with pytest.raises(StoreError, match="ended"):
        uow.outbox.pending()


def test_default_db_path_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEGOTIATION_DB", raising=False)
    assert default_db_path() == Path(".sandbox/negotiation.db")
    monkeypatch.setenv("NEGOTIATION_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"


def test_money_columns_are_text_not_real(db_path: Path) -> None:
    SQLiteStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        columns = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(agreements)")}
    assert columns["rate"] == "TEXT" and columns["cpm"] == "TEXT"


def test_store_satisfies_the_store_interface(store: NegotiationStore) -> None:
    """Typed against the Protocols (mypy checks it); callers depend on these, not on SQLite."""
    interface: NegotiationStore = store
    with interface.transaction() as uow:
        unit: UnitOfWork = uow
        assert unit.inbound.record("<a@b>", status="own")
    assert interface.inbound.seen("<a@b>")
