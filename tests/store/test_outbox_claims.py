"""Claims on outbox emails, on both engines: of several deliverers exactly one gets an email,
a claim ends when the email is settled or its lease runs out, and only its owner (or a
deliverer that knows the owner is dead) can give it up early."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier

import pytest

from negotiation_pipeline.store import NegotiationStore, OutboxEmail, OutboxStatus, StoreError
from tests.store.conftest import StoreLocation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=15)
EMAIL = OutboxEmail(
    message_id="<claimed.1@agency.test>",
    to_addr="jane@gmail.com",
    subject="Our offer",
    body="Body",
    thread_id="t1",
    campaign_id="cmp",
)
CLAIMERS = 4


def _claim(store: NegotiationStore, owner: str, at: datetime = T0) -> OutboxEmail | None:
    return store.outbox.claim(EMAIL.message_id, owner, now=at, until=at + LEASE)


def test_of_two_claimers_of_one_email_only_the_first_gets_it(store: NegotiationStore) -> None:
    store.outbox.add(EMAIL)

    first = _claim(store, "run-a")
    second = _claim(store, "run-b")

    assert first is not None and first.claimed_by == "run-a"
    assert first.claimed_until == T0 + LEASE
    assert second is None
    stored = store.outbox.get(EMAIL.message_id)
    assert stored is not None and stored.claimed_by == "run-a"


def _claim_in_process(location: StoreLocation, owner: str, start: Barrier, won: object) -> None:
    store = location.open()
    start.wait(60)
    if _claim(store, owner) is not None:
        won.put(owner)  # type: ignore[attr-defined]
    store.close()


def test_claimers_in_separate_processes_at_the_same_moment_one_wins(
    store: NegotiationStore, store_location: StoreLocation
) -> None:
    store.outbox.add(EMAIL)
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(CLAIMERS)
    won = spawn.Queue()
    workers = [
        spawn.Process(target=_claim_in_process, args=(store_location, f"run-{n}", start, won))
        for n in range(CLAIMERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0] * CLAIMERS
    winners = [won.get(timeout=5) for _ in range(won.qsize())]

    assert len(winners) == 1
    stored = store.outbox.get(EMAIL.message_id)
    assert stored is not None and stored.claimed_by == winners[0]


def test_a_claim_whose_lease_ran_out_is_taken_by_the_next_deliverer(
    store: NegotiationStore,
) -> None:
    store.outbox.add(EMAIL)
    assert _claim(store, "run-a") is not None

    assert _claim(store, "run-b", T0 + LEASE - timedelta(seconds=1)) is None
    taken = _claim(store, "run-b", T0 + LEASE)

    assert taken is not None and taken.claimed_by == "run-b"


def test_a_known_dead_owner_is_replaced_at_once_and_only_that_owner(
    store: NegotiationStore,
) -> None:
    store.outbox.add(EMAIL)
    assert _claim(store, "run-a") is not None
    claim = store.outbox.claim

    assert claim(EMAIL.message_id, "run-c", now=T0, until=T0 + LEASE, replacing="run-b") is None
    taken = claim(EMAIL.message_id, "run-c", now=T0, until=T0 + LEASE, replacing="run-a")

    assert taken is not None and taken.claimed_by == "run-c"


def test_settling_an_email_ends_its_claim(store: NegotiationStore) -> None:
    store.outbox.add(EMAIL)
    assert _claim(store, "run-a") is not None

    assert store.outbox.record_attempt(EMAIL.message_id, "451 later", T0) == 1
    retried = store.outbox.get(EMAIL.message_id)
    assert retried is not None and (retried.claimed_by, retried.claimed_until) == (None, None)
    again = _claim(store, "run-b")
    assert again is not None and again.attempts == 1  # the row as it stands now

    assert store.outbox.mark_sent(EMAIL.message_id, T0)
    sent = store.outbox.get(EMAIL.message_id)
    assert sent is not None and sent.status is OutboxStatus.SENT and sent.claimed_by is None
    assert _claim(store, "run-c", T0 + 2 * LEASE) is None  # sent: never claimed again


def test_a_failed_email_is_never_claimed(store: NegotiationStore) -> None:
    store.outbox.add(EMAIL)
    assert _claim(store, "run-a") is not None
    assert store.outbox.mark_failed(EMAIL.message_id, "550 no such user")

    failed = store.outbox.get(EMAIL.message_id)
    assert failed is not None and failed.claimed_by is None
    assert _claim(store, "run-b", T0 + 2 * LEASE) is None


def test_only_the_owner_releases_a_claim(store: NegotiationStore) -> None:
    store.outbox.add(EMAIL)
    assert _claim(store, "run-a") is not None

    assert not store.outbox.release(EMAIL.message_id, "run-b")
    assert _claim(store, "run-b") is None
    assert store.outbox.release(EMAIL.message_id, "run-a")
    assert _claim(store, "run-b") is not None


def test_an_email_waiting_for_its_retry_is_not_claimed_before_its_time(
    store: NegotiationStore,
) -> None:
    store.outbox.add(EMAIL)
    store.outbox.record_attempt(EMAIL.message_id, "451 later", T0 + timedelta(minutes=5))
    claim = store.outbox.claim

    assert claim(EMAIL.message_id, "run-a", now=T0, until=T0 + LEASE, due_at=T0) is None
    later = T0 + timedelta(minutes=5)
    assert claim(EMAIL.message_id, "run-a", now=T0, until=T0 + LEASE, due_at=later) is not None


def test_a_claim_needs_an_owner_and_a_lease_that_ends_later(store: NegotiationStore) -> None:
    store.outbox.add(EMAIL)
    with pytest.raises(StoreError, match="needs an owner"):
        store.outbox.claim(EMAIL.message_id, " ", now=T0, until=T0 + LEASE)
    with pytest.raises(StoreError, match="end after it starts"):
        store.outbox.claim(EMAIL.message_id, "run-a", now=T0, until=T0)
