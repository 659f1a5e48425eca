"""PostgreSQL's finer locking: non-exclusive transactions run side by side unless they lock the
same thing, exclusive ones still run alone, and mail uid claims belong to one live session."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from negotiation_pipeline.store import Lockable
from negotiation_pipeline.store.postgres import PostgresStore
from tests.store.conftest import StoreLocation

pytestmark = pytest.mark.postgres

WAIT_S = 0.5  # long enough to see that a transaction is blocked (it would finish in ms)


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    return worker, done


def _second_store(location: StoreLocation) -> PostgresStore:
    opened = location.open()
    assert isinstance(opened, PostgresStore)
    return opened


def test_transactions_locking_different_threads_run_side_by_side(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    other = _second_store(pg_location)

    def lock_t2() -> None:
        with other.transaction(exclusive=False) as uow:
            uow.lock(Lockable.THREAD, "t2")
            uow.mail_cursors.set("INBOX", 1, 2)

    with pg_store.transaction(exclusive=False) as uow:
        uow.lock(Lockable.THREAD, "t1")
        worker, done = _in_thread(lock_t2)
        assert done.wait(10), "a transaction on another thread must not wait for this one"
    worker.join(10)
    cursor = pg_store.mail_cursors.get("INBOX")
    assert cursor is not None and cursor.last_uid == 2


def test_a_second_transaction_locking_the_same_thread_waits_for_the_first(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    other = _second_store(pg_location)
    order: list[str] = []

    def lock_t1() -> None:
        with other.transaction(exclusive=False) as uow:
            uow.lock(Lockable.THREAD, "t1")
            order.append("second has t1")

    with pg_store.transaction(exclusive=False) as uow:
        uow.lock(Lockable.THREAD, "t1")
        worker, done = _in_thread(lock_t1)
        assert not done.wait(WAIT_S)
        order.append("first commits")
    worker.join(10)
    assert order == ["first commits", "second has t1"]


@pytest.mark.parametrize("first_exclusive", [True, False], ids=["exclusive-first", "keyed-first"])
def test_an_exclusive_transaction_and_a_keyed_one_never_overlap(
    pg_store: PostgresStore, pg_location: StoreLocation, first_exclusive: bool
) -> None:
    other = _second_store(pg_location)

    def the_other_kind() -> None:
        with other.transaction(exclusive=first_exclusive is False) as uow:
            uow.mail_cursors.set("INBOX", 1, 7)

    with pg_store.transaction(exclusive=first_exclusive) as uow:
        uow.mail_cursors.set("INBOX", 1, 3)
        worker, done = _in_thread(the_other_kind)
        assert not done.wait(WAIT_S)
    worker.join(10)
    cursor = pg_store.mail_cursors.get("INBOX")
    assert cursor is not None and cursor.last_uid == 7


def test_single_writes_do_not_wait_for_a_keyed_transaction(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    other = _second_store(pg_location)
    with pg_store.transaction(exclusive=False) as uow:
        uow.lock(Lockable.MAILBOX, "INBOX")
        started = time.monotonic()
        other.mail_cursors.set("Archive", 1, 1)  # would block behind an exclusive holder
        assert time.monotonic() - started < 5


def test_uid_claims_are_disjoint_and_end_with_the_session(
    pg_store: PostgresStore, pg_location: StoreLocation
) -> None:
    other = _second_store(pg_location)

    mine = pg_store.claim_uids("INBOX", 7, range(1, 11))
    theirs = other.claim_uids("INBOX", 7, range(5, 16))

    assert mine == frozenset(range(1, 11))
    assert theirs == frozenset(range(11, 16))
    assert other.claim_uids("INBOX", 8, [1]) == {1}  # another UIDVALIDITY: other uids
    pg_store.release_uids("INBOX", 7, [5, 6])
    assert other.claim_uids("INBOX", 7, [5, 6, 7]) == {5, 6}
    assert other.claim_uids("INBOX", 7, [4, 7]) == frozenset()  # still the first session's
    pg_store.close()  # the session ends, as when a run's process dies
    assert other.claim_uids("INBOX", 7, [1, 2, 3, 4, 7, 8, 9, 10]) == {1, 2, 3, 4, 7, 8, 9, 10}


def test_a_lock_outside_an_open_transaction_is_refused(pg_store: PostgresStore) -> None:
    with pg_store.transaction(exclusive=False) as uow:
        kept = uow
    with pytest.raises(Exception, match="transaction has ended"):
        kept.lock(Lockable.THREAD, "t1")
