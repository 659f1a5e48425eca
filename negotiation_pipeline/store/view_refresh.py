"""Campaigns whose Dagster views (negotiation snapshots, campaign report) are out of date.

A change made outside a Dagster run (a CLI resolution or control command) cannot report an
asset materialization itself. It records the campaign here, in its own transaction, and the
next run that can report materializations refreshes those views and clears the mark (a run that
dies before clearing leaves it for the one after: refreshing twice is harmless).
"""

from __future__ import annotations

from collections.abc import Sequence

from negotiation_pipeline.store.sql_repository import SqlRepository

REASON_MAX = 500

SQLITE_VIEW_REFRESH_TABLE = """CREATE TABLE IF NOT EXISTS view_refresh (
        campaign_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        requested_at TEXT NOT NULL
    )"""
POSTGRES_VIEW_REFRESH_TABLE = """CREATE TABLE IF NOT EXISTS view_refresh (
        campaign_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        requested_at TIMESTAMPTZ NOT NULL
    )"""


class SqlViewRefresh(SqlRepository):
    def request(self, campaign_id: str, reason: str) -> None:
        """Mark the campaign's views stale (the newest reason wins)."""
        d = self._dialect
        with self._scope(True) as conn:
            conn.execute(
                f"INSERT INTO view_refresh (campaign_id, reason, requested_at) "  # noqa: S608
                f"VALUES ({d.marks(3)}) ON CONFLICT (campaign_id) DO UPDATE SET "
                "reason = excluded.reason, requested_at = excluded.requested_at",
                (campaign_id, reason[:REASON_MAX], d.now()),
            )

    def pending(self) -> list[str]:
        """Campaigns waiting for a refresh, oldest request first."""
        with self._scope(False) as conn:
            rows = conn.execute(
                "SELECT campaign_id FROM view_refresh ORDER BY requested_at, campaign_id"
            ).fetchall()
        return [row["campaign_id"] for row in rows]

    def clear(self, campaign_ids: Sequence[str]) -> int:
        """Forget the marks of refreshed campaigns; returns how many were cleared."""
        cleared = 0
        with self._scope(True) as conn:
            for campaign_id in campaign_ids:
                cursor = conn.execute(
                    f"DELETE FROM view_refresh WHERE campaign_id = {self._dialect.mark}",  # noqa: S608
                    (campaign_id,),
                )
                cleared += max(cursor.rowcount, 0)
        return cleared
