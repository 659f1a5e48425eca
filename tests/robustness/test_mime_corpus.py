"""A real public MIME corpus through the reply path: CPython's email test data.

The Debian package `libpython3.11-testsuite` ships the messages the standard library's own email
tests use (multipart, digests, bounces, broken boundaries, odd charsets, missing headers) plus
image and sound files, under /usr/lib/python3.11/test/test_email/data/. `.ci/run` installs it.

Claims:
- Every file goes through `mime.parse_message` and then `read_reply` on its text body without
  crashing: a ParsedMessage and a well-formed ReplyReading, or `MalformedMessageError` (the
  clear error type) and nothing else. Truncated copies of every file behave the same.
- The corpus is really exercised: most `msg_*.txt` files parse, and the non-mail files are all
  refused with the clear error.
- The `negotiation-pipeline read-reply` CLI prints JSON for a readable message and exits 2 with
  "is not a readable email" for an unreadable one (in-process for a sample; once through the
  installed console script).
- Regressions: a bounce quoting a Message-ID "<…$56104586@oxy.edu>" and a text citing
  "RFC 2046, $5.1.5" were read as money offers ($56,104,586 and $5.10).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.cli import EXIT_INVALID, EXIT_OK, main
from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.domain.reading.reader import ReplyReading
from negotiation_pipeline.integrations.mail.mime import (
    MalformedMessageError,
    ParsedMessage,
    parse_message,
)
from tests.support.reading import read_reply

PACKAGE = "libpython3.11-testsuite"
CORPUS = Path("/usr/lib/python3.11/test/test_email/data")
FILES = sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []
MESSAGES = [path for path in FILES if path.name.startswith("msg_")]
NOT_MAIL = [path for path in FILES if not path.name.startswith("msg_")]

pytestmark = pytest.mark.skipif(
    not MESSAGES,
    reason=f"{CORPUS} missing: install the Debian package {PACKAGE} (apt-get install {PACKAGE})",
)


def read_through_the_reply_path(raw: bytes) -> tuple[ParsedMessage, ReplyReading] | None:
    """parse_message then read_reply; None when the bytes are refused with the clear error."""
    try:
        parsed = parse_message(raw)
    except MalformedMessageError as exc:
        assert str(exc)
        return None
    assert isinstance(parsed, ParsedMessage)
    assert isinstance(parsed.text_body, str)
    assert parsed.from_addr == parsed.from_addr.lower()
    assert parsed.date is None or parsed.date.tzinfo is not None
    reading = read_reply(parsed.text_body)
    assert isinstance(reading.intent, Intent)
    assert 0.0 <= reading.confidence <= 1.0
    assert reading.proposed_rate is None or type(reading.proposed_rate) is Decimal
    assert (reading.proposed_rate is None) == (reading.currency is None)
    return parsed, reading


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_every_corpus_file_is_read_or_refused_clearly(path: Path) -> None:
    raw = path.read_bytes()
    read_through_the_reply_path(raw)
    for cut in (1, len(raw) // 7, len(raw) // 3, len(raw) // 2, len(raw) - 1):
        read_through_the_reply_path(raw[:cut])


def test_the_corpus_is_really_exercised() -> None:
    parsed = [path.name for path in MESSAGES if read_through_the_reply_path(path.read_bytes())]
    assert len(MESSAGES) >= 40
    assert len(parsed) >= 35, f"only {len(parsed)} of {len(MESSAGES)} messages parsed"
    assert NOT_MAIL, "the corpus also ships images and sounds"
    for path in NOT_MAIL:
        with pytest.raises(MalformedMessageError, match="no message headers"):
            parse_message(path.read_bytes())


@pytest.mark.parametrize(
    ("name", "must_not_appear"),
    [("msg_16.txt", Decimal(56104586)), ("msg_34.txt", Decimal("5.1"))],
    ids=["bounce-message-id", "rfc-section-number"],
)
def test_regression_identifiers_are_not_money(name: str, must_not_appear: Decimal) -> None:
    result = read_through_the_reply_path((CORPUS / name).read_bytes())
    assert result is not None
    _, reading = result
    assert reading.proposed_rate is None, reading


SAMPLE = ["msg_02.txt", "msg_16.txt", "msg_43.txt", "msg_46.txt", "msg_18.txt", "python.gif"]


@pytest.mark.parametrize("name", SAMPLE)
def test_read_reply_cli_on_a_sample(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / name
    readable = read_through_the_reply_path(path.read_bytes()) is not None
    code = main(["read-reply", str(path)])
    out, err = capsys.readouterr()
    if readable:
        assert code == EXIT_OK, err
        result = json.loads(out)
        assert result["intent"] in {intent.value for intent in Intent}
        assert result["proposed_rate"] is None or isinstance(result["proposed_rate"], str)
    else:
        assert code == EXIT_INVALID
        assert out == ""
        assert f"{path} is not a readable email" in err


def test_installed_console_script_reads_a_corpus_message() -> None:
    script = shutil.which("negotiation-pipeline")
    if script is None:
        pytest.skip("the negotiation-pipeline console script is not on PATH (run via uv run)")
    done = subprocess.run(
        [script, "read-reply", str(CORPUS / "msg_46.txt")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["intent"] in {intent.value for intent in Intent}
    refused = subprocess.run(
        [script, "read-reply", str(CORPUS / "python.png")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == EXIT_INVALID
    assert "is not a readable email" in refused.stderr
