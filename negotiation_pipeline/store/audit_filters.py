"""Audit-trail filters: `AuditQuery`, the one object every layer passes (CLI → store →
backend SQL), checked when it is made; the parsers for their text forms; and the WHERE clause
shared by every store backend.

Each bad value raises AuditFilterError naming the value and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from negotiation_pipeline.domain.enums import EventType

_LAST = re.compile(r"^\s*(\d+)\s*([A-Za-z]+)\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_LIMIT = 100_000


class AuditFilterError(ValueError):
    """A filter value is not valid; the message names it."""


@dataclass(frozen=True)
class AuditQuery:
    """Audit filters, combined with AND; `from_date`/`to_date` are whole UTC days, both
    included. Blank text filters mean "no filter" (an empty one would silently match nothing).
    Raises AuditFilterError on construction when the filters cannot make sense together."""

    influencer: str | None = None
    campaign: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    event_type: EventType | None = None
    since: timedelta | None = None
    thread_id: str | None = None
    limit: int = 50
    now: datetime | None = None  # reference time for `since` (tests); None = now

    def __post_init__(self) -> None:
        for name in ("influencer", "campaign", "thread_id"):
            object.__setattr__(self, name, _blank_to_none(getattr(self, name)))
        start, end = self.from_date, self.to_date
        if start is not None and end is not None and start > end:
            raise AuditFilterError(
                f"from date {start.isoformat()} is after to date {end.isoformat()}"
            )
        if self.since is not None and self.since <= timedelta(0):
            raise AuditFilterError(f"'since' must be a positive duration, got {self.since}")
        limit = self.limit
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise AuditFilterError(f"invalid limit {limit!r}: expected 1..{MAX_LIMIT}")
        if self.now is not None and self.now.utcoffset() is None:
            raise AuditFilterError("'now' must be timezone-aware")


def parse_day(value: date | str, label: str = "date") -> date:
    """A whole UTC day from a date or "YYYY-MM-DD" (nothing else is accepted)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise AuditFilterError(
            f"invalid {label} {value!r}: expected a date as YYYY-MM-DD"
        ) from None


def parse_last(value: str) -> timedelta:
    """ "7d", "24h", "30m", "2w" → timedelta; any other unit is an error naming it."""
    match = _LAST.match(value)
    if match is None:
        raise AuditFilterError(
            f"invalid duration {value!r}: expected a number and a unit, e.g. 7d, 24h, 30m, 2w"
        )
    amount, unit = int(match.group(1)), match.group(2).lower()
    if unit not in _UNITS:
        raise AuditFilterError(
            f"unknown unit {match.group(2)!r} in duration {value!r}: use m, h, d or w"
        )
    if amount <= 0:
        raise AuditFilterError(f"duration {value!r} must be positive")
    return timedelta(**{_UNITS[unit]: amount})


def parse_event_type(value: EventType | str) -> EventType:
    try:
        return EventType(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        known = ", ".join(e.value for e in EventType)
        raise AuditFilterError(f"unknown event type {value!r}: expected one of {known}") from None


def build_audit_query(
    *,
    influencer: str | None = None,
    campaign: str | None = None,
    from_date: date | str | None = None,
    to_date: date | str | None = None,
    event_type: EventType | str | None = None,
    since: timedelta | None = None,
    thread_id: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> AuditQuery:
    """An AuditQuery from filters that may still be text (days as YYYY-MM-DD, event types by
    name), as a command line or a chat message gives them."""
    return AuditQuery(
        influencer=influencer,
        campaign=campaign,
        from_date=None if from_date is None else parse_day(from_date, "from date"),
        to_date=None if to_date is None else parse_day(to_date, "to date"),
        event_type=None if event_type is None else parse_event_type(event_type),
        since=since,
        thread_id=thread_id,
        limit=limit,
        now=now,
    )


def audit_where(
    query: AuditQuery, placeholder: str, timestamp_param: Callable[[datetime], Any]
) -> tuple[str, list[Any]]:
    """The WHERE clause (or "") and its parameters for a validated query, for any backend.

    `placeholder` is the driver's parameter marker ("?" for sqlite3, "%s" for psycopg);
    `timestamp_param` turns an instant into what the backend compares the timestamp column
    with (fixed-width text for SQLite, the datetime itself for PostgreSQL's timestamptz).
    Column names come from this function only; every value goes through a placeholder.
    """
    conditions: list[tuple[str, Any]] = []
    if query.influencer is not None:
        conditions.append(("influencer_key =", influencer_key(query.influencer)))
    if query.campaign is not None:
        conditions.append(("campaign_id =", query.campaign))
    if query.event_type is not None:
        conditions.append(("event_type =", query.event_type.value))
    if query.thread_id is not None:
        conditions.append(("thread_id =", query.thread_id))
    if query.from_date is not None:
        conditions.append(('"timestamp" >=', timestamp_param(_day_start(query.from_date))))
    if query.to_date is not None:
        # Whole days: everything before the first instant of the next day.
        next_day = query.to_date + timedelta(days=1)
        conditions.append(('"timestamp" <', timestamp_param(_day_start(next_day))))
    if query.since is not None:
        start = (query.now or datetime.now(UTC)) - query.since
        conditions.append(('"timestamp" >=', timestamp_param(start)))
    if not conditions:
        return "", []
    where = " AND ".join(
        f"{column_and_operator} {placeholder}" for column_and_operator, _ in conditions
    )
    return " WHERE " + where, [value for _, value in conditions]


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def influencer_key(name: str | None) -> str | None:
    """The case-insensitive match key stored beside influencer_name (works for any alphabet)."""
    if name is None:
        return None
    key = name.strip().casefold()
    return key or None


def _blank_to_none(value: str | None) -> str | None:
    # An empty filter would silently match nothing; treat it as "no filter" instead.
    if value is None or not value.strip():
        return None
    return value
