"""The outbox repository: emails queued with the decision that wrote them, and their delivery.

Life of a row (see schema.py): `pending` → `sent` when the mail server accepted it (never sent
again, whatever happens next) → its copy is filed in the Sent folder (`sent_copy_pending` back to
false). A temporary failure keeps it `pending` with one more attempt and a `next_attempt_at`; a
permanent one (or one attempt too many) makes it `failed`. Every change is conditional on the
status it expects, so two runs racing on one row change it once.
"""

from __future__ import annotations

from datetime import datetime

from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.base import OutboxEmail
from negotiation_pipeline.store.sql_repository import SqlRepository

_ERROR_CHARS = 2000  # last_error is a diagnosis, not a log


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
        """Unsent emails, oldest first; with `due_at`, only those whose retry time has come."""
        d = self._dialect
        due = (
            ""
            if due_at is None
            else f" AND (next_attempt_at IS NULL OR next_attempt_at <= {d.mark})"
        )
        params = () if due_at is None else (d.timestamp(due_at),)
        with self._scope(False) as conn:
            found = conn.execute(
                f"SELECT * FROM outbox WHERE status = 'pending'{due} "  # noqa: S608
                f"ORDER BY created_at, {d.tiebreak('outbox')} LIMIT {d.mark}",
                (*params, d.no_limit if limit is None else limit),
            ).fetchall()
        return [row_codec.outbox_from_row(row) for row in found]

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
                f"next_attempt_at = NULL, sent_copy_pending = {d.mark} "
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
                f"next_attempt_at = {d.mark} WHERE message_id = {d.mark} AND status = 'pending'",
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
                f"last_error = {d.mark}, next_attempt_at = NULL "
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
