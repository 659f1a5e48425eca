"""Which uids of a mailbox a run works on, which of them it may fetch, and how far the mail
cursor then moves: the parts of reading mail that several runs on one mailbox must agree on.

- A run covers its batch plus every uid between the stored cursor and the batch (an earlier run
  failed on one, or died, or runs the batch before it right now), so the cursor only ever moves
  over a contiguous stretch of handled uids.
- It goes through them in uid order and claims each chunk as it reaches it (`store.claim_uids`:
  a lock that ends with the run's database session), skipping the uids another run holds. Runs
  started together thus take the chunks one after the other between them, and every chunk is
  fetched right after it was claimed (which the arrival-order rule of mail_batch.py relies on).
- Each fetched uid is noted with its sender, each handled uid recorded with the transaction
  that handled it (`HandledUid`): a run skips what another handled without fetching it again,
  and moves the cursor over a stretch several runs handled together. The records the cursor
  passes are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from negotiation_pipeline.integrations.mail.base import Mailbox, MailCursor
from negotiation_pipeline.store.base import Lockable, NegotiationStore, UnitOfWork
from negotiation_pipeline.workflow.inbound_records import STORE_FAILURES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandledUid:
    """Where a message came from, recorded as handled with the transaction that handled it."""

    mailbox_name: str
    uidvalidity: int
    uid: int

    def record(self, uow: UnitOfWork) -> None:
        uow.mail_cursors.mark_handled(self.mailbox_name, self.uidvalidity, (self.uid,))


def stored_cursor(store: NegotiationStore, mailbox_name: str) -> MailCursor | None:
    stored = store.mail_cursors.get(mailbox_name)
    return None if stored is None else MailCursor(stored.uidvalidity, stored.last_uid)


def with_earlier_unhandled(
    store: NegotiationStore,
    mailbox: Mailbox,
    mailbox_name: str,
    uids: Sequence[int],
    uidvalidity: int,
) -> list[int]:
    """The batch's uids plus every uid between the stored cursor and the batch's newest one.

    No cursor yet (or one of an older UIDVALIDITY) counts as a cursor before the first uid: a
    later batch may run first (runs side by side, or an earlier run that died before storing a
    cursor), and it must not move the cursor over the replies before it.
    """
    wanted = sorted(set(uids))
    stored = stored_cursor(store, mailbox_name)
    if stored is None or stored.uidvalidity != uidvalidity:
        stored = MailCursor(uidvalidity, 0)
    if not wanted or stored.last_uid >= wanted[0] - 1:
        return wanted
    listing = mailbox.list_new_ids(stored, wanted[-1] - stored.last_uid)
    if listing.uidvalidity != uidvalidity:
        return wanted  # rebuilt meanwhile: the caller's rescan handles it
    return sorted(set(wanted).union(uid for uid in listing.uids if uid <= wanted[-1]))


class ClaimedChunks:
    """`wanted` in chunks, in uid order, each with the uids of it this run could claim. A
    chunk's claims are released when it is done, except those `keep()` holds on to (replies
    left for later in the run); `close()` releases everything (use `with`)."""

    def __init__(
        self, store: NegotiationStore, mailbox_name: str, uidvalidity: int, chunk_size: int
    ) -> None:
        self._store = store
        self._name = mailbox_name
        self._uidvalidity = uidvalidity
        self._chunk_size = chunk_size
        self._held: set[int] = set()
        self._kept: set[int] = set()

    def __enter__(self) -> ClaimedChunks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    def over(self, wanted: Sequence[int]) -> Iterator[tuple[Sequence[int], frozenset[int]]]:
        for start in range(0, len(wanted), self._chunk_size):
            chunk = wanted[start : start + self._chunk_size]
            held = self.take(chunk)
            try:
                yield chunk, held
            finally:
                self._release(held - self._kept)

    def take(self, uids: Sequence[int]) -> frozenset[int]:
        """Claim these uids (those no other session holds); returns the ones now held."""
        wanted = [uid for uid in uids if uid not in self._held]
        claimed = self._store.claim_uids(self._name, self._uidvalidity, wanted)
        self._held.update(claimed)
        return frozenset(uid for uid in uids if uid in self._held)

    def keep(self, uid: int) -> None:
        """Hold this uid past its chunk (until `release_kept` or `close`)."""
        if uid in self._held:
            self._kept.add(uid)

    def release_kept(self, uids: Sequence[int]) -> None:
        self._kept.difference_update(uids)
        self._release(frozenset(uids))

    def close(self) -> None:
        self._kept.clear()
        self._release(frozenset(self._held))

    def _release(self, uids: frozenset[int]) -> None:
        uids = uids.intersection(self._held)  # each claim is released once
        if not uids:
            return
        self._held.difference_update(uids)
        try:
            self._store.release_uids(self._name, self._uidvalidity, uids)
        except STORE_FAILURES:
            # A failing database took the session, and with it the claims: nothing is held.
            logger.warning("releasing uids of %s failed; the lost session freed them", self._name)


def advance_cursor(
    store: NegotiationStore,
    mailbox_name: str,
    uidvalidity: int,
    wanted: Sequence[int],
    handled: set[int],
) -> MailCursor:
    """Move the cursor to the newest uid below which every listed uid was handled, by this run
    (`handled`) or, as recorded in the store, another one, and forget the records it passes.
    The mailbox is locked: runs finishing together move it one after the other, each past what
    all of them have committed, and it never moves back."""
    with store.transaction(exclusive=False) as uow:
        uow.lock(Lockable.MAILBOX, mailbox_name)
        stored = uow.mail_cursors.get(mailbox_name)
        same_validity = stored is not None and stored.uidvalidity == uidvalidity
        last = stored.last_uid if stored is not None and same_validity else 0
        ahead = [uid for uid in wanted if uid > last and uid not in handled]
        by_others = uow.mail_cursors.handled_among(mailbox_name, uidvalidity, ahead)
        for uid in wanted:
            if uid <= last:
                continue  # behind the cursor: handled, maybe by a run that moved it since
            if uid not in handled and uid not in by_others:
                break
            last = uid
        if not same_validity or stored is None or last > stored.last_uid:
            uow.mail_cursors.set(mailbox_name, uidvalidity, last)
            uow.mail_cursors.forget_handled_through(mailbox_name, uidvalidity, last)
        return MailCursor(uidvalidity, last)
