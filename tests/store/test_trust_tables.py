"""Inbound dedupe by (Message-ID, sender), held messages and allowed senders, on both backends,
and the step that brings a version-1 store up to them."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from negotiation_pipeline.store import (
    SCHEMA_VERSION,
    InboundStatus,
    NegotiationStore,
    SQLiteStore,
    StoreError,
)
from negotiation_pipeline.store.errors import StoreAccessError
from negotiation_pipeline.store.postgres import PostgresStore
from negotiation_pipeline.store.trust_schema import HELD_RAW_MAX_BYTES
from tests.store.conftest import StoreLocation
from tests.store.test_migrations import FIXTURE, build_postgres_v1, fixture_rows


def test_one_message_id_from_two_senders_is_two_messages(store: NegotiationStore) -> None:
    assert store.inbound.record("<m@x>", status="processed", from_addr="a@x.com", thread_id="t1")
    assert store.inbound.record("<m@x>", status="processed", from_addr="b@y.com", thread_id="t2")
    assert not store.inbound.record("<m@x>", status="skipped", from_addr="A@X.com")  # same one
    first, second = store.inbound.get("<m@x>", "a@x.com"), store.inbound.get("<m@x>", "b@y.com")
    assert first is not None and first.thread_id == "t1"
    assert second is not None and second.thread_id == "t2"
    assert store.inbound.seen("<m@x>") and store.inbound.seen("<m@x>", "b@y.com")
    assert not store.inbound.seen("<m@x>", "c@z.com")
    any_sender = store.inbound.get("<m@x>")
    assert any_sender is not None and any_sender.thread_id == "t1"  # the first recorded


def test_a_held_message_is_no_threading_anchor(store: NegotiationStore) -> None:
    store.inbound.record("<h@x>", status="quarantined", from_addr="evil@x.com", thread_id="t9")
    assert store.inbound.thread_for("<h@x>") is None
    store.inbound.record("<h@x>", status="processed", from_addr="jane@x.com", thread_id="t1")
    assert store.inbound.thread_for("<h@x>") == "t1"


def test_held_messages_resolve_exactly_once(store: NegotiationStore) -> None:
    store.inbound.record("<q1@x>", status="quarantined", from_addr="e@x.com", thread_id="t1")
    store.inbound.record("<q2@x>", status="quarantined", from_addr="f@x.com", thread_id="t1")
    store.inbound.record("<q3@x>", status="quarantined", from_addr="e@x.com", thread_id="t2")
    store.inbound.hold("<q1@x>", "e@x.com", "t1", b"From: e@x.com\r\n\r\nhi")

    assert [m.message_id for m in store.inbound.quarantined("t1")] == ["<q1@x>", "<q2@x>"]
    assert [m.message_id for m in store.inbound.quarantined(from_addr="E@x.com")] == [
        "<q1@x>",
        "<q3@x>",
    ]
    assert len(store.inbound.quarantined()) == 3
    kept = store.inbound.held("<q1@x>", "e@x.com")
    assert kept is not None and kept.raw == b"From: e@x.com\r\n\r\nhi" and not kept.truncated

    with store.transaction() as uow:
        assert uow.inbound.resolve("<q1@x>", "e@x.com", status="processed", detail="counter")
        assert not uow.inbound.resolve("<q1@x>", "e@x.com", status="skipped", detail="again")
    row = store.inbound.get("<q1@x>", "e@x.com")
    assert row is not None and row.status is InboundStatus.PROCESSED and row.detail == "counter"
    assert store.inbound.held("<q1@x>", "e@x.com") is None
    assert not store.inbound.resolve("<nope@x>", "e@x.com", status="skipped", detail="x")


def test_held_bytes_are_bounded(store: NegotiationStore) -> None:
    big = b"From: e@x.com\r\n\r\n" + b"x" * (HELD_RAW_MAX_BYTES + 10)
    returned = store.inbound.hold("<big@x>", "e@x.com", "t1", big)
    kept = store.inbound.held("<big@x>", "e@x.com")
    assert kept is not None and kept == returned
    assert kept.truncated and kept.raw_size == len(big) and len(kept.raw) == HELD_RAW_MAX_BYTES
    assert kept.raw == big[:HELD_RAW_MAX_BYTES]


def test_allowed_senders_per_thread(store: NegotiationStore) -> None:
    assert store.allowed_senders.allow("t1", "Casey@b.com", "casey@b.com", allowed_by="cli:m")
    assert not store.allowed_senders.allow("t1", "casey@b.com", "casey@b.com", allowed_by="x")
    assert store.allowed_senders.allow("t2", "desk@b.com", "desk@b.com", allowed_by="cli:m")
    assert store.allowed_senders.is_allowed("t1", "casey@b.com")
    assert not store.allowed_senders.is_allowed("t2", "casey@b.com")
    [casey] = store.allowed_senders.for_thread("t1")
    assert (casey.address, casey.allowed_by) == ("Casey@b.com", "cli:m")
    assert casey.allowed_at.tzinfo is not None
    with pytest.raises(StoreError, match="needs an address"):
        store.allowed_senders.allow("t1", "", " ", allowed_by="x")

    assert store.allowed_senders.threads_with_held() == []
    store.inbound.record("<q@x>", status="quarantined", from_addr="casey@b.com", thread_id="t1")
    store.inbound.record("<q@y>", status="quarantined", from_addr="z@b.com", thread_id="t3")
    assert store.allowed_senders.threads_with_held() == ["t1"]


def test_an_allowance_commits_or_rolls_back_with_its_transaction(store: NegotiationStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as uow:
        uow.allowed_senders.allow("t1", "a@b.com", "a@b.com", allowed_by="x")
        raise RuntimeError("crash before commit")
    assert not store.allowed_senders.is_allowed("t1", "a@b.com")


# --- upgrading a version-1 store ------------------------------------------------------------------
# A real version-1 store (the committed fixture) plus two replies of the kinds that matter here:
# one with a sender, one (unreadable) without.
V1_INBOUND_ROWS = (
    {
        "message_id": "<old@x>", "thread_id": "t1", "campaign_id": "c1",
        "from_addr": "jane@x.com", "subject": "s", "received_at": "2026-01-01T00:00:00.000000Z",
        "status": "processed", "detail": "counter",
    },
    {
        "message_id": "<junk@x>", "thread_id": None, "campaign_id": None, "from_addr": None,
        "subject": None, "received_at": "2026-01-01T00:00:00.000000Z", "status": "skipped",
        "detail": "unreadable",
    },
)  # fmt: skip


def _make_v1_sqlite(path: Path) -> None:
    shutil.copyfile(FIXTURE, path)
    with closing(sqlite3.connect(path)) as conn, conn:
        for row in V1_INBOUND_ROWS:
            conn.execute(
                "INSERT INTO inbound_messages (message_id, thread_id, campaign_id, from_addr, "
                "subject, received_at, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(row.values()),
            )


def _make_v1_postgres(location: StoreLocation) -> None:
    rows = fixture_rows()
    rows["inbound_messages"] = [*rows["inbound_messages"], *V1_INBOUND_ROWS]
    build_postgres_v1(location, rows)


def test_a_version_1_store_is_upgraded_keeping_its_messages(
    store_location: StoreLocation,
) -> None:
    if store_location.backend == "sqlite":
        _make_v1_sqlite(Path(store_location.target))
    else:
        _make_v1_postgres(store_location)

    upgraded = store_location.open()
    try:
        assert upgraded.schema_version == SCHEMA_VERSION
        old = upgraded.inbound.get("<old@x>", "jane@x.com")
        assert old is not None and old.status is InboundStatus.PROCESSED and old.detail == "counter"
        assert upgraded.inbound.seen("<junk@x>", None) and upgraded.inbound.get("<junk@x>", "")
        # the redelivered old message is still a duplicate; a colliding sender is not
        assert not upgraded.inbound.record("<old@x>", status="processed", from_addr="jane@x.com")
        assert upgraded.inbound.record("<old@x>", status="quarantined", from_addr="eve@x.com")
        upgraded.allowed_senders.allow("t1", "a@b.com", "a@b.com", allowed_by="x")
    finally:
        upgraded.close()
    reopened = store_location.open()  # a second open changes nothing
    try:
        assert reopened.schema_version == SCHEMA_VERSION
        assert len(reopened.inbound.quarantined()) == 1
        assert reopened.allowed_senders.is_allowed("t1", "a@b.com")
    finally:
        reopened.close()
    if isinstance(reopened, SQLiteStore):
        with sqlite3.connect(store_location.target) as conn:
            versions = [v for (v,) in conn.execute("SELECT version FROM schema_version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.postgres
def test_postgres_check_constraint_refuses_unknown_statuses(pg_store: PostgresStore) -> None:
    # Driver errors reach callers as the store's own error, naming the cause.
    with pytest.raises(StoreAccessError, match="CheckViolation"), pg_store.transaction() as uow:
        uow.inbound.record("<x@y>", status="processed")
        conn = pg_store._thread_connection(open_new=False)
        assert conn is not None
        conn.execute("UPDATE inbound_messages SET status = 'bogus' WHERE message_id = '<x@y>'")
