"""The notification outbox on both backends: queued once per key, claimed by one deliverer at a
time, marked sent or refused, released on failure, and written with the rest of a transaction."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.store import Notification, NotificationStatus, StoreError
from negotiation_pipeline.store.postgres import PostgresStore
from negotiation_pipeline.store.sqlite import SQLiteStore
from tests.store.conftest import StoreLocation

Store = SQLiteStore | PostgresStore
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
BLOCKS = ({"type": "header", "text": {"type": "plain_text", "text": "Deal agreed: Zoë €"}},)


def _note(key: str, text: str = "Deal agreed") -> Notification:
    return Notification(key=key, channel="agreements", text=text, blocks=BLOCKS)


def test_add_is_once_per_key_and_round_trips_the_message(store: Store) -> None:
    assert store.notifications.add(_note("k-1", "first")) is True
    assert store.notifications.add(_note("k-1", "second")) is False
    stored = store.notifications.get("k-1")
    assert stored is not None
    assert (stored.text, stored.channel, stored.blocks) == ("first", "agreements", BLOCKS)
    assert (stored.status, stored.attempts, stored.sent_at) == (NotificationStatus.PENDING, 0, None)
    assert store.notifications.pending_count() == 1
    with pytest.raises(StoreError, match="key"):
        store.notifications.add(_note(" "))


def test_deliverable_is_oldest_first_and_skips_live_claims(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.notifications.add(_note(key))
    assert store.notifications.claim("b", NOW, NOW + LEASE) is True
    assert [n.key for n in store.notifications.deliverable(NOW)] == ["a", "c"]
    assert [n.key for n in store.notifications.deliverable(NOW, limit=1)] == ["a"]
    # Another deliverer cannot take it while the lease lasts; after it, anyone can.
    assert store.notifications.claim("b", NOW + timedelta(seconds=59), NOW + LEASE) is False
    later = NOW + LEASE
    assert [n.key for n in store.notifications.deliverable(later)] == ["a", "b", "c"]
    assert store.notifications.claim("b", later, later + LEASE) is True


def test_sent_and_refused_are_final_and_failures_release_the_claim(store: Store) -> None:
    for key in ("sent", "refused", "retry"):
        store.notifications.add(_note(key))
        assert store.notifications.claim(key, NOW, NOW + LEASE)
    assert store.notifications.mark_sent("sent", NOW) is True
    assert store.notifications.mark_sent("sent", NOW) is False  # never twice
    assert store.notifications.record_failure("refused", "HTTP 400 invalid_payload", refused=True)
    assert store.notifications.record_failure("retry", "x" * 5000) is True
    assert store.notifications.claim("sent", NOW, NOW + LEASE) is False
    assert store.notifications.claim("refused", NOW, NOW + LEASE) is False
    assert [n.key for n in store.notifications.deliverable(NOW)] == ["retry"]  # claim released
    sent, refused, retry = (store.notifications.get(k) for k in ("sent", "refused", "retry"))
    assert sent is not None and sent.status is NotificationStatus.SENT and sent.sent_at == NOW
    assert refused is not None and refused.status is NotificationStatus.REFUSED
    assert refused.last_error == "HTTP 400 invalid_payload"
    assert retry is not None and retry.attempts == 1 and len(retry.last_error or "") == 2000
    assert store.notifications.pending_count() == 1
    assert [n.key for n in store.notifications.with_status("refused")] == ["refused"]
    assert [n.key for n in store.notifications.with_status(NotificationStatus.SENT)] == ["sent"]


def test_a_notification_commits_or_rolls_back_with_its_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as uow:
        uow.audit.insert(AuditEntry(event_type=EventType.AGREEMENT, campaign_id="c"))
        uow.notifications.add(_note("lost"))
        raise RuntimeError("the change is rolled back")
    assert store.notifications.get("lost") is None
    with store.transaction() as uow:
        uow.audit.insert(AuditEntry(event_type=EventType.AGREEMENT, campaign_id="c"))
        uow.notifications.add(_note("kept"))
    assert store.notifications.get("kept") is not None


def _claim_in_child(location: StoreLocation, key: str, results: multiprocessing.Queue) -> None:
    store = location.open()
    results.put(store.notifications.claim(key, NOW, NOW + LEASE))
    store.close()


def test_only_one_of_many_concurrent_deliverers_claims_a_message(
    store: Store, store_location: StoreLocation
) -> None:
    store.notifications.add(_note("contested"))
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    workers = [
        context.Process(target=_claim_in_child, args=(store_location, "contested", results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    claimed = [results.get(timeout=5) for _ in workers]
    assert sorted(claimed) == [False, False, False, True]
