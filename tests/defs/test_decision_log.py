"""The run-log line of one message: outside text flattened and bounded, money with currency."""

from __future__ import annotations

from decimal import Decimal

from negotiation_pipeline.defs.negotiations.decision_log import money_text, reply_log_line
from negotiation_pipeline.workflow.events import ReplyDecision


def test_a_huge_or_multiline_subject_and_name_stay_one_bounded_line() -> None:
    decision = ReplyDecision(
        message_id="<m@x>",
        disposition="skipped",
        sender="a@x.test\r\nINFO forged",
        subject="Re: " + "x" * 100_000 + "\nsecond line",
        thread_id="t",
        campaign_id="c1",
        client_name="Acme\x1b[31m red",
        influencer_name="Jane\u2028Doe",
        reason="negotiation is paused " * 1000,
    )
    line = reply_log_line(decision)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert len(line) < 1_000
    assert "more characters]" in line
    assert "(thread of Jane Doe)" in line and "Acme [31m red (c1)" in line


def test_amounts_keep_their_currency() -> None:
    assert money_text(Decimal("1500"), "EUR") == "1,500.00 EUR"
    assert money_text(Decimal("1500"), "USD") == "$1,500.00"
    assert money_text(Decimal("1500"), None) == "$1,500.00"
    assert money_text(None, "EUR") == ""
