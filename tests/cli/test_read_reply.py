"""`negotiation-pipeline read-reply MESSAGE.eml`: mime.parse_message + domain read_reply → JSON."""

from __future__ import annotations

import json
from pathlib import Path

from negotiation_pipeline.cli import EXIT_INVALID, EXIT_OK
from tests.cli.support import run_cli

FIXTURES = Path(__file__).parents[1] / "integrations" / "mail" / "fixtures"


def _run(path: Path) -> tuple[int, str, str]:
    result = run_cli("read-reply", str(path))
    return result.exit_code, result.stdout, result.stderr


def test_quoted_printable_counter_offer() -> None:
    code, out, err = _run(FIXTURES / "counter_qp.eml")
    assert code == EXIT_OK and err == ""
    result = json.loads(out)
    assert set(result) == {"intent", "proposed_rate", "currency", "confidence", "new_text"}
    assert result["intent"] == "counter"
    assert result["proposed_rate"] == "1900"  # a string (Decimal), never a float
    assert result["currency"] == "USD"
    assert "$1,000.00" not in result["new_text"]  # quoted history is not read as their offer
    assert 0.0 <= result["confidence"] <= 1.0


def test_html_only_latin1_acceptance() -> None:
    code, out, _ = _run(FIXTURES / "accept_html_latin1.eml")
    result = json.loads(out)
    assert code == EXIT_OK
    assert result["intent"] == "accept"
    assert result["proposed_rate"] is None and result["currency"] is None
    assert "Let’s do it!" in result["new_text"]  # cp1252 quote byte decoded, tags gone
    assert "<p>" not in result["new_text"]


def test_malformed_file_exits_2_with_clear_error(
    tmp_path: Path,
) -> None:
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"\x00\x01 this is not an email")
    code, out, err = _run(garbage)
    assert code == EXIT_INVALID and out == ""
    assert "garbage.eml is not a readable email: no message headers found" in err


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path / "absent.eml")
    assert code == EXIT_INVALID and out == ""
    assert "cannot read" in err and "absent.eml" in err


def test_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path)
    assert code == EXIT_INVALID and out == ""
    assert "is a directory" in err


def _eml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "reply.eml"
    path.write_text(
        "From: Jamie <jamie@creator.example.test>\nTo: partnerships@agency.test\n"
        f"Subject: Re: Partnership\nMessage-ID: <r1@creator.example.test>\n\n{body}\n",
        encoding="utf-8",
    )
    return path


def test_our_offer_and_package_read_a_price_per_deliverable_as_the_fee(tmp_path: Path) -> None:
    path = _eml(tmp_path, "Thanks! I charge $500 per post.")
    alone = json.loads(run_cli("read-reply", str(path)).stdout)
    assert alone["proposed_rate"] == "500"  # nothing to total it over
    result = run_cli(
        "read-reply", str(path), "--our-offer", "1000", "--package", "3 Instagram posts"
    )
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout)["proposed_rate"] == "1500"
    stories = run_cli("read-reply", str(_eml(tmp_path, "My rate is $300 per story.")),
                      "--our-offer", "1000", "--package", "1 Reel, 3 Stories")  # fmt: skip
    assert json.loads(stories.stdout)["intent"] == "unclear"


def test_an_offer_that_is_not_an_amount_exits_2(tmp_path: Path) -> None:
    result = run_cli("read-reply", str(_eml(tmp_path, "ok")), "--our-offer", "lots")
    assert result.exit_code == EXIT_INVALID
    assert "--our-offer 'lots' is not an amount" in result.stderr
