"""Fuzzing the roster reader: arbitrary CSV text, arbitrary file bytes, arbitrary cells.

Claims:
- `parse_roster_csv` on any text returns rows keyed by exactly the roster columns (stripped
  cell text), or raises `RosterReadError` naming the source and what is wrong (the missing
  column, or the line the CSV module could not read).
- `read_roster` on a file holding any bytes: rows, or a `RosterReadError` naming the file.
- `select_influencers` on whatever rows came out never raises: a bad cell becomes a skip whose
  reason names the column; every selected profile has positive whole views and an engagement
  rate in 0..100.
"""

from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation_pipeline.domain.campaigns.roster import (
    ROSTER_COLUMNS,
    RosterCellError,
    parse_views,
    select_influencers,
)
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.integrations.roster import RosterReadError, parse_roster_csv, read_roster

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCE = "roster fuzz.csv"
HEADER = "name,email,platform,handle,average_views,engagement_rate"

NASTY_CELLS = [
    "", " ", '"', '""', "\x00", "\r", "\n", "\ufeff", "1e999999999", "1e9999", "-1e999999",
    "1E+400k", "NaN", "sNaN", "Infinity", "-0", "0", "42,000", "1.2M", "42k", "4.1%", "%",
    "101%", "-3%", "١٢٣", "１２", "²", "@", "a@", "@b", "x@y", "instagram", " TikTok ",
    "youtube", "9" * 60, "1_000", "1.5", "12 000", "🙂", "=cmd|' /C calc'!A0",
]  # fmt: skip
cell = st.one_of(st.sampled_from(NASTY_CELLS), st.text(max_size=16))
header_name = st.one_of(
    st.sampled_from([*ROSTER_COLUMNS, "Average Views", " NAME ", "e-mail", "Engagement-Rate"]),
    st.text(max_size=10),
)


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


@st.composite
def roster_text(draw: st.DrawFn) -> str:
    """A plausible roster (right or shuffled or broken header, fuzzed cells) or any text."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(max_size=300))
    header = list(ROSTER_COLUMNS)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(st.integers(0, 3)) == 0:
        header = draw(st.lists(header_name, max_size=8))
    rows = draw(st.lists(st.lists(cell, max_size=8), max_size=6))
    lines = [_csv_line(header), *(_csv_line(r) for r in rows)]
    if draw(st.booleans()):  # hand-made breakage: stray quotes, NULs, CR, unbalanced fields
        junk = draw(st.sampled_from(['"', '"a""b', "\x00", "\r", ",,,,,,,,", '","']))
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, junk + "\n")
    return "".join(lines)


def assert_rows_or_clear_error(text: str) -> list[dict[str, str]]:
    try:
        rows = parse_roster_csv(text, source=SOURCE)
    except RosterReadError as exc:
        message = str(exc)
        assert SOURCE in message
        assert "missing column" in message or "empty" in message or " line " in message
        if "missing column" in message:
            assert any(column in message for column in ROSTER_COLUMNS)
        return []
    for row in rows:
        assert tuple(row) == ROSTER_COLUMNS
        assert all(isinstance(v, str) and v == v.strip() for v in row.values())
        assert any(row.values())
    return rows


def assert_selection_is_sound(rows: list[dict[str, str]]) -> None:
    for platform in Platform:
        selection = select_influencers(rows, [], platform)
        for profile in selection.selected:
            assert isinstance(profile.average_views, int) and profile.average_views > 0
            assert profile.engagement_rate is None or 0 <= profile.engagement_rate <= 100
            assert isinstance(profile.engagement_rate, Decimal | None)
        for skip in selection.skipped:
            assert skip.reason.strip()
        wanted = [r["email"] for r in rows[:3]] + ["nobody@example.test"]
        named = select_influencers(rows, wanted, platform)
        assert len(named.selected) + len(named.skipped) == len([w for w in wanted if w.strip()])


@FUZZ
@given(roster_text())
def test_any_roster_text_gives_rows_or_a_clear_error(text: str) -> None:
    assert_selection_is_sound(assert_rows_or_clear_error(text))


@FUZZ
@given(st.lists(st.fixed_dictionaries({c: cell for c in ROSTER_COLUMNS}), max_size=5))
def test_any_cells_are_selected_or_skipped_with_a_reason(rows: list[dict[str, str]]) -> None:
    assert_selection_is_sound(rows)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b"\xff\xfe" + HEADER.encode("utf-16-le"), b"\x00" * 10, b"\xef\xbb\xbf"]),
        st.builds(lambda b: HEADER.encode() + b"\n" + b, st.binary(max_size=100)),
    )
)
def test_any_file_bytes_give_rows_or_an_error_naming_the_file(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        path.write_bytes(raw)
        try:
            rows = read_roster(path, trusted=True)
        except RosterReadError as exc:
            assert str(path) in str(exc)
            return
        assert all(tuple(row) == ROSTER_COLUMNS for row in rows)
        assert_selection_is_sound(rows)


# Regressions found by the fuzzers above (each escaped as a non-roster exception).
@pytest.mark.parametrize("views", ["1e999999999", "1E+400k", "1e9999", "-1e999999999m", "9" * 5000])
def test_regression_absurd_view_counts_are_cell_errors(views: str) -> None:
    with pytest.raises(RosterCellError, match="average_views"):
        parse_views(views)
    row = dict.fromkeys(ROSTER_COLUMNS, "x") | {
        "email": "a@example.test",
        "platform": "instagram",
        "average_views": views,
    }
    skipped = select_influencers([row], [], Platform.INSTAGRAM).skipped
    assert len(skipped) == 1 and "average_views" in skipped[0].reason


def test_regression_oversized_cell_is_a_read_error_naming_the_line() -> None:
    text = f'{HEADER}\nAnn,ann@example.test,instagram,@ann,1000,3%\n"{"x" * 200_000}",b\n'
    with pytest.raises(RosterReadError, match=rf"{SOURCE} line 3: not CSV"):
        parse_roster_csv(text, source=SOURCE)


def test_regression_oversized_header_is_a_read_error_naming_line_one() -> None:
    with pytest.raises(RosterReadError, match=rf"{SOURCE} line 1: not CSV"):
        parse_roster_csv("x" * 200_000, source=SOURCE)
