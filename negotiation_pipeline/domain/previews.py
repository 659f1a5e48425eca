"""Bounded previews of outside text, for the places that show it rather than keep it.

A roster name, a reply or a server's answer can be any size; a Dagster metadata table, a log
line or a side field of an audit row must not grow with it (a 100 KB roster name once made a
1.7 MB Dagster event). The full text, where it is kept at all, lives in one place only.
"""

from __future__ import annotations

CELL_CHARS = 200  # one cell of a metadata table, one name in a log line
TEXT_PREVIEW_CHARS = 4000  # a longer excerpt (the new text of a reply beside its stored body)
PREVIEW_ROWS = 50  # rows of a metadata table


def preview(text: str, limit: int = CELL_CHARS) -> str:
    """`text` itself when it fits, else its start and how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters]"


def cell(text: str, limit: int = CELL_CHARS) -> str:
    """One markdown table cell: on one line, pipes escaped, bounded."""
    flat = " ".join(str(text).split())
    return preview(flat, limit).replace("|", "\\|")
