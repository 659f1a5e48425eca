"""negotiation_state.followup_not_before: set, kept by saves, cleared; added to older stores."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import NegotiationEvent
from negotiation_pipeline.store import (
    SCHEMA_VERSION,
    NegotiationStore,
    SchemaVersionError,
    SQLiteStore,
)
from negotiation_pipeline.store.postgres import PostgresStore
from tests.store.conftest import StoreLocation
from tests.store.test_migrations import FIXTURE
from tests.store.test_states import machine_in, save

HOLD = datetime(2026, 12, 15, 0, 0, tzinfo=UTC)


def test_hold_is_set_kept_by_saves_and_cleared(store: NegotiationStore) -> None:
    save(store, "t-1", machine_in(NegotiationEvent.SEND_OFFER))
    before = store.states.load("t-1")
    assert before is not None and before.followup_not_before is None

    assert store.states.set_followup_not_before("t-1", HOLD) is True
    held = store.states.load("t-1")
    assert held is not None and held.followup_not_before == HOLD

    # A later save of the row.
    save(store, "t-1", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.RECEIVE_REPLY))
    kept = store.states.load("t-1")
    assert kept is not None and kept.followup_not_before == HOLD
    # The active list names the thread; its full record carries the hold.
    listed = [store.states.load(s.thread_id) for s in store.states.load_active()]
    assert [s.followup_not_before for s in listed if s is not None] == [HOLD]

    assert store.states.set_followup_not_before("t-1", None) is True
    cleared = store.states.load("t-1")
    assert cleared is not None and cleared.followup_not_before is None


def test_hold_in_another_zone_is_the_same_instant(store: NegotiationStore) -> None:
    save(store, "t-1", machine_in(NegotiationEvent.SEND_OFFER))
    berlin_midnight = datetime(2026, 12, 15, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    store.states.set_followup_not_before("t-1", berlin_midnight)
    loaded = store.states.load("t-1")
    assert loaded is not None and loaded.followup_not_before == berlin_midnight
    assert loaded.followup_not_before.utcoffset() == timedelta(0)  # read back as UTC


def test_hold_refuses_a_naive_time_and_an_unknown_thread(store: NegotiationStore) -> None:
    save(store, "t-1", machine_in(NegotiationEvent.SEND_OFFER))
    with pytest.raises(ValueError, match="no time zone"):
        store.states.set_followup_not_before("t-1", datetime(2026, 12, 15))
    assert store.states.set_followup_not_before("nope", HOLD) is False
    loaded = store.states.load("t-1")
    assert loaded is not None and loaded.followup_not_before is None


def test_hold_is_part_of_the_unit_of_work(store: NegotiationStore) -> None:
    save(store, "t-1", machine_in(NegotiationEvent.SEND_OFFER))
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as uow:
        uow.states.set_followup_not_before("t-1", HOLD)
        raise RuntimeError("boom")
    loaded = store.states.load("t-1")
    assert loaded is not None and loaded.followup_not_before is None  # rolled back


def test_a_version_1_sqlite_file_gets_the_column_and_keeps_its_rows(db_path: Path) -> None:
    shutil.copyfile(FIXTURE, db_path)  # a real version-1 store
    with closing(sqlite3.connect(db_path)) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(negotiation_state)")}
    assert "followup_not_before" not in columns  # really the old layout

    first = SQLiteStore(db_path)
    assert first.schema_version == SCHEMA_VERSION
    first.close()
    with sqlite3.connect(db_path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(negotiation_state)")}
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert "followup_not_before" in columns
    assert versions == list(range(1, SCHEMA_VERSION + 1))  # every step recorded

    upgraded = SQLiteStore(db_path)  # opening again changes nothing
    save(upgraded, "t-old", machine_in(NegotiationEvent.SEND_OFFER))
    loaded = upgraded.states.load("t-old")
    assert loaded is not None and loaded.followup_not_before is None
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_rows_written_before_the_upgrade_load_with_no_hold(db_path: Path) -> None:
    shutil.copyfile(FIXTURE, db_path)  # a real version-1 store and its negotiations
    with closing(sqlite3.connect(db_path)) as conn:
        thread_ids = [tid for (tid,) in conn.execute("SELECT thread_id FROM negotiation_state")]
    assert thread_ids
    reopened = SQLiteStore(db_path)
    for thread_id in thread_ids:
        loaded = reopened.states.load(thread_id)
        assert loaded is not None and loaded.followup_not_before is None
    assert reopened.states.set_followup_not_before(thread_ids[0], HOLD) is True


@pytest.mark.postgres
def test_a_version_1_postgres_schema_gets_the_column(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    import psycopg
    from psycopg import sql

    save(pg_store, "t-old", machine_in(NegotiationEvent.SEND_OFFER))
    pg_store.close()
    assert pg_location.schema is not None, "each PostgreSQL test store lives in its own schema"
    with psycopg.connect(pg_location.target, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(pg_location.schema)))
        conn.execute("ALTER TABLE negotiation_state DROP COLUMN followup_not_before")
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version VALUES (1, now())")
    reopened = pg_location.open()
    try:
        assert reopened.schema_version == SCHEMA_VERSION
        loaded = reopened.states.load("t-old")
        assert loaded is not None and loaded.followup_not_before is None
        assert reopened.states.set_followup_not_before("t-old", HOLD) is True
        held = reopened.states.load("t-old")
        assert held is not None and held.followup_not_before == HOLD
    finally:
        reopened.close()


def test_a_newer_file_is_still_refused_before_anything_is_altered(db_path: Path) -> None:
    SQLiteStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("ALTER TABLE negotiation_state DROP COLUMN followup_not_before")
        conn.execute("INSERT INTO schema_version VALUES (?, 'x')", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaVersionError, match="newer"):
        SQLiteStore(db_path)
    with sqlite3.connect(db_path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(negotiation_state)")}
    assert "followup_not_before" not in columns
