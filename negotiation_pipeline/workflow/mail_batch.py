"""Reading one run's uids: claim each chunk, fetch it, note who sent each message, and hand the
messages to the caller one by one, keeping every sender's replies in arrival order even when
several runs read the mailbox at once.

The arrival-order rule: a message from sender S at uid u is handled only once every earlier uid
of the run's stretch is either handled, or known (noted when its run fetched it) to come from
someone else. A run that reaches u too early (another run is still on S's earlier reply, or has
claimed an earlier chunk and not fetched it yet) leaves u for later in the run; when it has
nothing else to do it waits, briefly, for those earlier uids, and takes over any that no live
run holds any more (a run that failed on one, or died). Whatever still waits once nothing it
waits for has moved for ORDER_WAIT_S stays unhandled: the cursor stops before it and a later run
handles it, still in order. One run on its own never waits: it reads its uids in order.

Rules that hold whatever the interleaving: the lowest unhandled uid can always be handled (no
earlier uid is pending), so the runs together always make progress, and a check made before a
message's transaction stays true until it commits (an earlier uid cannot turn into one of S's
replies: its sender is known, or it blocks).
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from negotiation_pipeline.integrations.mail.base import (
    FetchResult,
    IncomingMessage,
    Mailbox,
    MailError,
    UnreadableMessage,
)
from negotiation_pipeline.integrations.mail.thread_headers import bare_address
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.inbound_records import STORE_FAILURES, Handled, audit_error
from negotiation_pipeline.workflow.mail_progress import ClaimedChunks, stored_cursor

logger = logging.getLogger(__name__)

FETCH_CHUNK = 100  # bodies in memory at once (a 10,000-message backlog never is)
# How long a run waits for other runs to handle a sender's earlier mail when none of what it
# waits for moves (the run it waits on is stuck); while they keep handling it, it keeps waiting.
ORDER_WAIT_S = 120.0
_FIRST_PAUSE_S = 0.02
_LONGEST_PAUSE_S = 0.5
# A database failure (the message's transaction rolled back) or a mail server that could not
# say whether a message is among our sent mail: the message is left for the next run.
_RETRY_LATER: tuple[type[BaseException], ...] = (*STORE_FAILURES, MailError)

Item = IncomingMessage | UnreadableMessage
HandleOne = Callable[[Item], Handled]


@dataclass
class UidTally:
    """What became of the run's uids."""

    handled: set[int] = field(default_factory=set)  # by this run, or found handled
    failed: list[int] = field(default_factory=list)  # database or mail server failures
    elsewhere: set[int] = field(default_factory=set)  # left to (or done by) other runs
    waiting: list[int] = field(default_factory=list)  # still behind a sender's earlier mail
    results: list[Handled] = field(default_factory=list)

    def clear(self) -> None:
        self.handled.clear()
        self.failed.clear()
        self.elsewhere.clear()
        self.waiting.clear()


def sender_of(item: Item) -> str:
    """The key one sender's messages are ordered by ("" when unknown: never held back)."""
    if isinstance(item, UnreadableMessage):
        return ""
    return bare_address(item.parsed.from_addr or "").strip().lower()


class ArrivalOrder:
    """The stretch's earlier uids as the store knows them right now (see the module docstring):
    which are handled, which are noted with their sender, which nobody has fetched yet."""

    def __init__(
        self,
        store: NegotiationStore,
        mailbox_name: str,
        uidvalidity: int,
        wanted: Sequence[int],
        up_to: int,
    ) -> None:
        cursor = stored_cursor(store, mailbox_name)
        floor = cursor.last_uid if cursor is not None and cursor.uidvalidity == uidvalidity else 0
        rows = store.mail_cursors.uids_between(mailbox_name, uidvalidity, floor + 1, up_to)
        self._unknown = [uid for uid in wanted if floor < uid <= up_to and uid not in rows]
        self._pending: dict[str, list[int]] = {}
        for row in sorted(rows.values(), key=lambda row: row.uid):
            if not row.handled:
                self._pending.setdefault(row.sender_key, []).append(row.uid)

    def blockers(self, uid: int, sender: str, handled: set[int]) -> list[int]:
        """The earlier uids that must be handled before this sender's message at `uid`."""
        if not sender:
            return []
        earlier = [
            *self._unknown[: bisect.bisect_left(self._unknown, uid)],
            *(u for u in self._pending.get(sender, ()) if u < uid),
        ]
        return [u for u in earlier if u not in handled]


class BatchReader:
    """Reads `wanted` for one run; `handle_one` handles one message in its transaction."""

    def __init__(
        self,
        store: NegotiationStore,
        mailbox: Mailbox,
        mailbox_name: str,
        uidvalidity: int,
        handle_one: HandleOne,
        tally: UidTally,
    ) -> None:
        self._store = store
        self._mailbox = mailbox
        self._name = mailbox_name
        self._uidvalidity = uidvalidity
        self._handle_one = handle_one
        self._tally = tally
        self._later: list[Item] = []

    def read(self, wanted: Sequence[int]) -> None:
        with ClaimedChunks(self._store, self._name, self._uidvalidity, FETCH_CHUNK) as claims:
            for chunk, held in claims.over(wanted):
                items = self._fetch_claimed(chunk, held)
                self._handle_in_order(claims, wanted, items)
            self._finish_waiting(claims, wanted)

    # -- one chunk -----------------------------------------------------------------------------
    def _fetch_claimed(self, chunk: Sequence[int], held: frozenset[int]) -> list[Item]:
        """The chunk's messages this run holds and no run has handled yet, noted with their
        senders. Uids already gone from the mailbox are recorded as handled."""
        tally = self._tally
        # Asked after claiming: a uid another run handled and let go just before is seen done.
        done = self._store.mail_cursors.handled_among(self._name, self._uidvalidity, held)
        tally.elsewhere.update(uid for uid in chunk if uid not in held or uid in done)
        tally.handled.update(done)
        to_fetch = sorted(held - done)
        if not to_fetch:
            return []
        fetched = self._mailbox.fetch(to_fetch, self._uidvalidity)
        items: list[Item] = sorted(
            [*fetched.messages, *fetched.unreadable], key=lambda item: item.uid
        )
        self._note(to_fetch, fetched, items)
        return items

    def _note(self, asked: Sequence[int], fetched: FetchResult, items: Sequence[Item]) -> None:
        returned = {item.uid for item in items}
        gone = [uid for uid in asked if uid not in returned]
        try:
            cursors = self._store.mail_cursors
            cursors.note_senders(
                self._name, self._uidvalidity, {i.uid: sender_of(i) for i in items}
            )
            if gone:
                # Listed but removed since (expunged): the cursor must not wait for them.
                cursors.mark_handled(self._name, self._uidvalidity, gone)
                self._tally.handled.update(gone)
        except STORE_FAILURES:
            # Unnoted, these uids only hold other runs back a little longer; nothing is lost.
            logger.exception("uids %s..%s: could not note them", asked[0], asked[-1])

    def _handle_in_order(
        self, claims: ClaimedChunks, wanted: Sequence[int], items: Sequence[Item]
    ) -> None:
        if not items:
            return
        order = ArrivalOrder(self._store, self._name, self._uidvalidity, wanted, items[-1].uid)
        for item in items:
            if order.blockers(item.uid, sender_of(item), self._tally.handled):
                claims.keep(item.uid)  # this run handles it later, in order
                self._later.append(item)
                continue
            self._handle(item)

    def _handle(self, item: Item) -> None:
        try:
            handled = self._handle_one(item)
        except _RETRY_LATER as exc:
            what = "mail server" if isinstance(exc, MailError) else "database"
            logger.exception("uid %s: %s failure; left for the next run", item.uid, what)
            self._tally.failed.append(item.uid)
            audit_error(self._store, None, f"{what} failure on uid {item.uid}: {exc}")
            return
        self._tally.handled.add(item.uid)
        self._tally.results.append(handled)

    # -- what waited ---------------------------------------------------------------------------
    def _finish_waiting(self, claims: ClaimedChunks, wanted: Sequence[int]) -> None:
        """Handle the messages that waited for a sender's earlier mail as soon as it is handled;
        take over earlier uids no live run holds; give up after ORDER_WAIT_S, and at once on a
        message behind this run's own failure (it cannot be handled before a later run)."""
        deadline = time.monotonic() + ORDER_WAIT_S
        pause = _FIRST_PAUSE_S
        awaited: set[int] = set()
        while self._later:
            up_to = max(item.uid for item in self._later)
            order = ArrivalOrder(self._store, self._name, self._uidvalidity, wanted, up_to)
            before = len(self._later)
            blocked = self._handle_unblocked(order)
            if not blocked:
                break
            if len(blocked) < before or self._take_over(claims, blocked):
                pause = _FIRST_PAUSE_S  # something moved: look again at once
                continue
            now_awaited = {uid for _, blockers in blocked for uid in blockers}
            if awaited - now_awaited:  # other runs handled some of it: they are moving
                deadline = time.monotonic() + ORDER_WAIT_S
            awaited = now_awaited
            if time.monotonic() + pause > deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)
        self._tally.waiting.extend(sorted(item.uid for item in self._later))
        if self._later:
            logger.warning(
                "%d message(s) still wait for their sender's earlier mail; left for a later run",
                len(self._later),
            )

    def _handle_unblocked(self, order: ArrivalOrder) -> list[tuple[Item, list[int]]]:
        """Handle what may go now (lowest uid first); the rest with what each waits for.
        Messages behind this run's own failures are dropped from the waiting list."""
        failed = set(self._tally.failed)
        waiting: list[tuple[Item, list[int]]] = []
        for item in sorted(self._later, key=lambda item: item.uid):
            blockers = order.blockers(item.uid, sender_of(item), self._tally.handled)
            if any(uid in failed for uid in blockers):
                self._tally.waiting.append(item.uid)  # a later run handles both, in order
            elif blockers:
                waiting.append((item, blockers))
            else:
                self._handle(item)
        self._later = [item for item, _ in waiting]
        return waiting

    def _take_over(self, claims: ClaimedChunks, blocked: list[tuple[Item, list[int]]]) -> bool:
        """Claim and fetch the earlier uids the waiting messages need that no live run holds
        (their run failed on them, or died). True when some could be taken."""
        needed = {uid for _, blockers in blocked for uid in blockers}
        free = sorted(needed - claims.held)
        taken = claims.take(free) if free else frozenset()
        if not taken:
            return False
        items = self._fetch_claimed(sorted(taken), taken)
        for item in items:
            claims.keep(item.uid)
        self._later.extend(items)
        return True
