"""The notification outbox repository: chat messages (Slack) kept until they are delivered.

Written for both backends like the others (repositories.py): each call runs in `scope(write)`,
values only through placeholders, backend differences through the `Dialect`.

Delivery protocol (workflow/slack_outbox.py): a deliverer lists `deliverable` messages, takes
each with `claim` (a lease: until then no other deliverer lists or claims it), posts it, then
`mark_sent`, or `record_failure` (released for the next run, or `refused` for good). A deliverer
that dies mid-post leaves its claim to expire, after which the message is offered again.
"""

from __future__ import annotations

import json
from datetime import datetime

from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.base import StoreError
from negotiation_pipeline.store.records import Notification, NotificationStatus
from negotiation_pipeline.store.sql_repository import SqlRepository

ERROR_TEXT_MAX = 2000

_COLUMNS = "notification_key, channel, message_text, blocks_json, status, attempts, created_at"


def notification_from_row(row: row_codec.Row) -> Notification:
    sent_at = row["sent_at"]
    return Notification(
        key=row["notification_key"],
        channel=row["channel"],
        text=row["message_text"],
        blocks=tuple(json.loads(row["blocks_json"])),
        status=NotificationStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=row_codec.as_datetime(row["created_at"]),
        sent_at=None if sent_at is None else row_codec.as_datetime(sent_at),
    )


class SqlNotifications(SqlRepository):
    def add(self, notification: Notification) -> bool:
        """Queue a message as pending. False = a message with that key is already queued."""
        if not notification.key.strip():
            raise StoreError("a notification needs a key to be delivered once")
        d = self._dialect
        blocks = json.dumps(list(notification.blocks), ensure_ascii=False)
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"""INSERT INTO notification_outbox ({_COLUMNS})
                   VALUES ({d.marks(3)}, {d.mark}{d.json_cast}, 'pending', 0, {d.mark})
                   ON CONFLICT (notification_key) DO NOTHING""",  # noqa: S608
                (notification.key, notification.channel, notification.text, blocks, d.now()),
            )
            return cursor.rowcount == 1

    def deliverable(self, now: datetime, limit: int | None = None) -> list[Notification]:
        """Pending messages no live claim holds, oldest first."""
        d = self._dialect
        with self._scope(False) as conn:
            found = conn.execute(
                "SELECT * FROM notification_outbox WHERE status = 'pending' "  # noqa: S608
                f"AND (claimed_until IS NULL OR claimed_until <= {d.mark}) "
                f"ORDER BY created_at, {d.tiebreak('notification_outbox')} LIMIT {d.mark}",
                (d.timestamp(now), d.no_limit if limit is None else limit),
            ).fetchall()
        return [notification_from_row(row) for row in found]

    def claim(self, key: str, now: datetime, until: datetime) -> bool:
        """Take a pending message for posting until `until`. False = sent, refused, or another
        deliverer's claim is still live: do not post it."""
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE notification_outbox SET claimed_until = {d.mark} "  # noqa: S608
                f"WHERE notification_key = {d.mark} AND status = 'pending' "
                f"AND (claimed_until IS NULL OR claimed_until <= {d.mark})",
                (d.timestamp(until), key, d.timestamp(now)),
            )
            return cursor.rowcount == 1

    def mark_sent(self, key: str, sent_at: datetime | None = None) -> bool:
        """True if the message was pending and is now sent (one more attempt counted)."""
        d = self._dialect
        stamp = d.timestamp(sent_at) if sent_at else d.now()
        with self._scope(True) as conn:
            cursor = conn.execute(
                "UPDATE notification_outbox SET status = 'sent', "  # noqa: S608
                f"sent_at = {d.mark}, attempts = attempts + 1, claimed_until = NULL "
                f"WHERE notification_key = {d.mark} AND status = 'pending'",
                (stamp, key),
            )
            return cursor.rowcount > 0

    def record_failure(self, key: str, error: str, *, refused: bool = False) -> bool:
        """Count a failed post and release the claim: the message stays pending for the next
        delivery, or becomes `refused` when the channel rejected the payload itself."""
        d = self._dialect
        status = NotificationStatus.REFUSED if refused else NotificationStatus.PENDING
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE notification_outbox SET status = {d.mark}, "  # noqa: S608
                f"last_error = {d.mark}, attempts = attempts + 1, claimed_until = NULL "
                f"WHERE notification_key = {d.mark} AND status = 'pending'",
                (status.value, error[:ERROR_TEXT_MAX], key),
            )
            return cursor.rowcount > 0

    def with_status(
        self, status: NotificationStatus | str, limit: int | None = None
    ) -> list[Notification]:
        """Messages in one state, oldest first (what is still pending, what Slack refused)."""
        d = self._dialect
        with self._scope(False) as conn:
            found = conn.execute(
                f"SELECT * FROM notification_outbox WHERE status = {d.mark} "  # noqa: S608
                f"ORDER BY created_at, {d.tiebreak('notification_outbox')} LIMIT {d.mark}",
                (NotificationStatus(status).value, d.no_limit if limit is None else limit),
            ).fetchall()
        return [notification_from_row(row) for row in found]

    def pending_count(self) -> int:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT COUNT(*) AS pending FROM notification_outbox WHERE status = 'pending'"
            ).fetchone()
        return int(row["pending"])

    def get(self, key: str) -> Notification | None:
        with self._scope(False) as conn:
            row = conn.execute(
                "SELECT * FROM notification_outbox "  # noqa: S608
                f"WHERE notification_key = {self._dialect.mark}",
                (key,),
            ).fetchone()
        return None if row is None else notification_from_row(row)
