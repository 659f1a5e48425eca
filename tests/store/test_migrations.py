"""Upgrading a store written by an older version: nothing lost, and the same schema as a new store.

The old stores: fixtures/store_v1.db, a SQLite file written by the code at schema version 1 (see
fixtures/make_store_v1.py); for PostgreSQL, the frozen version-1 DDL (fixtures/postgres_v1.py)
filled with the same rows. The comparisons are against a new store made by the current code, so
a schema change without its step in migrations.py, or a step that builds something else than the
new-store schema, fails here whatever the change is.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import TERMINAL_STATES, NegotiationState
from negotiation_pipeline.store import (
    SCHEMA_VERSION,
    AuditQuery,
    MigrationError,
    SchemaVersionError,
    SQLiteStore,
    StoreNotFoundError,
    codec,
    migrations,
)
from negotiation_pipeline.store.migrations import FIRST_VERSION, STEPS, Step, check_steps
from negotiation_pipeline.store.postgres import PostgresStore
from negotiation_pipeline.store.schema import LIVE_NEGOTIATION
from negotiation_pipeline.workflow.persistence import load_negotiation
from tests.store.conftest import BACKENDS, StoreLocation, drop_schema
from tests.store.fixtures.postgres_v1 import POSTGRES_V1_STATEMENTS
from tests.store.schema_introspection import postgres_schema, sqlite_schema

FIXTURE = Path(__file__).parent / "fixtures" / "store_v1.db"
Rows = dict[str, list[dict[str, Any]]]


def fixture_rows() -> Rows:
    """Every row of the version-1 file, table by table, in insertion order."""
    with closing(sqlite3.connect(f"file:{FIXTURE}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: [dict(row) for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid')]
            for table in tables
        }


def build_postgres_v1(location: StoreLocation, rows: Rows) -> None:
    """A version-1 PostgreSQL store holding `rows`, as that version's code would have left it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(location.target, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(str(location.schema))))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(str(location.schema))))
        with conn.transaction():
            for statement in POSTGRES_V1_STATEMENTS:
                conn.execute(statement)
            for table, found in rows.items():
                for row in found:  # text values: the server casts them to each column's type
                    conn.execute(
                        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                            sql.Identifier(table),
                            sql.SQL(", ").join(map(sql.Identifier, row)),
                            sql.SQL(", ").join([sql.Placeholder()] * len(row)),
                        ),
                        list(row.values()),
                    )
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), MAX(id)) FROM audit_log"
            )


@pytest.fixture(params=BACKENDS)
def old_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreLocation]:
    """Where a version-1 store lives, not opened yet (opening it migrates it)."""
    if request.param == "sqlite":
        path = tmp_path / "old.db"
        shutil.copyfile(FIXTURE, path)
        yield StoreLocation("sqlite", str(path))
        return
    url: str = request.getfixturevalue("postgres_url")
    location = StoreLocation("postgres", url, f"old_{uuid.uuid4().hex[:12]}")
    build_postgres_v1(location, fixture_rows())
    yield location
    drop_schema(url, str(location.schema))


@pytest.fixture
def new_location(old_location: StoreLocation, tmp_path: Path) -> Iterator[StoreLocation]:
    """A store the current code creates, on the same engine as `old_location`."""
    if old_location.backend == "sqlite":
        location = StoreLocation("sqlite", str(tmp_path / "new.db"))
    else:
        location = StoreLocation("postgres", old_location.target, f"new_{uuid.uuid4().hex[:12]}")
    location.open().close()
    yield location
    if location.schema is not None:
        drop_schema(location.target, location.schema)


def describe_schema(location: StoreLocation) -> dict[str, Any]:
    if location.backend == "sqlite":
        with closing(sqlite3.connect(location.target)) as conn:
            return sqlite_schema(conn)
    import psycopg

    with psycopg.connect(location.target, autocommit=True) as conn:
        return postgres_schema(conn, str(location.schema))


def recorded_versions(location: StoreLocation) -> list[tuple[int, str]]:
    """(version, applied_at) rows of schema_version, read around the store."""
    sql = "SELECT version, applied_at FROM schema_version ORDER BY version"
    if location.backend == "sqlite":
        with closing(sqlite3.connect(location.target)) as conn:
            return [(v, str(at)) for v, at in conn.execute(sql)]
    import psycopg
    from psycopg import sql as pgsql

    assert location.schema is not None, "each PostgreSQL test store lives in its own schema"
    with psycopg.connect(location.target, autocommit=True) as conn:
        conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(location.schema)))
        return [(v, str(at)) for v, at in conn.execute(sql)]


# --- what must survive ----------------------------------------------------------------------
def assert_every_row_survived(store: SQLiteStore | PostgresStore, rows: Rows) -> None:
    """Each row of the version-1 store, read back through the repositories, means the same."""
    negotiations = rows["negotiation_state"]
    assert negotiations, "the fixture must hold negotiations"
    for raw in negotiations:
        stored = store.states.load(raw["thread_id"])
        assert stored is not None, raw["thread_id"]
        assert stored.state.value == raw["state"] and stored.round_count == raw["round_count"]
        assert stored.context == codec.loads_tagged(raw["context_json"])
        assert stored.campaign == Campaign.model_validate_json(raw["campaign_json"])
        assert stored.cpm_tracker_data == codec.loads_plain(raw["cpm_tracker_json"])
        assert stored.lever_state == codec.loads_tagged(raw["lever_state_json"])
        history = [[f.value, e, t.value] for f, e, t in stored.state_machine.history]
        assert history == codec.loads_plain(raw["history_json"])
        assert (stored.campaign_id, stored.influencer_name, stored.influencer_email) == (
            raw["campaign_id"], raw["influencer_name"], raw["influencer_email"],
        )  # fmt: skip
        assert (stored.controlled_by.value, stored.agency_name) == (
            raw["controlled_by"], raw["agency_name"],
        )  # fmt: skip
        assert stored.created_at == codec.parse_timestamp(raw["created_at"])
        assert stored.updated_at == codec.parse_timestamp(raw["updated_at"])
        assert load_negotiation(stored).thread_id == raw["thread_id"]  # the engine reads it
        (by_email,) = [
            s
            for s in store.states.load_by_email(raw["influencer_email"])
            if s.thread_id == raw["thread_id"]
        ]
        assert by_email.state is stored.state
    terminal = {s.value for s in TERMINAL_STATES}
    assert sorted(s.thread_id for s in store.states.load_active()) == sorted(
        r["thread_id"] for r in negotiations if r["state"] not in terminal
    )
    for raw in rows["campaigns"]:
        record = store.campaigns.get(raw["campaign_id"])
        assert record is not None and record.status == raw["status"]
        assert record.campaign == Campaign.model_validate_json(raw["campaign_json"])
        assert [s.thread_id for s in store.states.summaries_for_campaign(raw["campaign_id"])] == [
            r["thread_id"] for r in negotiations if r["campaign_id"] == raw["campaign_id"]
        ]
    agreements = {
        (a.thread_id, str(a.rate), str(a.cpm), str(a.engagement_rate), a.agreed_at)
        for raw in rows["campaigns"]
        for a in store.agreements.for_campaign(raw["campaign_id"])
    }
    assert agreements == {
        (r["thread_id"], r["rate"], r["cpm"], str(r["engagement_rate"]),
         codec.parse_timestamp(r["agreed_at"]))
        for r in rows["agreements"]
    }  # fmt: skip
    audit = store.audit.query(AuditQuery(limit=100_000))
    assert sorted((e.id, e.event_type.value, e.thread_id, e.timestamp) for e in audit) == sorted(
        (r["id"], r["event_type"], r["thread_id"], codec.parse_timestamp(r["timestamp"]))
        for r in rows["audit_log"]
    )
    assert {e.id: e.metadata for e in audit} == {
        r["id"]: None if r["metadata"] is None else codec.loads_plain(r["metadata"])
        for r in rows["audit_log"]
    }
    for raw in rows["outbox"]:
        email = store.outbox.get(raw["message_id"])
        assert email is not None, raw["message_id"]
        assert (email.status.value, email.to_addr, email.subject, email.body) == (
            raw["status"], raw["to_addr"], raw["subject"], raw["body"],
        )  # fmt: skip
        assert (email.thread_id, email.in_reply_to, email.references) == (
            raw["thread_id"], raw["in_reply_to"], raw["references"],
        )  # fmt: skip
    assert [e.message_id for e in store.outbox.pending()] == [
        r["message_id"] for r in rows["outbox"] if r["status"] == "pending"
    ]
    for raw in rows["inbound_messages"]:
        message = store.inbound.get(raw["message_id"])
        assert message is not None, raw["message_id"]
        assert (message.status.value, message.thread_id, message.from_addr) == (
            raw["status"], raw["thread_id"], raw["from_addr"],
        )  # fmt: skip
        assert message.received_at == codec.parse_timestamp(raw["received_at"])
    assert rows["mail_cursor"], "the fixture must hold a mail cursor"
    for raw in rows["mail_cursor"]:
        cursor = store.mail_cursors.get(raw["mailbox"])
        assert cursor is not None
        assert (cursor.uidvalidity, cursor.last_uid) == (raw["uidvalidity"], raw["last_uid"])


def test_fixture_is_a_version_1_store_with_every_kind_of_row() -> None:
    rows = fixture_rows()
    assert [r["version"] for r in rows["schema_version"]] == [1]
    for table in ("negotiation_state", "agreements", "audit_log", "outbox", "inbound_messages"):
        assert rows[table], f"{table} is empty in the fixture"
    states = {r["state"] for r in rows["negotiation_state"]}
    assert states & {s.value for s in TERMINAL_STATES} and states - {"agreed"}


# --- the upgrade ------------------------------------------------------------------------------
def test_upgrade_keeps_every_row_readable(old_location: StoreLocation) -> None:
    store = old_location.open(create=False)  # the CLI's way: an existing store only
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert_every_row_survived(store, fixture_rows())
    finally:
        store.close()
    assert [v for v, _ in recorded_versions(old_location)] == list(
        range(FIRST_VERSION, SCHEMA_VERSION + 1)
    )


def test_upgraded_schema_equals_a_new_stores(
    old_location: StoreLocation, new_location: StoreLocation
) -> None:
    old_location.open().close()
    upgraded, new = describe_schema(old_location), describe_schema(new_location)
    tables = upgraded.get("tables") or upgraded["columns"]
    assert "negotiation_state" in tables and "idx_neg_state_live" in upgraded["indexes"]
    assert upgraded == new


def test_an_upgraded_store_takes_writes(old_location: StoreLocation) -> None:
    from negotiation_pipeline.domain.audit import AuditEntry
    from negotiation_pipeline.domain.enums import EventType
    from negotiation_pipeline.store import OutboxEmail

    rows = fixture_rows()
    store = old_location.open()
    try:
        new_id = store.audit.insert(AuditEntry(event_type=EventType.ERROR, thread_id="later"))
        assert new_id > max(r["id"] for r in rows["audit_log"])
        assert store.outbox.add(OutboxEmail("<later@x>", "a@b.com", "s", "b", thread_id="t"))
        assert [e.message_id for e in store.outbox.pending()] == ["<later@x>"]
        (active,) = [s for s in store.states.load_active() if s.state is NegotiationState.ESCALATED]
        assert store.states.set_controlled_by(active.thread_id, "human")
        assert store.states.load_active()[0].controlled_by.value == "human"
    finally:
        store.close()


def test_reopening_an_upgraded_store_changes_nothing(old_location: StoreLocation) -> None:
    old_location.open().close()
    versions, schema = recorded_versions(old_location), describe_schema(old_location)
    reopened = old_location.open()
    assert reopened.schema_version == SCHEMA_VERSION
    reopened.close()
    assert recorded_versions(old_location) == versions
    assert describe_schema(old_location) == schema


def _open_when_told(location: StoreLocation, go: Any) -> None:
    go.wait(30)
    store = location.open()
    assert store.schema_version == SCHEMA_VERSION
    store.close()


def test_processes_opening_an_old_store_at_once_upgrade_it_once(
    old_location: StoreLocation,
) -> None:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    workers = [context.Process(target=_open_when_told, args=(old_location, go)) for _ in range(3)]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert [v for v, _ in recorded_versions(old_location)] == list(
        range(FIRST_VERSION, SCHEMA_VERSION + 1)
    )
    store = old_location.open()
    try:
        assert_every_row_survived(store, fixture_rows())
    finally:
        store.close()


def test_a_failing_step_leaves_the_old_store_as_it_was(
    old_location: StoreLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = describe_schema(old_location)
    broken = Step(
        SCHEMA_VERSION + 1,
        "a step that cannot run",
        sqlite=("ALTER TABLE no_such_table ADD COLUMN x TEXT",),
        postgres=("ALTER TABLE no_such_table ADD COLUMN x TEXT",),
    )
    monkeypatch.setattr(migrations, "STEPS", (*STEPS, broken))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(MigrationError, match=rf"step {SCHEMA_VERSION + 1} \(a step that cannot"):
        old_location.open()
    assert [v for v, _ in recorded_versions(old_location)] == [FIRST_VERSION]
    assert describe_schema(old_location) == before  # the earlier steps were rolled back too
    monkeypatch.undo()
    store = old_location.open()
    try:
        assert_every_row_survived(store, fixture_rows())
    finally:
        store.close()


def test_a_new_step_reaches_current_stores_once(
    old_location: StoreLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a later schema change looks like: one appended step, run on the next open only."""
    old_location.open().close()  # now at today's version
    column = "ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"
    added = Step(SCHEMA_VERSION + 1, "rank queued emails", sqlite=(column,), postgres=(column,))
    monkeypatch.setattr(migrations, "STEPS", (*STEPS, added))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    for _ in range(2):
        store = old_location.open()
        assert store.schema_version == SCHEMA_VERSION + 1
        store.close()
    assert [v for v, _ in recorded_versions(old_location)] == list(
        range(FIRST_VERSION, SCHEMA_VERSION + 2)
    )
    schema = describe_schema(old_location)
    outbox = (
        schema["tables"]["outbox"]["columns"] if "tables" in schema else schema["columns"]["outbox"]
    )
    assert "priority" in outbox
    store = old_location.open()
    try:
        assert_every_row_survived(store, fixture_rows())
    finally:
        store.close()


# --- refusing what cannot be upgraded ---------------------------------------------------------
def test_tables_without_a_recorded_version_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "unknown.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE negotiation_state (thread_id TEXT PRIMARY KEY)")
        conn.commit()
    with pytest.raises(SchemaVersionError, match="no schema_version"):
        SQLiteStore(path)


def test_a_version_older_than_the_first_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    SQLiteStore(path).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version VALUES (0, 'x')")
        conn.commit()
    with pytest.raises(SchemaVersionError, match="older than any"):
        SQLiteStore(path)


def test_create_false_refuses_a_file_without_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE unrelated (x)")
        conn.commit()
    with pytest.raises(StoreNotFoundError, match=r"no negotiation store in .*other\.db"):
        SQLiteStore(path, create=False)
    with closing(sqlite3.connect(path)) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"unrelated"}  # nothing was created


# --- the list of steps ------------------------------------------------------------------------
def test_steps_are_numbered_consecutively_from_the_first_version() -> None:
    check_steps(STEPS)
    assert FIRST_VERSION + len(STEPS) == SCHEMA_VERSION
    step = Step(FIRST_VERSION + 1, "x", sqlite=("SELECT 1",), postgres=("SELECT 1",))
    later = Step(FIRST_VERSION + 3, "y", sqlite=("SELECT 1",), postgres=())
    with pytest.raises(SchemaVersionError, match="should be 3"):
        check_steps([step, later])
    with pytest.raises(SchemaVersionError, match="no statements"):
        check_steps([Step(FIRST_VERSION + 1, "empty", sqlite=(), postgres=())])


def test_live_predicate_names_exactly_the_terminal_states() -> None:
    listed = set(LIVE_NEGOTIATION.split("(", 1)[1].rstrip(")").replace("'", "").split(", "))
    assert listed == {s.value for s in TERMINAL_STATES}
    # Changing the terminal states changes the live index: that needs a new step.
    assert LIVE_NEGOTIATION in STEPS[0].sqlite[0] and LIVE_NEGOTIATION in STEPS[0].postgres[0]
