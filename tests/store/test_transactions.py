from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from decimal import Decimal

import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationEvent, NegotiationState
from negotiation_pipeline.domain.negotiation.state_machine import NegotiationStateMachine
from negotiation_pipeline.store import (
    Agreement,
    AuditQuery,
    InboundStatus,
    NegotiationStore,
    OutboxEmail,
    OutboxStatus,
    SQLiteStore,
)
from tests.store.conftest import StoreLocation, make_campaign

TRACKER = {"campaign_id": "camp-1", "agreements": []}


def _email(message_id: str, thread_id: str = "t1") -> OutboxEmail:
    return OutboxEmail(
        message_id=message_id,
        to_addr="jane@example.com",
        subject="Re: Collab",
        body="Happy to offer $1,500.00.",
        thread_id=thread_id,
        campaign_id="camp-1",
        in_reply_to="<their@x>",
        references="<ours@x> <their@x>",
    )


def _seed_negotiation(store: NegotiationStore) -> None:
    machine = NegotiationStateMachine()
    machine.trigger(NegotiationEvent.SEND_OFFER)
    store.states.save("t1", machine, {}, make_campaign(), TRACKER, 0)


def _process_reply(store: NegotiationStore, message_id: str, fail: bool = False) -> bool:
    """What the reply job does: one transaction for dedupe, state, outbox and audit."""
    with store.transaction() as uow:
        if not uow.inbound.record(message_id, status=InboundStatus.PROCESSED, thread_id="t1"):
            return False
        loaded = uow.states.load("t1")
        assert loaded is not None
        machine = loaded.state_machine
        machine.trigger(NegotiationEvent.RECEIVE_REPLY)
        machine.trigger(NegotiationEvent.SEND_COUNTER)
        uow.states.save(
            "t1", machine, loaded.context, loaded.campaign, TRACKER, loaded.round_count + 1
        )
        uow.outbox.add(_email(f"<reply-to-{message_id}>"))
        uow.audit.insert(AuditEntry(event_type=EventType.EMAIL_RECEIVED, thread_id="t1"))
        if fail:
            raise RuntimeError("crash after every write, before commit")
    return True


def test_one_transaction_commits_everything(store: NegotiationStore) -> None:
    _seed_negotiation(store)
    assert _process_reply(store, "<m1@x>") is True
    loaded = store.states.load("t1")
    assert loaded is not None and loaded.state is NegotiationState.COUNTER_SENT
    assert loaded.round_count == 1
    assert [e.message_id for e in store.outbox.pending()] == ["<reply-to-<m1@x>>"]
    assert len(store.audit.query(AuditQuery(thread_id="t1"))) == 1
    assert store.inbound.seen("<m1@x>")


def test_rollback_leaves_nothing_half_written(store: NegotiationStore) -> None:
    _seed_negotiation(store)
    with pytest.raises(RuntimeError, match="crash"):
        _process_reply(store, "<m1@x>", fail=True)
    assert store.inbound.get("<m1@x>") is None
    assert store.outbox.pending() == [] and store.outbox.get("<reply-to-<m1@x>>") is None
    assert store.audit.query(AuditQuery()) == []
    loaded = store.states.load("t1")
    assert loaded is not None
    assert loaded.state is NegotiationState.AWAITING_REPLY and loaded.round_count == 0
    # The message can be processed for real afterwards: the failed attempt left no trace.
    assert _process_reply(store, "<m1@x>") is True


def test_same_message_id_is_processed_once(store: NegotiationStore) -> None:
    _seed_negotiation(store)
    assert _process_reply(store, "<m1@x>") is True
    assert _process_reply(store, "<m1@x>") is False
    assert _process_reply(store, " <m1@x> ") is False  # header whitespace is not a new message
    loaded = store.states.load("t1")
    assert loaded is not None and loaded.round_count == 1
    assert len(store.outbox.for_thread("t1")) == 1


def test_inbound_record_fields(store: NegotiationStore) -> None:
    assert store.inbound.record(
        "<x@y>", status="unmatched", from_addr="a@b.c", subject="Hi", detail="no thread"
    )
    got = store.inbound.get("<x@y>")
    assert got is not None
    assert (got.status, got.from_addr, got.subject, got.detail, got.thread_id) == (
        InboundStatus.UNMATCHED,
        "a@b.c",
        "Hi",
        "no thread",
        None,
    )
    with pytest.raises(ValueError):
        store.inbound.record("<z@y>", status="bogus")


def test_outbox_pending_mark_sent_and_duplicate_add(store: NegotiationStore) -> None:
    assert store.outbox.add(_email("<a@x>")) is True
    assert store.outbox.add(_email("<b@x>")) is True
    assert store.outbox.add(_email("<a@x>")) is False
    assert [e.message_id for e in store.outbox.pending()] == ["<a@x>", "<b@x>"]
    assert store.outbox.mark_sent("<a@x>") is True
    assert store.outbox.mark_sent("<a@x>") is False  # already sent: caller must not resend
    assert store.outbox.mark_sent("<nope@x>") is False
    sent = store.outbox.get("<a@x>")
    assert sent is not None and sent.status is OutboxStatus.SENT and sent.sent_at is not None
    assert sent.references == "<ours@x> <their@x>" and sent.in_reply_to == "<their@x>"
    assert [e.message_id for e in store.outbox.pending(limit=5)] == ["<b@x>"]


def test_agreements_keep_decimal_digits(store: NegotiationStore) -> None:
    assert store.agreements.record(
        Agreement("t1", "camp-1", "Jane", Decimal("1234.5600"), Decimal("0.1") + Decimal("0.2"))
    )
    assert not store.agreements.record(Agreement("t1", "camp-1", "Jane", Decimal(1), Decimal(1)))
    store.agreements.record(
        Agreement("t2", "camp-1", "Bob", Decimal("900"), Decimal("22.50"), Decimal("4.1"))
    )
    got = store.agreements.for_campaign("camp-1")
    assert [(str(a.rate), str(a.cpm)) for a in got] == [("1234.5600", "0.3"), ("900", "22.50")]
    assert got[1].engagement_rate == Decimal("4.1")
    with pytest.raises(ValueError, match="Decimal"):
        store.agreements.record(Agreement("t3", "c", "X", 1500.0, Decimal(1)))  # type: ignore[arg-type]


def test_campaign_upsert_get_list(store: NegotiationStore) -> None:
    store.campaigns.upsert(
        "camp-1", client_name="Acme", status="invalid", task_date_updated=1_700_000_000_000
    )
    store.campaigns.upsert(
        "camp-1",
        client_name="Acme Sports",
        status="active",
        campaign=make_campaign(),
        cpm_tracker_data={"target_min_cpm": Decimal("20.10")},
    )
    got = store.campaigns.get("camp-1")
    assert got is not None
    assert got.campaign == make_campaign() and got.client_name == "Acme Sports"
    assert got.task_date_updated == 1_700_000_000_000  # kept: not given the second time
    assert got.cpm_tracker_data == {"target_min_cpm": "20.10"}
    assert store.campaigns.set_status("camp-1", "done")
    assert [c.campaign_id for c in store.campaigns.list_campaigns(status="done")] == ["camp-1"]
    assert store.campaigns.list_campaigns(status="active") == []
    assert store.campaigns.get("nope") is None


def test_mail_cursor(store: NegotiationStore) -> None:
    assert store.mail_cursors.get("INBOX") is None
    store.mail_cursors.set("INBOX", 111, 5)
    store.mail_cursors.set("INBOX", 111, 9)
    cursor = store.mail_cursors.get("INBOX")
    assert cursor is not None and (cursor.uidvalidity, cursor.last_uid) == (111, 9)


# --- concurrency: read-modify-write through the transaction API must lose no update -----------
INCREMENTS_PER_WORKER = 25


def _increment(store: NegotiationStore) -> None:
    with store.transaction() as uow:
        loaded = uow.states.load("t1")
        assert loaded is not None
        uow.states.save(
            "t1",
            loaded.state_machine,
            loaded.context,
            loaded.campaign,
            TRACKER,
            loaded.round_count + 1,
        )
        cursor = uow.mail_cursors.get("INBOX")
        uow.mail_cursors.set("INBOX", 1, (cursor.last_uid if cursor else 0) + 1)


def _process_worker(location: StoreLocation) -> None:
    store = location.open()
    for _ in range(INCREMENTS_PER_WORKER):
        _increment(store)


def test_concurrent_processes_lose_no_update(store_location: StoreLocation) -> None:
    store = store_location.open()
    _seed_negotiation(store)
    workers = [
        multiprocessing.get_context("spawn").Process(target=_process_worker, args=(store_location,))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    loaded = store.states.load("t1")
    cursor = store.mail_cursors.get("INBOX")
    assert loaded is not None and loaded.round_count == 4 * INCREMENTS_PER_WORKER
    assert cursor is not None and cursor.last_uid == 4 * INCREMENTS_PER_WORKER


def test_threads_sharing_one_store_object_lose_no_update(store: NegotiationStore) -> None:
    _seed_negotiation(store)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(INCREMENTS_PER_WORKER):
                _increment(store)
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    loaded = store.states.load("t1")
    assert loaded is not None and loaded.round_count == 4 * INCREMENTS_PER_WORKER


def test_forked_child_opens_its_own_connection(store: NegotiationStore) -> None:
    _seed_negotiation(store)  # the parent now holds a connection
    child = multiprocessing.get_context("fork").Process(target=_increment, args=(store,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    loaded = store.states.load("t1")
    assert loaded is not None and loaded.round_count == 1


def test_write_lock_is_taken_at_begin(sqlite_store: SQLiteStore) -> None:
    store = sqlite_store
    """BEGIN IMMEDIATE: while a transaction is open, another writer cannot even start."""
    other = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    with store.transaction(), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
