"""`negotiation-pipeline audit`: filters, formats and errors over a real SQLite file and a
schema on the throwaway PostgreSQL server."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from negotiation_pipeline.cli import EXIT_FAILURE, EXIT_INVALID, EXIT_OK
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from tests.cli.conftest import SQLITE_ONLY, CliStore
from tests.cli.support import run_cli

LONG_BODY = "Thanks for reaching out! " * 20


@pytest.fixture
def audit_db(cli_store: CliStore) -> str:
    store = cli_store.open()
    now = datetime.now(UTC)
    store.audit.insert_many(
        [
            AuditEntry(
                event_type=EventType.EMAIL_RECEIVED,
                influencer_name="Jane Doe",
                campaign_id="camp-1",
                direction="received",
                email_body=LONG_BODY,
                timestamp=datetime(2026, 3, 2, 23, 59, 59, 900000, tzinfo=UTC),
            ),
            AuditEntry(
                event_type=EventType.AGREEMENT,
                influencer_name="Bob Ray",
                campaign_id="camp-2",
                rates_used="1500.00",
                metadata={"reason": "within ceiling"},
                timestamp=datetime(2026, 3, 3, tzinfo=UTC),
            ),
            AuditEntry(
                event_type=EventType.ERROR,
                influencer_name="Recent Person",
                campaign_id="camp-2",
                timestamp=now - timedelta(hours=1),
            ),
        ]
    )
    store.close()
    return cli_store.db


def run(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = run_cli("audit", *args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_table_is_readable_and_truncates_long_values(audit_db: str) -> None:
    code, out, _ = run("--db", audit_db, "--influencer", "jane doe")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["Timestamp", "(UTC)", "Event"]
    assert "2026-03-02 23:59:59.900" in out and "email_received" in out
    assert "Thanks for reaching out!" in out and "…" in out
    assert LONG_BODY.strip() not in out
    assert max(len(line) for line in lines) < 220
    assert lines[-1] == "1 entry (newest first)"


def test_table_keeps_money_digits(audit_db: str) -> None:
    code, out, _ = run("--db", audit_db, "--event-type", "agreement")
    assert code == EXIT_OK and "1500.00" in out


def test_json_output_for_programs(audit_db: str) -> None:
    code, out, _ = run("--db", audit_db, "--format", "json", "--campaign", "camp-2")
    assert code == EXIT_OK
    rows = json.loads(out)
    assert [r["event_type"] for r in rows] == ["error", "agreement"]  # newest first
    assert rows[1]["rates_used"] == "1500.00"
    assert rows[1]["metadata"] == {"reason": "within ceiling"}
    assert rows[1]["timestamp"] == "2026-03-03T00:00:00.000000Z"


def test_csv_output(audit_db: str) -> None:
    args = ["--db", audit_db, "--format", "csv", "--event-type", "agreement"]
    code, out, _ = run(*args)
    assert code == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and rows[0]["influencer_name"] == "Bob Ray"
    assert json.loads(rows[0]["metadata"]) == {"reason": "within ceiling"}


def test_inclusive_days_last_and_limit(audit_db: str) -> None:
    db = ["--db", audit_db, "--format", "json"]
    _, out, _ = run(*db, "--from", "2026-03-02", "--to", "2026-03-02")
    assert [r["influencer_name"] for r in json.loads(out)] == ["Jane Doe"]
    _, out, _ = run(*db, "--last", "24h")
    assert [r["influencer_name"] for r in json.loads(out)] == ["Recent Person"]
    _, out, _ = run(*db, "--limit", "2")
    assert len(json.loads(out)) == 2


def test_db_path_from_environment(audit_db: str, tmp_path: Path) -> None:
    code, out, _ = run("--format", "json", env={"NEGOTIATION_DB": audit_db})
    assert code == EXIT_OK and len(json.loads(out)) == 3
    # --db wins over the environment
    code, _, err = run("--db", str(tmp_path / "other.db"), env={"NEGOTIATION_DB": audit_db})
    assert code == EXIT_INVALID and "other.db" in err


def test_no_results(audit_db: str) -> None:
    code, out, _ = run("--db", audit_db, "--influencer", "Nobody")
    assert code == EXIT_OK and out.strip() == "No results"
    _, out, _ = run("--db", audit_db, "--influencer", "Nobody", "--format", "json")
    assert json.loads(out) == []


@SQLITE_ONLY  # refused before the store is opened: the engine plays no part
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--from", "2026-02-30"], "Invalid value for '--from': invalid date '2026-02-30'"),
        (["--to", "yesterday"], "Invalid value for '--to': invalid date 'yesterday'"),
        (["--last", "7y"], "Invalid value for '--last': unknown unit 'y'"),
        (["--last", "soon"], "Invalid value for '--last': invalid duration 'soon'"),
        (["--event-type", "email_lost"], "Invalid value for '--event-type': 'email_lost'"),
        (["--format", "xml"], "Invalid value for '--format': 'xml'"),
        (["--limit", "0"], "Invalid value for '--limit': limit 0 is out of range"),
        (["--limit", "many"], "Invalid value for '--limit': 'many' is not a whole number"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_option_and_value(
    audit_db: str, args: list[str], named: str
) -> None:
    code, out, err = run("--db", audit_db, *args)
    assert code == EXIT_INVALID
    assert named in err and "Usage: negotiation-pipeline audit" in err
    assert out == ""


@SQLITE_ONLY  # refused before the store is opened: the engine plays no part
def test_a_from_date_after_the_to_date_is_an_error(audit_db: str) -> None:
    code, out, err = run("--db", audit_db, "--from", "2026-03-05", "--to", "2026-03-01")
    assert code == EXIT_INVALID
    assert err == "error: from date 2026-03-05 is after to date 2026-03-01\n"
    assert out == ""


def test_event_type_is_case_insensitive(audit_db: str) -> None:
    code, out, _ = run("--db", audit_db, "--event-type", "AGREEMENT", "--format", "json")
    assert code == EXIT_OK
    assert [r["influencer_name"] for r in json.loads(out)] == ["Bob Ray"]


# About SQLite files only (a damaged or missing file); tests/cli/test_store_access.py covers an
# unreachable server and a schema without the store's tables.
def test_audit_on_a_locked_or_damaged_file_exits_1_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    path.write_bytes(b"\x00garbage" * 512)
    code, _, err = run("--db", str(path))
    assert code == EXIT_FAILURE
    assert err.startswith(f"error: {path} is not a SQLite database")
    assert "Traceback" not in err


# A file that is not there: SQLite only (the PostgreSQL counterpart, a schema without the
# store's tables, is in tests/cli/test_store_access.py).
def test_missing_db_is_an_error_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "absent.db"
    code, _, err = run("--db", str(missing))
    assert code == EXIT_INVALID
    assert "not found" in err and str(missing) in err
    assert not missing.exists()


RATES = "our offer $1,000.00; their ask $12,345,678.90; floor $800.00; ceiling $1,620.00"


@pytest.fixture
def campaign_db(cli_store: CliStore) -> str:
    """Three entries of one known campaign (with its long rates line) and one of an unknown."""
    store = cli_store.open()
    store.campaigns.upsert("86b1aa001", client_name="Lumen Skincare", status="validated")
    base = datetime(2026, 3, 3, tzinfo=UTC)
    store.audit.insert_many(
        [
            *(
                AuditEntry(
                    event_type=EventType.STATE_TRANSITION,
                    influencer_name=f"Creator {n}",
                    campaign_id="86b1aa001",
                    rates_used=RATES,
                    metadata={"reason": "counter", "ceiling_rate": "1620.00", "ask": "9999999.99"},
                    timestamp=base + timedelta(minutes=n),
                )
                for n in range(3)
            ),
            AuditEntry(
                event_type=EventType.ERROR,
                campaign_id="gone-42",
                timestamp=base - timedelta(days=1),
            ),
        ]
    )
    store.close()
    return cli_store.db


def test_table_shows_every_amount_whole_and_the_client_beside_the_task(campaign_db: str) -> None:
    code, out, _ = run("--db", campaign_db, "--campaign", "86b1aa001", "--limit", "1")
    assert code == EXIT_OK
    for amount in ("$1,000.00", "$12,345,678.90", "$800.00", "$1,620.00"):
        assert amount in out
    # an amount in the details is shown whole or not at all, never cut inside its digits: a
    # separator follows it (the keys' order is the store's: PostgreSQL's jsonb reorders them)
    assert re.search(r"ceiling_rate=1620\.00(,|\s)", out), out
    assert "Lumen Skincare (86b1aa001)" in out
    assert max(len(line) for line in out.splitlines()) < 220


def test_table_says_when_the_limit_hid_older_entries(campaign_db: str) -> None:
    code, out, _ = run("--db", campaign_db, "--limit", "2")
    assert code == EXIT_OK
    assert out.splitlines()[-1].startswith("2 entries (newest first); older entries match too")
    assert "--limit 2" in out.splitlines()[-1]

    _, everything, _ = run("--db", campaign_db, "--limit", "4")
    assert everything.splitlines()[-1] == "4 entries (newest first)"
    assert "gone-42" in everything  # a campaign the store no longer knows: its id alone

    code, data, err = run("--db", campaign_db, "--limit", "2", "--format", "json")
    assert code == EXIT_OK and len(json.loads(data)) == 2
    assert "older entries match too" in err
