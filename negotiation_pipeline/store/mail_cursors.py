"""The mail cursor repository, for SQLite and PostgreSQL: where each mailbox's reading stands
(UIDVALIDITY and the last uid handled in order), and the uids above it that runs have fetched
(with their sender) or handled, so several runs can share one mailbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.base import MailCursor, iter_chunks
from negotiation_pipeline.store.records import (
    MailUid,
)
from negotiation_pipeline.store.sql_repository import SqlRepository

_UID_ROWS_PER_STATEMENT = 100  # mail uid rows per INSERT (5 parameters each)


# --- mail cursor -------------------------------------------------------------------------------
class SqlMailCursors(SqlRepository):
    def get(self, mailbox: str) -> MailCursor | None:
        with self._scope(False) as conn:
            row = conn.execute(
                f"SELECT * FROM mail_cursor WHERE mailbox = {self._dialect.mark}",  # noqa: S608
                (mailbox,),
            ).fetchone()
        return None if row is None else row_codec.mail_cursor_from_row(row)

    def set(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        with self._scope(True) as conn:
            conn.execute(
                f"""INSERT INTO mail_cursor (mailbox, uidvalidity, last_uid)
                   VALUES ({self._dialect.marks(3)})
                   ON CONFLICT (mailbox) DO UPDATE SET
                       uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid""",  # noqa: S608
                (mailbox, uidvalidity, last_uid),
            )

    def note_senders(self, mailbox: str, uidvalidity: int, senders: Mapping[int, str]) -> None:
        """Record fetched uids with their sender's address (before they are handled), so other
        runs keep one sender's replies in arrival order. A handled uid stays handled."""
        rows = [(mailbox, uidvalidity, uid, key, False) for uid, key in sorted(senders.items())]
        self._upsert_uids(rows, "sender_key = excluded.sender_key")

    def mark_handled(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> None:
        """Record uids above the cursor as handled (call in the transaction that handled them,
        so the record and the handling commit together)."""
        rows = [(mailbox, uidvalidity, uid, "", True) for uid in sorted(set(uids))]
        self._upsert_uids(rows, "handled = excluded.handled")

    def handled_among(self, mailbox: str, uidvalidity: int, uids: Iterable[int]) -> frozenset[int]:
        """Which of these uids a run has recorded as handled (and the cursor not yet passed)."""
        wanted = frozenset(uids)
        if not wanted:
            return frozenset()
        found = self.uids_between(mailbox, uidvalidity, min(wanted), max(wanted))
        return frozenset(uid for uid, row in found.items() if row.handled and uid in wanted)

    def uids_between(
        self, mailbox: str, uidvalidity: int, low: int, high: int
    ) -> dict[int, MailUid]:
        """The recorded uids from `low` to `high` (inclusive)."""
        d = self._dialect
        with self._scope(False) as conn:
            found = conn.execute(
                "SELECT uid, sender_key, handled FROM mail_uids WHERE mailbox = "  # noqa: S608
                f"{d.mark} AND uidvalidity = {d.mark} AND uid BETWEEN {d.mark} AND {d.mark}",
                (mailbox, uidvalidity, low, high),
            ).fetchall()
        return {
            int(row["uid"]): MailUid(int(row["uid"]), row["sender_key"], bool(row["handled"]))
            for row in found
        }

    def forget_handled_through(self, mailbox: str, uidvalidity: int, last_uid: int) -> int:
        """Drop the records the cursor has passed (and any of an older UIDVALIDITY)."""
        d = self._dialect
        with self._scope(True) as conn:
            cursor = conn.execute(
                f"DELETE FROM mail_uids WHERE mailbox = {d.mark} "  # noqa: S608
                f"AND (uidvalidity <> {d.mark} OR uid <= {d.mark})",
                (mailbox, uidvalidity, last_uid),
            )
            return max(cursor.rowcount, 0)

    def _upsert_uids(self, rows: list[tuple[Any, ...]], on_conflict: str) -> None:
        # `on_conflict` is one of this class's constant assignments; values go through marks.
        d = self._dialect
        with self._scope(True) as conn:
            for chunk in iter_chunks(rows, _UID_ROWS_PER_STATEMENT):
                values = ", ".join(f"({d.marks(5)})" for _ in chunk)
                conn.execute(
                    "INSERT INTO mail_uids (mailbox, uidvalidity, uid, sender_key, handled) "  # noqa: S608
                    f"VALUES {values} ON CONFLICT (mailbox, uidvalidity, uid) "
                    f"DO UPDATE SET {on_conflict}",
                    [value for row in chunk for value in row],
                )
