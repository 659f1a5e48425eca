"""Turning Python values into the TEXT the database holds, and back, without losing money.

- Timestamps: ISO-8601 UTC with microseconds, fixed width (`2026-05-01T09:30:00.000000Z`), so
  comparing the strings compares the instants (indexes and ORDER BY work on text).
- Decimals inside JSON (context, lever state): tagged as {"$decimal": "1234.5600"} and turned back
  into Decimal on load, so a saved context comes back with the same types and digits.
- Enums become their value, Pydantic models their fields, dates ISO text.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

DECIMAL_TAG = "$decimal"
TIMESTAMP_WIDTH = len("2026-05-01T09:30:00.000000Z")


class CodecError(ValueError):
    """A value cannot be stored (for example a naive datetime or an unknown type)."""


def format_timestamp(moment: datetime) -> str:
    """Fixed-width UTC text; a naive datetime is refused (its zone would be a guess)."""
    if moment.utcoffset() is None:
        raise CodecError(f"timestamp {moment!r} has no time zone; pass an aware (UTC) datetime")
    # isoformat(timespec="microseconds") always writes all six digits (fixed width) and is
    # about 5x faster than strftime("%f"), which matters on the bulk audit path.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    # fromisoformat reads the trailing "Z" as UTC (Python 3.11+); 40x faster than strptime.
    return datetime.fromisoformat(text)


def utc_now() -> datetime:
    return datetime.now(UTC)


def day_start(day: date) -> str:
    """First instant of a UTC day, as stored text (the inclusive lower bound of a day range)."""
    return format_timestamp(datetime(day.year, day.month, day.day, tzinfo=UTC))


def day_after_start(day: date) -> str:
    """First instant of the next UTC day (the exclusive upper bound that makes `to` inclusive)."""
    return day_start(day + timedelta(days=1))


def _default(value: Any, *, tag_decimals: bool) -> Any:
    if isinstance(value, Decimal):
        return {DECIMAL_TAG: str(value)} if tag_decimals else str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        # Python mode keeps Decimals as Decimal, so they get tagged on the way down.
        return value.model_dump(mode="python")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise CodecError(f"cannot store a value of type {type(value).__name__}: {value!r}")


# Built once: constructing an encoder per call costs more than encoding a small dict.
_TAGGED_ENCODER = json.JSONEncoder(
    default=lambda v: _default(v, tag_decimals=True), ensure_ascii=False
)
_PLAIN_ENCODER = json.JSONEncoder(
    default=lambda v: _default(v, tag_decimals=False), ensure_ascii=False
)


def dumps_tagged(value: Any) -> str:
    """JSON for values we read back ourselves (context, lever state): Decimals keep their type."""
    return _TAGGED_ENCODER.encode(value)


def loads_tagged(text: str) -> Any:
    return json.loads(text, object_hook=_untag)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and DECIMAL_TAG in obj:
        return Decimal(obj[DECIMAL_TAG])
    return obj


def dumps_plain(value: Any) -> str:
    """JSON for values other programs read (audit metadata, CPM tracker dicts): Decimal as text."""
    return _PLAIN_ENCODER.encode(value)


def loads_plain(text: str) -> Any:
    return json.loads(text)


def decimal_text(amount: Decimal | None) -> str | None:
    """Money column value: the Decimal's exact text (never a REAL)."""
    if amount is None:
        return None
    if not isinstance(amount, Decimal):
        raise CodecError(f"money must be a Decimal, got {type(amount).__name__} ({amount!r})")
    return str(amount)


def decimal_from_text(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
