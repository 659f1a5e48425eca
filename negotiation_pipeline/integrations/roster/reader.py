"""Read the roster CSV (columns name, email, platform, handle, average_views, engagement_rate,
and manager_email when present).

Returns raw rows (lower-case column → stripped cell text) for
`negotiation_pipeline.domain.campaigns.roster.select_influencers`, which turns bad cells into skips.
Header names are trimmed and case-insensitive ("Average Views" and "average_views" both work);
a missing column is an error naming it. Extra columns are ignored, except the optional
`<kind>_views` overrides (e.g. story_views), which the roster parser reads.

Where a roster may come from depends on who named it (`trusted`):
- the operator's own ROSTER_URL (trusted): a local path or any http(s) URL;
- a campaign's roster URL from the ClickUp form (not trusted): https to a public host only,
  checked after DNS and on every redirect (see `fetch`).
Both are bounded in size and time. Error messages name the source with its secrets redacted
and never quote what the source contains: a file that is not a roster (say /etc/passwd) must
not leak its first line into a run failure, Slack or the audit log.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx

from negotiation_pipeline.domain.campaigns.roster import (
    OPTIONAL_ROSTER_COLUMNS,
    ROSTER_COLUMNS,
    is_view_override_column,
)
from negotiation_pipeline.domain.redaction import redact_text, redact_url
from negotiation_pipeline.integrations.resilience import ErrorNotifier, call_with_retries
from negotiation_pipeline.integrations.roster.errors import RosterReadError, RosterSourceError
from negotiation_pipeline.integrations.roster.fetch import (
    AccessRules,
    FetchLimits,
    fetch_roster_text,
    format_size,
)
from negotiation_pipeline.integrations.roster.policy import campaign_url_problem

RosterRow = dict[str, str]
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# Columns a roster may carry besides the required ones; named in errors, other headers counted.
_KNOWN_COLUMNS = (*ROSTER_COLUMNS, *OPTIONAL_ROSTER_COLUMNS, "notes")


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
        raise RosterReadError(f"{source} line {reader.line_num}: not CSV ({exc})") from None
    columns = [_canonical_header(h) for h in header]
    missing = [c for c in ROSTER_COLUMNS if c not in columns]
    if missing:
        raise RosterReadError(
            f"{source} is missing column(s) {', '.join(missing)} ({_found_columns(columns)})"
        )
    position = {c: columns.index(c) for c in ROSTER_COLUMNS}
    position.update({c: columns.index(c) for c in OPTIONAL_ROSTER_COLUMNS if c in columns})
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
        raise RosterReadError(f"{source} line {reader.line_num}: not CSV ({exc})") from None
    return rows


def _found_columns(columns: list[str]) -> str:
    """What the header holds, without quoting it: known column names, other headers counted.
    (The first line of a file that is no roster at all is its content, not a header.)"""
    known = [c for c in columns if c in _KNOWN_COLUMNS]
    others = sum(1 for c in columns if c and c not in _KNOWN_COLUMNS)
    if not known:
        return f"the first line holds no roster column; {others} other field(s)"
    found = ", ".join(dict.fromkeys(known))
    return f"found: {found}" + (f" and {others} other column(s)" if others else "")


API_NAME = "roster"


def _download(
    url: str, rules: AccessRules, limits: FetchLimits, on_give_up: ErrorNotifier | None
) -> str:
    return call_with_retries(
        lambda: fetch_roster_text(url, rules, limits), API_NAME, on_give_up=on_give_up
    )


def _is_url(text: str) -> bool:
    return bool(_URL_SCHEME.match(text)) and not re.match(r"^[A-Za-z]:[\\/]", text)


def read_roster(
    source: str | Path,
    *,
    trusted: bool,
    limits: FetchLimits | None = None,
    rules: AccessRules | None = None,
    on_give_up: ErrorNotifier | None = None,
) -> list[RosterRow]:
    """Read a roster. `trusted` = the operator named it (ROSTER_URL): a local path or any
    http(s) URL. Otherwise only an https URL to a public host (`rules` defaults to
    `AccessRules.campaign()`; tests pass their own address policy, resolver and TLS context).
    Remote reads run under the retry policy; one that still fails is told to `on_give_up`."""
    limits = limits or FetchLimits()
    text_source = str(source).strip()
    if isinstance(source, Path) or not _is_url(text_source):
        if not trusted:
            raise RosterSourceError(
                f"campaign roster {_shown_path(text_source)} is a local path: a campaign's "
                "roster must be an https:// URL (local files only from ROSTER_URL)"
            )
        return _read_file(Path(text_source).expanduser(), limits)
    shown = redact_url(text_source)
    kind = "roster" if trusted else "campaign roster"
    scheme = text_source.partition(":")[0].lower()
    if scheme not in ("http", "https") or (not trusted and scheme != "https"):
        wanted = "http(s)" if trusted else "https"
        raise RosterSourceError(f"{kind} {shown} is not an {wanted}:// URL")
    if not trusted:
        problem = campaign_url_problem(text_source)
        if problem is not None:
            raise RosterSourceError(f"{kind} {shown} refused: it {problem}")
    chosen = rules or (AccessRules.operator() if trusted else AccessRules.campaign())
    try:
        text = _download(text_source, chosen, limits, on_give_up)
    except RosterSourceError as exc:
        raise RosterSourceError(f"{kind} {shown} refused: {exc}") from None
    except httpx.HTTPStatusError as exc:
        reason = exc.response.reason_phrase
        raise RosterReadError(
            f"{kind} {shown} answered HTTP {exc.response.status_code}"
            + (f" {reason}" if reason else "")
        ) from None
    except httpx.TimeoutException as exc:
        raise RosterReadError(
            f"{kind} {shown} timed out ({type(exc).__name__}; connect limit "
            f"{limits.connect_timeout_s:g} s, read limit {limits.read_timeout_s:g} s)"
        ) from None
    except httpx.HTTPError as exc:
        raise RosterReadError(
            f"{kind} {shown} could not be fetched: {type(exc).__name__}: {redact_text(str(exc))}"
        ) from None
    return parse_roster_csv(text, source=f"{kind} {shown}")


def _shown_path(text: str) -> str:
    return repr(redact_text(text[:200]))


def _read_file(path: Path, limits: FetchLimits) -> list[RosterRow]:
    shown = f"roster file {path}"
    try:
        with path.open("rb") as handle:  # bounded: a device or FIFO has no size to check
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise RosterReadError(f"{shown} cannot be read: {exc.strerror}") from None
    if len(data) > limits.max_bytes:
        raise RosterSourceError(f"{shown} is larger than the {format_size(limits.max_bytes)} limit")
    if b"\x00" in data:
        raise RosterReadError(f"{shown} is binary data, not CSV text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterReadError(f"{shown} is not UTF-8 text") from None
    return parse_roster_csv(text, source=shown)
