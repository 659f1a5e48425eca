"""Rendering audit entries for people (table) and programs (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.store import codec

FORMATS = ("table", "json", "csv")
NO_RESULTS = "No results"
ELLIPSIS = "…"

# Field order for JSON and CSV: everything an entry holds.
FIELDS = (
    "id",
    "timestamp",
    "event_type",
    "campaign_id",
    "influencer_name",
    "thread_id",
    "direction",
    "negotiation_state",
    "rates_used",
    "intent_classification",
    "email_body",
    "metadata",
)

# (header, width) for the table: wide enough for typical values, long ones are cut with "…".
TABLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Timestamp (UTC)", 23),
    ("Event", 24),
    ("Influencer", 20),
    ("Campaign", 14),
    ("State", 16),
    ("Dir", 8),
    ("Rates", 12),
    ("Intent", 9),
    ("Details", 40),
)


def truncate(text: str | None, width: int) -> str:
    """One line, at most `width` characters, ending in "…" when something was cut."""
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + ELLIPSIS


def entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    stamp = None if entry.timestamp is None else codec.format_timestamp(entry.timestamp)
    values = entry.model_dump(mode="json")
    values["timestamp"] = stamp
    return {name: values.get(name) for name in FIELDS}


def _details(entry: AuditEntry) -> str:
    # The metadata usually says why (reason, from/to state); fall back to the email text.
    if entry.metadata:
        return ", ".join(f"{k}={v}" for k, v in entry.metadata.items())
    return entry.email_body or ""


def _table_row(entry: AuditEntry) -> list[str]:
    stamp = "" if entry.timestamp is None else codec.format_timestamp(entry.timestamp)
    readable_stamp = stamp[:23].replace("T", " ")  # milliseconds are enough on screen
    values = (
        readable_stamp,
        entry.event_type.value,
        entry.influencer_name,
        entry.campaign_id,
        entry.negotiation_state,
        entry.direction,
        entry.rates_used,
        entry.intent_classification,
        _details(entry),
    )
    return [truncate(v, width) for v, (_, width) in zip(values, TABLE_COLUMNS, strict=True)]


def format_table(entries: Sequence[AuditEntry]) -> str:
    if not entries:
        return NO_RESULTS
    headers = [header for header, _ in TABLE_COLUMNS]
    # disable_numparse: "1500.00" must stay "1500.00" (tabulate would print it as 1500).
    table = tabulate(
        [_table_row(e) for e in entries], headers=headers, tablefmt="simple", disable_numparse=True
    )
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} (newest first)"
    return f"{table}\n{count}"


def format_json(entries: Sequence[AuditEntry]) -> str:
    return json.dumps([entry_as_dict(e) for e in entries], indent=2, ensure_ascii=False)


def format_csv(entries: Sequence[AuditEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        row = entry_as_dict(entry)
        if row["metadata"] is not None:
            row["metadata"] = json.dumps(row["metadata"], ensure_ascii=False)
        writer.writerow(row)
    return buffer.getvalue().rstrip("\n")


def render(entries: Sequence[AuditEntry], output_format: str) -> str:
    if output_format == "json":
        return format_json(entries)
    if output_format == "csv":
        return format_csv(entries)
    return format_table(entries)
