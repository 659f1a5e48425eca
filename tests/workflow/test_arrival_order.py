"""One sender's replies are handled in arrival order when two runs read the mailbox at once
(PostgreSQL: the only engine where runs hold uids). "The other run" is a second store session
that claims Jane's first reply and notes its sender, exactly as a run does after fetching it;
the run under test is given the batch with her second reply."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, NegotiationStore
from negotiation_pipeline.workflow import mail_batch
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import AdvanceResult, advance_negotiations
from tests.store.conftest import StoreLocation
from tests.workflow.opened_threads import open_threads
from tests.workflow.support import AGENT, MAILBOX, NOW, engine_config, reply_to, sent_by_recipient

pytestmark = pytest.mark.postgres

JANE = "jane@gmail.com"
JANE_THREAD = thread_id_for("cmp-1", JANE)
FIRST, SECOND = "<first@gmail.com>", "<second@gmail.com>"


@pytest.fixture
def store(pg_location: StoreLocation) -> Iterator[NegotiationStore]:
    opened = pg_location.open()
    yield opened
    opened.close()


@pytest.fixture
def two_replies(store: NegotiationStore, mailbox: MaildirMailbox) -> int:
    """Jane's offer sent; her ask (uid 1), then her acceptance (uid 2), in the inbox."""
    open_threads(store, mailbox=mailbox)
    offer = sent_by_recipient(mailbox)[JANE][-1]
    mailbox.append_to_inbox(reply_to(offer, "My rate would be $1,500.", message_id=FIRST))
    mailbox.append_to_inbox(reply_to(offer, "Deal, that works for me!", message_id=SECOND))
    return mailbox.uidvalidity


def _advance(store: NegotiationStore, mailbox: MaildirMailbox, uidvalidity: int) -> AdvanceResult:
    return advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=[AGENT.address],
        now=NOW,
        uids=[2],
        uidvalidity=uidvalidity,
    )


def _read_order(store: NegotiationStore) -> list[str]:
    trail = reversed(store.audit.query(AuditQuery(thread_id=JANE_THREAD, limit=100)))
    return [
        str((entry.metadata or {}).get("message_id"))
        for entry in trail
        if entry.event_type is EventType.EMAIL_RECEIVED
    ]


def _other_run(
    location: StoreLocation,
    uidvalidity: int,
    then: Callable[[NegotiationStore], object],
    after_s: float = 1.0,
) -> threading.Thread:
    """In its own thread (claims belong to a thread's database session): hold uid 1 as a run
    that fetched it, wait `after_s`, then `then(store)`, then end the session."""
    holding = threading.Event()

    def run() -> None:
        other = location.open()
        assert other.claim_uids(MAILBOX, uidvalidity, [1]) == {1}
        other.mail_cursors.note_senders(MAILBOX, uidvalidity, {1: JANE})
        holding.set()
        time.sleep(after_s)
        then(other)
        other.close()

    worker = threading.Thread(target=run)
    worker.start()
    assert holding.wait(30)
    return worker


def test_the_second_reply_waits_while_another_run_handles_the_first(
    store: NegotiationStore,
    mailbox: MaildirMailbox,
    two_replies: int,
    pg_location: StoreLocation,
) -> None:
    outcomes: list[int] = []

    def other_run_finishes(other: NegotiationStore) -> None:  # a real run, holding uid 1
        done = advance_negotiations(
            other,
            MaildirMailbox(mailbox.root, AGENT),
            engine_config(),
            mailbox_name=MAILBOX,
            agent_addresses=[AGENT.address],
            now=NOW,
            uids=[1],
            uidvalidity=two_replies,
        )
        outcomes.append(done.processed)

    worker = _other_run(pg_location, two_replies, other_run_finishes)
    result = _advance(store, mailbox, two_replies)
    worker.join(30)

    assert outcomes == [1]  # the other run read Jane's first reply

    assert (result.processed, result.waiting_uids, result.failed_uids) == (1, (), ())
    assert result.handled_elsewhere == 1  # uid 1: the other run's
    assert _read_order(store) == [FIRST, SECOND]
    assert result.cursor is not None and result.cursor.last_uid == 2


def test_a_reply_whose_earlier_one_was_let_go_unhandled_handles_both_in_order(
    store: NegotiationStore,
    mailbox: MaildirMailbox,
    two_replies: int,
    pg_location: StoreLocation,
) -> None:
    """The run holding uid 1 stops without handling it (it failed, or died): the waiting run
    takes it over and reads it first."""
    worker = _other_run(pg_location, two_replies, lambda other: None)  # ends, uid 1 unread

    result = _advance(store, mailbox, two_replies)
    worker.join(30)

    assert (result.processed, result.waiting_uids) == (2, ())
    assert _read_order(store) == [FIRST, SECOND]
    assert result.cursor is not None and result.cursor.last_uid == 2


def test_a_reply_behind_a_stuck_run_is_left_for_a_later_run_never_read_out_of_order(
    store: NegotiationStore,
    mailbox: MaildirMailbox,
    two_replies: int,
    pg_location: StoreLocation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mail_batch, "ORDER_WAIT_S", 0.5)
    released = threading.Event()
    worker = _other_run(pg_location, two_replies, lambda other: released.wait(60), after_s=0)

    stuck = _advance(store, mailbox, two_replies)

    assert (stuck.processed, stuck.waiting_uids) == (0, (2,))
    assert store.inbound.get(SECOND) is None  # not read: its sender's earlier reply is pending
    assert stuck.cursor is not None and stuck.cursor.last_uid == 0
    released.set()  # the stuck run ends
    worker.join(30)
    later = _advance(store, mailbox, two_replies)
    assert (later.processed, later.waiting_uids) == (2, ())
    assert _read_order(store) == [FIRST, SECOND]


def test_another_senders_reply_does_not_wait(
    store: NegotiationStore, mailbox: MaildirMailbox, pg_location: StoreLocation
) -> None:
    open_threads(store, mailbox=mailbox)
    offer = sent_by_recipient(mailbox)[JANE][-1]
    mailbox.append_to_inbox(reply_to(offer, "Hello", sender="Sam <sam@gmail.com>"))  # uid 1
    mailbox.append_to_inbox(reply_to(offer, "My rate would be $1,500.", message_id=FIRST))
    other = pg_location.open()
    assert other.claim_uids(MAILBOX, mailbox.uidvalidity, [1]) == {1}
    other.mail_cursors.note_senders(MAILBOX, mailbox.uidvalidity, {1: "sam@gmail.com"})

    started = time.monotonic()
    result = _advance(store, mailbox, mailbox.uidvalidity)

    assert time.monotonic() - started < mail_batch.ORDER_WAIT_S
    assert (result.processed, result.waiting_uids) == (1, ())
    assert _read_order(store) == [FIRST]
    other.close()
