"""What only the PostgreSQL store has: column types, the write lock, URLs, errors, query plans.

The shared behaviour (round trips, filters, transactions, concurrency) is proven by the rest of
tests/store, which runs every `store` test against both backends.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationEvent
from negotiation_pipeline.domain.negotiation.state_machine import NegotiationStateMachine
from negotiation_pipeline.store import (
    SCHEMA_VERSION,
    Agreement,
    AuditQuery,
    SchemaVersionError,
    SQLiteStore,
    StoreError,
    StoreNotFoundError,
    open_store,
)
from negotiation_pipeline.store.paths import default_db_location, is_postgres_url
from negotiation_pipeline.store.postgres import PostgresStore, redact_url
from tests.store.conftest import StoreLocation, make_campaign

pytestmark = pytest.mark.postgres


def _connect(url: str) -> object:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _column_types(location: StoreLocation, table: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(location.target, autocommit=True) as conn:
        found = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (location.schema, table),
        ).fetchall()
    return dict(found)


def test_native_column_types(pg_store: PostgresStore, pg_location: StoreLocation) -> None:
    agreements = _column_types(pg_location, "agreements")
    assert agreements["rate"] == agreements["cpm"] == "numeric"  # exact money, never float
    assert agreements["agreed_at"] == "timestamp with time zone"
    states = _column_types(pg_location, "negotiation_state")
    assert states["context_json"] == states["lever_state_json"] == "jsonb"
    assert _column_types(pg_location, "audit_log")["timestamp"] == "timestamp with time zone"


def test_money_keeps_its_scale_in_numeric_columns(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    import psycopg

    pg_store.agreements.record(
        Agreement("t1", "camp-1", "Jane", Decimal("1234.5600"), Decimal("21.50"), Decimal("4.10"))
    )
    with psycopg.connect(pg_location.target, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg_location.schema}"')
        row = conn.execute("SELECT rate::text, cpm::text FROM agreements").fetchone()
    assert row == ("1234.5600", "21.50")
    (got,) = pg_store.agreements.for_campaign("camp-1")
    assert (str(got.rate), str(got.cpm), str(got.engagement_rate)) == ("1234.5600", "21.50", "4.10")


def test_write_transaction_holds_the_store_lock_and_readers_do_not_wait(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    """The advisory lock is BEGIN IMMEDIATE's equivalent: taken at BEGIN, freed at COMMIT."""
    import psycopg

    pg_store.mail_cursors.set("INBOX", 1, 5)
    other = psycopg.connect(pg_location.target, autocommit=True)
    other.execute(f'SET search_path TO "{pg_location.schema}"')
    key = pg_store._lock_key
    try:
        with pg_store.transaction() as uow:
            uow.mail_cursors.set("INBOX", 1, 6)
            with other.transaction():
                got = other.execute("SELECT pg_try_advisory_xact_lock(%s)", (key,)).fetchone()
                assert got == (False,)  # a second writer would queue here
                # ...while a reader sees the last committed value without waiting.
                row = other.execute("SELECT last_uid FROM mail_cursor").fetchone()
                assert row == (5,)
        with other.transaction():
            got = other.execute("SELECT pg_try_advisory_xact_lock(%s)", (key,)).fetchone()
            assert got == (True,)
    finally:
        other.close()
    cursor = pg_store.mail_cursors.get("INBOX")
    assert cursor is not None and cursor.last_uid == 6


def test_writer_waits_for_the_open_transaction_instead_of_failing(pg_store: PostgresStore) -> None:
    pg_store.mail_cursors.set("INBOX", 1, 0)
    order: list[str] = []
    started = threading.Event()

    def second_writer() -> None:
        started.set()
        pg_store.mail_cursors.set("INBOX", 1, 99)
        order.append("second committed")

    with pg_store.transaction() as uow:
        worker = threading.Thread(target=second_writer)
        worker.start()
        started.wait(5)
        worker.join(timeout=0.5)  # it must still be waiting on the lock
        assert worker.is_alive()
        uow.mail_cursors.set("INBOX", 1, 1)
        order.append("first committing")
    worker.join(timeout=10)
    assert order == ["first committing", "second committed"]
    cursor = pg_store.mail_cursors.get("INBOX")
    assert cursor is not None and cursor.last_uid == 99


def test_error_caught_inside_a_transaction_is_not_a_silent_commit(pg_store: PostgresStore) -> None:
    import psycopg

    with pytest.raises(StoreError, match="rolled the whole transaction back"):  # noqa: SIM117
        with pg_store.transaction() as uow:
            uow.mail_cursors.set("INBOX", 1, 1)
            try:
                uow.inbound.record("<m@x>", status="own", received_at=datetime.now(UTC))
                # Fails on the server (bigint out of range), which aborts the transaction.
                uow.campaigns.upsert("c", client_name="A", status="s", task_date_updated=2**70)
            except psycopg.DataError:
                pass  # the caller swallowed it; the transaction is dead all the same
    assert pg_store.mail_cursors.get("INBOX") is None
    assert pg_store.inbound.get("<m@x>") is None
    pg_store.mail_cursors.set("INBOX", 1, 2)  # the connection is usable afterwards


def test_nul_characters_are_refused_with_a_clear_error_and_nothing_written(
    pg_store: PostgresStore,
) -> None:
    """PostgreSQL text cannot hold U+0000 (SQLite can): the write fails whole, never truncated."""
    with pytest.raises(Exception, match="NUL"):
        pg_store.audit.insert_many(
            [
                AuditEntry(event_type=EventType.EMAIL_RECEIVED, email_body="fine"),
                AuditEntry(event_type=EventType.EMAIL_RECEIVED, email_body="bad\x00body"),
            ]
        )
    assert pg_store.audit.query(AuditQuery()) == []


def test_reopen_is_idempotent_and_create_false_needs_the_tables(
    pg_location: StoreLocation,
) -> None:
    with pytest.raises(StoreNotFoundError, match=pg_location.schema or ""):
        pg_location.open(create=False)
    first = pg_location.open()
    first.mail_cursors.set("INBOX", 7, 42)
    first.close()
    second = pg_location.open(create=False)
    assert second.schema_version == SCHEMA_VERSION
    cursor = second.mail_cursors.get("INBOX")
    assert cursor is not None and cursor.last_uid == 42
    second.close()


def test_newer_schema_version_is_refused(pg_location: StoreLocation) -> None:
    import psycopg

    pg_location.open().close()
    with psycopg.connect(pg_location.target, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg_location.schema}"')
        conn.execute("INSERT INTO schema_version VALUES (%s, now())", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaVersionError, match="newer"):
        pg_location.open()


def test_open_store_picks_the_backend_from_the_location(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = open_store(postgres_url)
    assert isinstance(opened, PostgresStore)
    opened.close()
    assert isinstance(open_store(tmp_path / "x.db"), SQLiteStore)
    monkeypatch.setenv("NEGOTIATION_DB", f"  {postgres_url} ")
    assert default_db_location() == postgres_url
    from_env = open_store()
    assert isinstance(from_env, PostgresStore)
    from_env.close()
    monkeypatch.setenv("NEGOTIATION_DB", str(tmp_path / "y.db"))
    assert default_db_location() == tmp_path / "y.db"


def test_url_detection_and_password_redaction() -> None:
    assert is_postgres_url("postgresql://u@h/db") and is_postgres_url("postgres://h/db")
    assert not is_postgres_url("/var/lib/negotiation.db")
    assert not is_postgres_url("sqlite:///x.db") and not is_postgres_url(Path("/x"))
    assert (
        redact_url("postgresql://agent:s3cret@db:5432/neg") == "postgresql://agent:***@db:5432/neg"
    )
    assert redact_url("postgresql://agent@db/neg") == "postgresql://agent@db/neg"


def test_unreachable_server_error_names_the_place_but_not_the_password() -> None:
    from tests.servers import free_port

    url = f"postgresql://agent:s3cret-pw@127.0.0.1:{free_port()}/neg"
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as caught:
        PostgresStore(url, connect_timeout_s=2)
    assert "s3cret-pw" not in str(caught.value)
    assert "agent:***@127.0.0.1" in str(caught.value)


def test_missing_psycopg_is_a_clear_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg → ImportError
    with pytest.raises(StoreError, match=r"psycopg.*uv sync --extra postgres"):
        open_store("postgresql://agent@127.0.0.1/neg")


def test_audit_filters_use_their_index_without_a_sort(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    """Each filter plus the newest-first order is one backward index scan (no Sort node)."""
    import psycopg

    pg_store.audit.insert_many(
        AuditEntry(
            event_type=EventType.AGREEMENT if i % 40 == 0 else EventType.EMAIL_SENT,
            influencer_name=f"person {i % 50}",
            campaign_id=f"camp-{i % 7}",
            thread_id=f"t{i % 90}",
        )
        for i in range(2000)
    )
    cases = {
        "idx_audit_influencer": "influencer_key = 'person 3'",
        "idx_audit_campaign": "campaign_id = 'camp-3'",
        "idx_audit_event": "event_type = 'agreement'",
        "idx_audit_thread": "thread_id = 't5'",
        "idx_audit_timestamp": "\"timestamp\" >= '2020-01-01'",
    }
    with psycopg.connect(pg_location.target, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg_location.schema}"')
        conn.execute("ANALYZE audit_log")
        conn.execute("SET enable_seqscan = off")  # a 2,000-row table would not need an index
        conn.execute("SET enable_bitmapscan = off")
        for index, condition in cases.items():
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    f"EXPLAIN SELECT * FROM audit_log WHERE {condition} "
                    'ORDER BY "timestamp" DESC, id DESC LIMIT 50'
                )
            )
            assert f"Index Scan Backward using {index}" in plan, plan
            assert "Sort" not in plan, plan


def test_store_in_a_named_schema_is_isolated(postgres_url: str) -> None:
    from tests.store.conftest import drop_schema

    a = PostgresStore(postgres_url, schema="isolation_a")
    b = PostgresStore(postgres_url, schema="isolation_b")
    try:
        machine = NegotiationStateMachine()
        a.states.save("t1", machine, {}, make_campaign(), {}, 0)
        assert a.states.load("t1") is not None
        assert b.states.load("t1") is None
        assert a._lock_key != b._lock_key  # separate stores do not queue on each other
    finally:
        a.close()
        b.close()
        drop_schema(postgres_url, "isolation_a")
        drop_schema(postgres_url, "isolation_b")


def test_load_active_uses_the_live_index(pg_store: PostgresStore) -> None:
    """The statement load_active sends can be answered from the partial index over live rows
    (its WHERE implies the index's), in index order, so finished history is never read."""
    for number in range(50):
        machine = NegotiationStateMachine()
        machine.trigger(NegotiationEvent.SEND_OFFER)
        if number % 5:
            machine.trigger(NegotiationEvent.ACCEPT)
        pg_store.states.save(f"t{number:02}", machine, {}, make_campaign(), {}, 0)
    conn = pg_store._thread_connection(open_new=True)
    assert conn is not None
    sent: list[str] = []
    execute = conn.execute

    def recording(query: Any, params: Any = None, **kwargs: Any) -> Any:
        sent.append(str(query))
        return execute(query, params, **kwargs)

    conn.execute = recording  # type: ignore[method-assign]
    try:
        listed = pg_store.states.load_active()
    finally:
        del conn.execute
    assert [s.thread_id for s in listed] == [f"t{n:02}" for n in range(0, 50, 5)]
    (query,) = [q for q in sent if q.lstrip().upper().startswith("SELECT")]
    conn.execute("ANALYZE negotiation_state")
    conn.execute("SET enable_seqscan = off")  # 50 rows would not need an index
    conn.execute("SET enable_bitmapscan = off")
    try:
        plan = "\n".join(row["QUERY PLAN"] for row in conn.execute(f"EXPLAIN {query}"))
    finally:
        conn.execute("RESET enable_seqscan")
        conn.execute("RESET enable_bitmapscan")
    assert "using idx_neg_state_live" in plan, plan
    assert "Sort" not in plan and "Filter" not in plan, plan
