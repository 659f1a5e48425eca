"""Several deliverers on one outbox (on both engines): each email is sent by exactly one of
them, a crashed deliverer's email goes out with the next run, and a live deliverer's claim is
left alone until it ends."""

from __future__ import annotations

import multiprocessing
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from negotiation_pipeline.integrations.mail import MaildirMailbox, OutgoingEmail
from negotiation_pipeline.store import NegotiationStore, OutboxEmail, OutboxStatus
from negotiation_pipeline.workflow.outbox import DeliveryResult, deliver_pending
from tests.store.conftest import StoreLocation
from tests.workflow.support import AGENT, NOW, sent_message_ids

EMAIL = OutboxEmail(
    message_id="<neg.claims.1@agency.test>",
    to_addr="jane@gmail.com",
    subject="Our offer",
    body="Hello Jane",
    thread_id="t-claims",
    campaign_id="cmp-1",
)


class _SlowMaildir(MaildirMailbox):
    """A Maildir whose send waits for a signal first: holds one deliverer inside the send
    while another runs, so the two overlap for certain."""

    def __init__(self, root: Path, go_on: threading.Event) -> None:
        super().__init__(root, AGENT)
        self._go_on = go_on

    def deliver(
        self, email_: OutgoingEmail, date: datetime, on_accepted: Callable[[], None]
    ) -> None:
        self._go_on.wait(30)
        super().deliver(email_, date, on_accepted)


def test_of_two_deliverers_of_one_email_only_one_sends_it(
    store: NegotiationStore,
    store_location: StoreLocation,
    mailbox: MaildirMailbox,
    tmp_path: Path,
) -> None:
    store.outbox.add(EMAIL)
    second_done = threading.Event()
    results: dict[str, DeliveryResult] = {}

    def first() -> None:
        own = store_location.open()
        results["first"] = deliver_pending(own, _SlowMaildir(tmp_path / "mail", second_done))
        own.close()

    worker = threading.Thread(target=first)
    worker.start()
    try:
        _wait_until_claimed(store)
        second = store_location.open()
        results["second"] = deliver_pending(second, MaildirMailbox(tmp_path / "mail", AGENT))
        second.close()
    finally:
        second_done.set()
        worker.join(30)

    assert (results["first"].sent, results["first"].claimed_elsewhere) == (1, 0)
    assert (results["second"].sent, results["second"].claimed_elsewhere) == (0, 1)
    assert sent_message_ids(tmp_path / "mail") == {EMAIL.message_id: 1}
    stored = store.outbox.get(EMAIL.message_id)
    assert stored is not None and stored.status is OutboxStatus.SENT
    assert stored.claimed_by is None


def _wait_until_claimed(store: NegotiationStore) -> None:
    for _ in range(300):
        row = store.outbox.get(EMAIL.message_id)
        if row is not None and row.claimed_by is not None:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the first deliverer never claimed the email")


def _ended_pid() -> int:
    child = multiprocessing.get_context("fork").Process(target=lambda: None)
    child.start()
    child.join(10)
    assert child.pid is not None
    return child.pid


def test_a_crashed_deliverers_email_goes_out_with_the_next_run(
    store: NegotiationStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    store.outbox.add(EMAIL)
    now = datetime.now(UTC)
    dead = f"{socket.gethostname()}:{_ended_pid()}:deadbeef"
    assert store.outbox.claim(EMAIL.message_id, dead, now=now, until=now + timedelta(hours=1))

    result = deliver_pending(store, mailbox, now=NOW)

    assert (result.sent, result.claimed_elsewhere) == (1, 0)
    assert sent_message_ids(tmp_path / "mail") == {EMAIL.message_id: 1}


def test_a_live_claim_elsewhere_is_left_alone_until_its_lease_ends(
    store: NegotiationStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    store.outbox.add(EMAIL)
    now = datetime.now(UTC)
    elsewhere = "other-host:4242:cafe"  # another machine: only its lease can end the claim
    assert store.outbox.claim(EMAIL.message_id, elsewhere, now=now, until=now + timedelta(hours=1))

    held_off = deliver_pending(store, mailbox, now=NOW)

    assert (held_off.sent, held_off.claimed_elsewhere) == (0, 1)
    assert sent_message_ids(tmp_path / "mail") == {}
    store.outbox.release(EMAIL.message_id, elsewhere)
    # The same deliverer again, its lease already over: the email is free.
    past = now - timedelta(hours=2)
    assert store.outbox.claim(
        EMAIL.message_id, elsewhere, now=past, until=past + timedelta(hours=1)
    )

    later = deliver_pending(store, mailbox, now=NOW)

    assert (later.sent, later.claimed_elsewhere) == (1, 0)
    assert sent_message_ids(tmp_path / "mail") == {EMAIL.message_id: 1}
