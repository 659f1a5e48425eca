from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from negotiation_pipeline.cli.main import EXIT_INVALID, EXIT_OK, main
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.store import SQLiteStore

LONG_BODY = "Thanks for reaching out! " * 20


@pytest.fixture
def audit_db(db_path: Path) -> Path:
    store = SQLiteStore(db_path)
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
    return db_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_is_readable_and_truncates_long_values(
    capsys: pytest.CaptureFixture[str], audit_db: Path
) -> None:
    code, out, _ = run(capsys, "--db", str(audit_db), "--influencer", "jane doe")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["Timestamp", "(UTC)", "Event"]
    assert "2026-03-02 23:59:59.900" in out and "email_received" in out
    assert "Thanks for reaching out!" in out and "…" in out
    assert LONG_BODY.strip() not in out
    assert max(len(line) for line in lines) < 220
    assert lines[-1] == "1 entry (newest first)"


def test_table_keeps_money_digits(capsys: pytest.CaptureFixture[str], audit_db: Path) -> None:
    code, out, _ = run(capsys, "--db", str(audit_db), "--event-type", "agreement")
    assert code == EXIT_OK and "1500.00" in out


def test_json_output_for_programs(capsys: pytest.CaptureFixture[str], audit_db: Path) -> None:
    code, out, _ = run(capsys, "--db", str(audit_db), "--format", "json", "--campaign", "camp-2")
    assert code == EXIT_OK
    rows = json.loads(out)
    assert [r["event_type"] for r in rows] == ["error", "agreement"]  # newest first
    assert rows[1]["rates_used"] == "1500.00"
    assert rows[1]["metadata"] == {"reason": "within ceiling"}
    assert rows[1]["timestamp"] == "2026-03-03T00:00:00.000000Z"


def test_csv_output(capsys: pytest.CaptureFixture[str], audit_db: Path) -> None:
    args = ["--db", str(audit_db), "--format", "csv", "--event-type", "agreement"]
    code, out, _ = run(capsys, *args)
    assert code == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and rows[0]["influencer_name"] == "Bob Ray"
    assert json.loads(rows[0]["metadata"]) == {"reason": "within ceiling"}


def test_inclusive_days_last_and_limit(capsys: pytest.CaptureFixture[str], audit_db: Path) -> None:
    db = ["--db", str(audit_db), "--format", "json"]
    _, out, _ = run(capsys, *db, "--from", "2026-03-02", "--to", "2026-03-02")
    assert [r["influencer_name"] for r in json.loads(out)] == ["Jane Doe"]
    _, out, _ = run(capsys, *db, "--last", "24h")
    assert [r["influencer_name"] for r in json.loads(out)] == ["Recent Person"]
    _, out, _ = run(capsys, *db, "--limit", "2")
    assert len(json.loads(out)) == 2


def test_db_path_from_environment(
    capsys: pytest.CaptureFixture[str], audit_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEGOTIATION_DB", str(audit_db))
    code, out, _ = run(capsys, "--format", "json")
    assert code == EXIT_OK and len(json.loads(out)) == 3


def test_no_results(capsys: pytest.CaptureFixture[str], audit_db: Path) -> None:
    code, out, _ = run(capsys, "--db", str(audit_db), "--influencer", "Nobody")
    assert code == EXIT_OK and out.strip() == "No results"
    _, out, _ = run(capsys, "--db", str(audit_db), "--influencer", "Nobody", "--format", "json")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--from", "2026-02-30"], "'2026-02-30'"),
        (["--to", "yesterday"], "'yesterday'"),
        (["--last", "7y"], "'y'"),
        (["--last", "soon"], "'soon'"),
        (["--event-type", "email_lost"], "'email_lost'"),
        (["--from", "2026-03-05", "--to", "2026-03-01"], "2026-03-05 is after to date 2026-03-01"),
        (["--limit", "0"], "limit"),
    ],
)
def test_bad_values_exit_2_naming_the_value(
    capsys: pytest.CaptureFixture[str], audit_db: Path, args: list[str], named: str
) -> None:
    code, out, err = run(capsys, "--db", str(audit_db), *args)
    assert code == EXIT_INVALID
    assert named in err and err.startswith("error: ")
    assert out == ""


def test_missing_db_is_an_error_and_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "absent.db"
    code, _, err = run(capsys, "--db", str(missing))
    assert code == EXIT_INVALID
    assert "not found" in err and str(missing) in err
    assert not missing.exists()
