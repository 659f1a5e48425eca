"""Rendering audit entries for people (table) and programs (JSON, CSV).

Audit rows hold outside data (influencer names, email bodies, ClickUp fields), so both outputs
people open are made safe for where they land:
- CSV: a cell a spreadsheet would evaluate as a formula (or DDE call) gets a leading `'`, which
  spreadsheet apps read as "this cell is text";
- table: control, bidi-override/isolate and invisible format characters are removed, so a
  terminal shows what an entry really says (no escape sequences, no text reversed or hidden).
JSON keeps every character: it is for programs, and json.dumps escapes control characters.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
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

# (header, width) for the table. Names and labels are cut with "…"; the rates are never cut
# (one amount per line) and the details wrap over a few lines, cut between words, so an amount
# is shown whole or not at all.
TABLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Timestamp (UTC)", 23),
    ("Event", 24),
    ("Influencer", 20),
    ("Campaign", 36),
    ("State", 16),
    ("Dir", 8),
    ("Rates", 0),
    ("Intent", 9),
    ("Details", 44),
)
CLIENT_WIDTH = 20
CAMPAIGN_ID_WIDTH = 14
DETAIL_LINES = 3


# A cell starting with one of these is a formula in Excel, LibreOffice or Google Sheets (the
# full-width forms are read as their ASCII twins by some locales' input handling).
FORMULA_TRIGGERS = frozenset("=+-@＝＋－＠")
# Spreadsheet apps may trim these before deciding whether a cell is a formula.
_TRIMMED_BEFORE_FORMULA = " \t\r\n\x0b\x0c\u00a0\u3000"
_ZERO_WIDTH_JOINER = "\u200d"


def neutralize_formula(cell: str) -> str:
    """`cell` with a leading `'` when a spreadsheet could run it as a formula: it starts with a
    formula sign, a tab or CR, or with blanks followed by a formula sign."""
    if not cell:
        return cell
    if cell[0] in "\t\r" or cell.lstrip(_TRIMMED_BEFORE_FORMULA)[:1] in FORMULA_TRIGGERS:
        return "'" + cell
    return cell


def _is_pictograph(char: str) -> bool:
    return unicodedata.category(char) == "So"


def _joins_emoji(text: str, index: int) -> bool:
    """A zero-width joiner between two pictographs (a family or profession emoji) is part of
    one glyph; anywhere else it only hides a break inside a word."""
    before = text[:index].rstrip("\ufe0e\ufe0f")  # variation selectors sit before the joiner
    after = text[index + 1 : index + 2]
    return bool(before) and bool(after) and _is_pictograph(before[-1]) and _is_pictograph(after)


def printable(text: str) -> str:
    """`text` without what could disguise it on a terminal: control characters (whitespace
    controls become spaces), bidi embeddings/overrides/isolates and marks, zero-width and other
    invisible format characters (tag characters included), surrogates and unassigned code
    points. Letters, marks and symbols of every script stay."""
    kept: list[str] = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cc":
            if char.isspace():
                kept.append(" ")
        elif category == "Cf":
            if char == _ZERO_WIDTH_JOINER and _joins_emoji(text, index):
                kept.append(char)
        elif category not in ("Cs", "Cn", "Co", "Zl", "Zp"):
            kept.append(char)
    return "".join(kept)


def truncate(text: str | None, width: int) -> str:
    """One printable line, at most `width` characters, ending in "…" when something was cut."""
    if not text:
        return ""
    flat = " ".join(printable(text).split())
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


def _campaign_cell(campaign_id: str | None, client_names: Mapping[str, str]) -> str:
    """ "Lumen Skincare (86b1aa001)": the client people know, beside the task id."""
    if not campaign_id:
        return ""
    task = truncate(campaign_id, CAMPAIGN_ID_WIDTH)
    client = truncate(client_names.get(campaign_id), CLIENT_WIDTH)
    return f"{client} ({task})" if client else task


def _rates_cell(rates: str | None) -> str:
    """Every amount in full, one part per line ("our offer $1,000.00", "ceiling $1,620.00")."""
    parts = (" ".join(printable(part).split()) for part in (rates or "").split(";"))
    return "\n".join(part for part in parts if part)


def _details_cell(text: str, width: int) -> str:
    flat = " ".join(printable(text).split())
    lines = textwrap.wrap(
        flat, width, max_lines=DETAIL_LINES, placeholder=f" {ELLIPSIS}", break_on_hyphens=False
    )
    return "\n".join(lines)


def _table_row(entry: AuditEntry, client_names: Mapping[str, str]) -> list[str]:
    stamp = "" if entry.timestamp is None else codec.format_timestamp(entry.timestamp)
    readable_stamp = stamp[:23].replace("T", " ")  # milliseconds are enough on screen
    width = dict(TABLE_COLUMNS)
    return [
        truncate(readable_stamp, width["Timestamp (UTC)"]),
        truncate(entry.event_type.value, width["Event"]),
        truncate(entry.influencer_name, width["Influencer"]),
        _campaign_cell(entry.campaign_id, client_names),
        truncate(entry.negotiation_state, width["State"]),
        truncate(entry.direction, width["Dir"]),
        _rates_cell(entry.rates_used),
        truncate(entry.intent_classification, width["Intent"]),
        _details_cell(_details(entry), width["Details"]),
    ]


def format_table(
    entries: Sequence[AuditEntry],
    client_names: Mapping[str, str] | None = None,
    *,
    older_hidden: bool = False,
) -> str:
    """The entries as a table; `client_names` (campaign id → client) labels the campaigns, and
    `older_hidden` says that the limit left older matching entries out."""
    if not entries:
        return NO_RESULTS
    headers = [header for header, _ in TABLE_COLUMNS]
    # disable_numparse: "1500.00" must stay "1500.00" (tabulate would print it as 1500).
    table = tabulate(
        [_table_row(e, client_names or {}) for e in entries],
        headers=headers,
        tablefmt="simple",
        disable_numparse=True,
    )
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} (newest first)"
    if older_hidden:
        count += f"; {older_entries_note(len(entries))}"
    return f"{table}\n{count}"


def older_entries_note(shown: int) -> str:
    return (
        f"older entries match too and are not shown (--limit {shown}): raise --limit "
        "or narrow the filters (--from, --to, --last)"
    )


def format_json(entries: Sequence[AuditEntry]) -> str:
    return json.dumps([entry_as_dict(e) for e in entries], indent=2, ensure_ascii=False)


def _csv_row(entry: AuditEntry) -> dict[str, Any]:
    row = entry_as_dict(entry)
    if row["metadata"] is not None:
        row["metadata"] = json.dumps(row["metadata"], ensure_ascii=False)
    # Every cell, ours included: a value never needs to be trusted to be exported safely.
    return {
        name: neutralize_formula(value) if isinstance(value, str) else value
        for name, value in row.items()
    }


def format_csv(entries: Sequence[AuditEntry]) -> str:
    buffer = io.StringIO()
    # CRLF rows (RFC 4180): the writer then also quotes a cell holding a lone CR, which a
    # "\n" terminator would leave bare, splitting the row for every reader.
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(_csv_row(entry))
    return buffer.getvalue().removesuffix("\r\n")


def render(
    entries: Sequence[AuditEntry],
    output_format: str,
    client_names: Mapping[str, str] | None = None,
    *,
    older_hidden: bool = False,
) -> str:
    """JSON and CSV hold the entries alone (programs read them); the table adds the client
    names and the note about older entries."""
    if output_format == "json":
        return format_json(entries)
    if output_format == "csv":
        return format_csv(entries)
    return format_table(entries, client_names, older_hidden=older_hidden)
