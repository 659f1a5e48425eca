"""The outbox repository: emails queued with the decision that wrote them, and their delivery.

Life of a row (see schema.py): `pending` → `sent` when the mail server accepted it (never sent
again, whatever happens next) → its copy is filed in the Sent folder (`sent_copy_pending` back to
false). A temporary failure keeps it `pending` with one more attempt and a `next_attempt_at`; a
permanent one (or one attempt too many) makes it `failed`. Every change is conditional on the
status it expects, so two runs racing on one row change it once.

Several deliverers at once (parallel runs, other processes): a deliverer `claim`s a pending email
before it looks it up in the sent store and sends it. The claim is a lease, an owner and an
instant it ends, written by one conditional UPDATE, so of two deliverers claiming one email
exactly one gets it; the other skips it. Settling the email (sent, retry later, failed) ends
the claim. A deliverer that dies holding one leaves it to run out (or to be taken over at once
by a deliverer that knows the owner is dead: `replacing`); the next deliverer then finds the
email pending and, if the dead one got it accepted before dying, in the sent store.
The lease is a plain row value rather than a database lock so it means the same on SQLite and
PostgreSQL and survives the short transaction that wrote it: the send happens outside any
transaction (a mail server round trip must never hold the store's locks).
"""

from __future__ import annotations

from datetime import datetime

from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.base import StoreError
from negotiation_pipeline.store.records import OutboxEmail
from negotiation_pipeline.store.sql_repository import SqlRepository

_ERROR_CHARS = 2000  # last_error is a diagnosis, not a log
_UNCLAIMED = "claimed_by = NULL, claimed_until = NULL"  # settling an email ends its claim


class SqlOutbox(SqlRepository):
    def add(self, email: OutboxEmail) -> bool:
        """Queue an email as pending. False = that Message-ID is already in the outbox."""
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"""INSERT INTO outbox (message_id, thread_id, campaign_id, to_addr, to_name,
                       subject, body, in_reply_to, "references", status, created_at, sent_at)
                   VALUES ({d.marks(9)}, 'pending', {d.mark}, NULL)
                   ON CONFLICT (message_id) DO NOTHING""",  # noqa: S608
                (
                    email.message_id,
                    email.thread_id,
                    email.campaign_id,
                    email.to_addr,
                    email.to_name,
                    email.subject,
                    email.body,
                    email.in_reply_to,
                    email.references,
                    d.now(),
                ),
            )
            return cursor.rowcount == 1

    def pending(
        self, limit: int | None = None, *, due_at: datetime | None = None
    ) -> list[OutboxEmail]:
        """Unsent emails, oldest first; with `due_at`, only those whose retry time has come.
        Claimed ones included (`claimed_by`, `claimed_until` say by whom, until when)."""
        d = self._dialect
        where, params = self._due(due_at)
        with self._scope(False) as conn:
            found = conn.execute(
                f"SELECT * FROM outbox WHERE status = 'pending'{where} "  # noqa: S608
                f"ORDER BY created_at, {d.tiebreak('outbox')} LIMIT {d.mark}",
                (*params, d.no_limit if limit is None else limit),
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in found]

    def claim(
        self,
        message_id: str,
        owner: str,
        *,
        now: datetime,
        until: datetime,
        due_at: datetime | None = None,
        replacing: str | None = None,
    ) -> OutboxEmail | None:
        """Take a pending email for sending until `until` (`now`: the wall clock the leases are
        compared on). Returns the row as it stands now, or None: sent, failed, not due at
        `due_at`, or another deliverer's claim still holds it. Do not send it then.
        `replacing`: a claim owner known to be dead, whose claim is taken over at once."""
        if not owner.strip():
            raise StoreError("an outbox claim needs an owner")
        if until <= now:
            raise StoreError("an outbox claim must end after it starts")
        d = self._dialect
        where, params = self._due(due_at)
        free = f"claimed_until IS NULL OR claimed_until <= {d.mark}"
        free_params: tuple[object, ...] = (d.timestamp(now),)
        if replacing is not None:
            free += f" OR claimed_by = {d.mark}"
            free_params += (replacing,)
        with self._scope(True) as conn:
            # fetchall: the statement runs to its end before the commit (SQLite steps it).
            found = conn.execute(
                f"UPDATE outbox SET claimed_by = {d.mark}, claimed_until = {d.mark} "  # noqa: S608
                f"WHERE message_id = {d.mark} AND status = 'pending'{where} AND ({free}) "
                "RETURNING *",
                (owner, d.timestamp(until), message_id, *params, *free_params),
            ).fetchall()
        return row_codec.outbox_from_row(found[0]) if found else None

    def release(self, message_id: str, owner: str) -> bool:
        """Give a claimed email back unsent (its deliverer will not send it after all). True
        if `owner` held it; another deliverer's claim is left alone."""
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET {_UNCLAIMED} WHERE message_id = {d.mark} "  # noqa: S608
                f"AND claimed_by = {d.mark} AND status = 'pending'",
                (message_id, owner),
            )
            return cursor.rowcount > 0

    def _due(self, due_at: datetime | None) -> tuple[str, tuple[object, ...]]:
        if due_at is None:
            return "", ()
        mark = self._dialect.mark
        due = f" AND (next_attempt_at IS NULL OR next_attempt_at <= {mark})"
        return due, (self._dialect.timestamp(due_at),)

    def mark_sent(
        self, message_id: str, sent_at: datetime | None = None, *, copy_pending: bool = False
    ) -> bool:
        """The mail server accepted a pending email. True if it was pending; False if unknown,
        already sent or failed. `copy_pending`: its Sent-folder copy is still to be filed."""
        d = self._dialect
        stamp = d.timestamp(sent_at) if sent_at else d.now()
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET status = 'sent', sent_at = {d.mark}, "  # noqa: S608
                f"next_attempt_at = NULL, sent_copy_pending = {d.mark}, {_UNCLAIMED} "
                f"WHERE message_id = {d.mark} AND status = 'pending'",
                (stamp, copy_pending, message_id),
            )
            return cursor.rowcount > 0

    def record_attempt(self, message_id: str, error: str, next_attempt_at: datetime) -> int | None:
        """A temporary failure of a pending email: count it and set when to try again.
        Returns the attempts made so far, or None if the email is not pending."""
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET attempts = attempts + 1, last_error = {d.mark}, "  # noqa: S608
                f"next_attempt_at = {d.mark}, {_UNCLAIMED} "
                f"WHERE message_id = {d.mark} AND status = 'pending'",
                (error[:_ERROR_CHARS], d.timestamp(next_attempt_at), message_id),
            )
            if cursor.rowcount == 0:
                return None
            row = conn.execute(
                f"SELECT attempts FROM outbox WHERE message_id = {d.mark}",  # noqa: S608
                (message_id,),
            ).fetchone()
        return int(row["attempts"])

    def mark_failed(self, message_id: str, error: str) -> bool:
        """A pending email that cannot be delivered: `failed`, never tried again. True if it
        was pending (so the caller escalates once)."""
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET status = 'failed', attempts = attempts + 1, "  # noqa: S608
                f"last_error = {d.mark}, next_attempt_at = NULL, {_UNCLAIMED} "
                f"WHERE message_id = {d.mark} AND status = 'pending'",
                (error[:_ERROR_CHARS], message_id),
            )
            return cursor.rowcount > 0

    def copies_to_file(self, limit: int | None = None) -> list[OutboxEmail]:
        """Sent emails whose Sent-folder copy is still to be filed, oldest first."""
        d = self._dialect
        with self._scope(False) as conn:
            found = conn.execute(
                "SELECT * FROM outbox WHERE sent_copy_pending "  # noqa: S608
                f"ORDER BY created_at, {d.tiebreak('outbox')} LIMIT {d.mark}",
                (d.no_limit if limit is None else limit,),
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in found]

    def mark_copy_filed(self, message_id: str) -> bool:
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET sent_copy_pending = {d.mark} "  # noqa: S608
                f"WHERE message_id = {d.mark} AND sent_copy_pending",
                (False, message_id),
            )
            return cursor.rowcount > 0

    def get(self, message_id: str) -> OutboxEmail | None:
        with self._scope(False) as conn:
            row = conn.execute(
                f"SELECT * FROM outbox WHERE message_id = {self._dialect.mark}",  # noqa: S608
                (message_id,),
            ).fetchone()
        return None if row is None else row_codec.outbox_from_row(row)

    def for_thread(self, thread_id: str) -> list[OutboxEmail]:
        d = self._dialect
        with self._scope(False) as conn:
            found = conn.execute(
                f"SELECT * FROM outbox WHERE thread_id = {d.mark} "  # noqa: S608
                f"ORDER BY created_at, {d.tiebreak('outbox')}",
                (thread_id,),
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in found]
