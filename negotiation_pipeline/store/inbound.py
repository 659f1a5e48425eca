"""Incoming messages, held messages and allowed senders, written once for SQLite and PostgreSQL
(see repositories.py for how a repository runs its statements, and trust_schema.py for the
tables).

An incoming message is identified by its Message-ID together with its sender (`sender_key`, the
lower-cased bare From address, "" when there is none): redelivering a message is a duplicate,
but another sender's message with the same Message-ID is a message of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.base import StoreError
from negotiation_pipeline.store.records import (
    AllowedSender,
    HeldMessage,
    InboundMessage,
    InboundStatus,
)
from negotiation_pipeline.store.sql_repository import SqlRepository
from negotiation_pipeline.store.trust_schema import HELD_RAW_MAX_BYTES

_QUARANTINED = InboundStatus.QUARANTINED.value


def sender_key(from_addr: str | None) -> str:
    """The sender half of an inbound message's key."""
    return (from_addr or "").strip().lower()


class SqlInbound(SqlRepository):
    def record(
        self,
        message_id: str,
        *,
        status: InboundStatus | str,
        thread_id: str | None = None,
        campaign_id: str | None = None,
        from_addr: str | None = None,
        subject: str | None = None,
        detail: str | None = None,
        received_at: datetime | None = None,
    ) -> bool:
        """Remember a message. False = this Message-ID from this sender is already recorded (a
        duplicate: do not process it again)."""
        if not message_id or not message_id.strip():
            raise StoreError("an inbound message needs a Message-ID to be deduplicated")
        d = self._dialect
        stamp = d.timestamp(received_at) if received_at else d.now()
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"""INSERT INTO inbound_messages (message_id, sender_key, thread_id, campaign_id,
                       from_addr, subject, received_at, status, detail)
                   VALUES ({d.marks(9)})
                   ON CONFLICT (message_id, sender_key) DO NOTHING""",  # noqa: S608
                (
                    message_id.strip(),
                    sender_key(from_addr),
                    thread_id,
                    campaign_id,
                    from_addr,
                    subject,
                    stamp,
                    InboundStatus(status).value,
                    detail,
                ),
            )
            return cursor.rowcount == 1

    def seen(self, message_id: str, from_addr: str | None = None) -> bool:
        """Recorded already: from this sender, or (without `from_addr`) from anyone."""
        return self.get(message_id, from_addr) is not None

    def get(self, message_id: str, from_addr: str | None = None) -> InboundMessage | None:
        """The message with this Message-ID from this sender; without `from_addr`, the first
        one recorded with this Message-ID."""
        mark = self._dialect.mark
        where, params = f"message_id = {mark}", [message_id.strip()]
        if from_addr is not None:
            where += f" AND sender_key = {mark}"
            params.append(sender_key(from_addr))
        found = self._select(where, params, limit=1)
        return found[0] if found else None

    def thread_for(self, message_id: str) -> str | None:
        """The negotiation a message with this Message-ID belongs to (threading by References).
        A held message does not count: its sender was not allowed to speak in that thread."""
        mark = self._dialect.mark
        found = self._select(
            f"message_id = {mark} AND thread_id IS NOT NULL AND status <> {mark}",
            [message_id.strip(), _QUARANTINED],
            limit=1,
        )
        return found[0].thread_id if found else None

    def quarantined(
        self, thread_id: str | None = None, from_addr: str | None = None
    ) -> list[InboundMessage]:
        """Held messages, oldest first: of one thread and/or one sender, or all of them."""
        mark = self._dialect.mark
        where, params = f"status = {mark}", [_QUARANTINED]
        if thread_id is not None:
            where += f" AND thread_id = {mark}"
            params.append(thread_id)
        if from_addr is not None:
            where += f" AND sender_key = {mark}"
            params.append(sender_key(from_addr))
        return self._select(where, params)

    def resolve(
        self, message_id: str, from_addr: str, *, status: InboundStatus | str, detail: str
    ) -> bool:
        """A held message was processed after all: give it its final status and drop its kept
        bytes. False when it is not (or no longer) held, so it is processed at most once."""
        d = self._dialect
        key = (message_id.strip(), sender_key(from_addr))
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"UPDATE inbound_messages SET status = {d.mark}, detail = {d.mark} "  # noqa: S608
                f"WHERE message_id = {d.mark} AND sender_key = {d.mark} AND status = {d.mark}",
                (InboundStatus(status).value, detail, *key, _QUARANTINED),
            )
            if cursor.rowcount == 0:
                return False
            conn.execute(
                f"DELETE FROM held_messages WHERE message_id = {d.mark} "  # noqa: S608
                f"AND sender_key = {d.mark}",
                key,
            )
            return True

    def hold(
        self, message_id: str, from_addr: str, thread_id: str | None, raw: bytes
    ) -> HeldMessage:
        """Keep a quarantined message's bytes (the first HELD_RAW_MAX_BYTES of them)."""
        d = self._dialect
        kept = bytes(raw[:HELD_RAW_MAX_BYTES])
        held = HeldMessage(
            message_id=message_id.strip(),
            from_addr=sender_key(from_addr),
            thread_id=thread_id,
            raw=kept,
            raw_size=len(raw),
            truncated=len(raw) > len(kept),
            held_at=row_codec.as_datetime(d.now()),
        )
        with self._scope(True) as conn:
            conn.execute(
                f"""INSERT INTO held_messages (message_id, sender_key, thread_id, raw, raw_size,
                       truncated, held_at)
                   VALUES ({d.marks(7)})
                   ON CONFLICT (message_id, sender_key) DO NOTHING""",  # noqa: S608
                (
                    held.message_id,
                    held.from_addr,
                    thread_id,
                    kept,
                    held.raw_size,
                    held.truncated,
                    d.timestamp(held.held_at),
                ),
            )
        return held

    def held(self, message_id: str, from_addr: str) -> HeldMessage | None:
        d = self._dialect
        with self._scope(False) as conn:
            row = conn.execute(
                f"SELECT * FROM held_messages WHERE message_id = {d.mark} "  # noqa: S608
                f"AND sender_key = {d.mark}",
                (message_id.strip(), sender_key(from_addr)),
            ).fetchone()
        return None if row is None else _held_from_row(row)

    def _select(
        self, where: str, params: list[Any], *, limit: int | None = None
    ) -> list[InboundMessage]:
        # `where` is composed from fixed text and markers only; values go through params.
        d = self._dialect
        sql = (
            f"SELECT * FROM inbound_messages WHERE {where} "  # noqa: S608
            f"ORDER BY received_at, message_id, sender_key LIMIT {d.mark}"
        )
        with self._scope(False) as conn:
            found = conn.execute(sql, (*params, d.no_limit if limit is None else limit))
            return [row_codec.inbound_from_row(row) for row in found.fetchall()]


class SqlAllowedSenders(SqlRepository):
    def allow(self, thread_id: str, address: str, address_key: str, *, allowed_by: str) -> bool:
        """Allow `address` to answer in this negotiation. False = it was allowed already."""
        if not address_key.strip():
            raise StoreError("an allowed sender needs an address")
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"""INSERT INTO allowed_senders (thread_id, address_key, address, allowed_by,
                       allowed_at)
                   VALUES ({d.marks(5)})
                   ON CONFLICT (thread_id, address_key) DO NOTHING""",  # noqa: S608
                (thread_id, address_key, address, allowed_by, d.now()),
            )
            return cursor.rowcount == 1

    def is_allowed(self, thread_id: str, address_key: str) -> bool:
        d = self._dialect
        with self._scope(False) as conn:
            row = conn.execute(
                f"SELECT 1 AS found FROM allowed_senders WHERE thread_id = {d.mark} "  # noqa: S608
                f"AND address_key = {d.mark}",
                (thread_id, address_key),
            ).fetchone()
        return row is not None

    def threads_with_held(self) -> list[str]:
        """Threads with an allowed sender and at least one held message (to release)."""
        with self._scope(False) as conn:
            found = conn.execute(
                "SELECT DISTINCT a.thread_id AS thread_id FROM allowed_senders a "  # noqa: S608
                "JOIN inbound_messages i ON i.thread_id = a.thread_id "
                f"WHERE i.status = {self._dialect.mark} ORDER BY a.thread_id",
                (_QUARANTINED,),
            ).fetchall()
        return [row["thread_id"] for row in found]

    def for_thread(self, thread_id: str) -> list[AllowedSender]:
        d = self._dialect
        with self._scope(False) as conn:
            found = conn.execute(
                f"SELECT * FROM allowed_senders WHERE thread_id = {d.mark} "  # noqa: S608
                "ORDER BY allowed_at, address_key",
                (thread_id,),
            ).fetchall()
        return [
            AllowedSender(
                thread_id=row["thread_id"],
                address=row["address"],
                address_key=row["address_key"],
                allowed_by=row["allowed_by"],
                allowed_at=row_codec.as_datetime(row["allowed_at"]),
            )
            for row in found
        ]


def _held_from_row(row: Any) -> HeldMessage:
    return HeldMessage(
        message_id=row["message_id"],
        from_addr=row["sender_key"],
        thread_id=row["thread_id"],
        raw=bytes(row["raw"]),
        raw_size=int(row["raw_size"]),
        truncated=bool(row["truncated"]),
        held_at=row_codec.as_datetime(row["held_at"]),
    )
