"""Read the roster CSV (columns name, email, platform, handle, average_views, engagement_rate).

Returns raw rows (lower-case column → stripped cell text) for
`negotiation_pipeline.domain.roster.select_influencers`, which turns bad cells into skips.
Header names are trimmed and case-insensitive ("Average Views" and "average_views" both work);
a missing column is an error naming it. Extra columns are ignored, except the optional
`<kind>_views` overrides (e.g. story_views), which the roster parser reads.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx

from negotiation_pipeline.domain.roster import ROSTER_COLUMNS, is_view_override_column
from negotiation_pipeline.integrations.resilience import resilient_api_call

RosterRow = dict[str, str]


class RosterReadError(ValueError):
    """The roster cannot be read or lacks a required column; the message names the source."""


def _canonical_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_roster_csv(text: str, source: str = "roster") -> list[RosterRow]:
    """CSV text → rows keyed by the canonical column names. Blank lines are dropped."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise RosterReadError(f"{source} is empty (no header row)") from None
    except csv.Error as exc:
        raise RosterReadError(f"{source} line {reader.line_num}: not CSV ({exc})") from exc
    columns = [_canonical_header(h) for h in header]
    missing = [c for c in ROSTER_COLUMNS if c not in columns]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "none"
        raise RosterReadError(
            f"{source} is missing column(s) {', '.join(missing)} (found: {found})"
        )
    position = {c: columns.index(c) for c in ROSTER_COLUMNS}
    position.update({c: i for i, c in enumerate(columns) if is_view_override_column(c)})
    rows: list[RosterRow] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            rows.append(
                {c: (cells[i].strip() if i < len(cells) else "") for c, i in position.items()}
            )
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KiB field limit
        raise RosterReadError(f"{source} line {reader.line_num}: not CSV ({exc})") from exc
    return rows


@resilient_api_call("roster")
def _download(url: str, timeout: float) -> str:
    # Published sheet exports answer with a redirect first.
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        response = client.get(url)
        response.raise_for_status()
        return response.text


def _safe_url(url: str) -> str:
    """URL without query or fragment: published-sheet links may carry access keys there."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(query=None, fragment=None))


def read_roster(source: str | Path, *, timeout: float = 30.0) -> list[RosterRow]:
    """Read a roster from a local path or an http(s) URL (retried per `resilient_api_call`)."""
    text_source = str(source)
    if text_source.startswith(("https://", "http://")):
        shown = _safe_url(text_source)
        try:
            text = _download(text_source, timeout)
        except httpx.HTTPStatusError as exc:
            raise RosterReadError(
                f"roster {shown} answered HTTP {exc.response.status_code}"
            ) from exc
        except httpx.TransportError as exc:
            raise RosterReadError(f"roster {shown} could not be fetched: {exc}") from exc
    else:
        path = Path(text_source).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise RosterReadError(f"roster file {path} cannot be read: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise RosterReadError(f"roster file {path} is not UTF-8 text") from exc
        shown = str(path)
    return parse_roster_csv(text, source=f"roster {shown}")
