"""Block Kit builders: content, Decimal money formatting, escaping and Slack's limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from negotiation_pipeline.integrations.slack.blocks import (
    BLOCKS_MAX,
    FIELDS_MAX,
    HEADER_MAX,
    SECTION_TEXT_MAX,
    SlackChannel,
    SlackMessage,
)
from negotiation_pipeline.integrations.slack.messages import (
    agreement_alert,
    api_error,
    campaign_started,
    escalation_alert,
    run_failure,
    stale_notice,
)


def _texts(message: SlackMessage) -> str:
    return repr(message.blocks)


def _assert_within_limits(message: SlackMessage) -> None:
    assert message.text and len(message.blocks) <= BLOCKS_MAX
    for block in message.blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= HEADER_MAX
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert len(block["text"]["text"]) <= SECTION_TEXT_MAX
            fields: list[dict[str, Any]] = block.get("fields", [])
            assert len(fields) <= FIELDS_MAX
            assert all(len(item["text"]) <= 2000 for item in fields)
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10


def test_agreement_alert_content() -> None:
    message = agreement_alert(
        influencer_name="Sam Creator",
        influencer_email="sam@creators.test",
        client_name="Acme",
        agreed_rate=Decimal("1500"),
        cpm_achieved=Decimal("18.5"),
        deliverables=["1 Instagram reel", "2 stories"],
        platform="Instagram",
        thread_id="t-1",
    )
    _assert_within_limits(message)
    assert message.channel is SlackChannel.AGREEMENTS
    assert message.text == "Deal agreed: Sam Creator (Acme) at $1,500.00"
    text = _texts(message)
    for expected in ("$1,500.00", "$18.50", "1 Instagram reel", "Send the contract", "t-1"):
        assert expected in text


def test_escalation_alert_has_rates_draft_and_action() -> None:
    message = escalation_alert(
        influencer_name="Sam",
        influencer_email="sam@creators.test",
        client_name="Acme",
        reason="Legal language in reply",
        their_rate=Decimal("2200.5"),
        our_rate=None,
        draft_email="Hi Sam, <b>we</b> can do $1,900 & more",
    )
    _assert_within_limits(message)
    assert message.channel is SlackChannel.ESCALATIONS
    text = _texts(message)
    assert "$2,200.50" in text and "Our rate:*\\nn/a" in text
    assert "Forward to legal" in text
    assert "&lt;b&gt;we&lt;/b&gt; can do $1,900 &amp; more" in text  # escaped, not mrkdwn


def test_huge_inputs_are_truncated_to_limits() -> None:
    message = escalation_alert(
        influencer_name="N" * 400,
        influencer_email="x@y.test",
        client_name="C" * 5000,
        reason="r" * 5000,
        their_rate=Decimal("1"),
        our_rate=Decimal("2"),
        draft_email="d" * 10000,
        evidence="e" * 10000,
    )
    _assert_within_limits(message)
    assert message.blocks[0]["text"]["text"].endswith("…")
    failure = run_failure(job_name="negotiate", run_id="abc", error="Traceback\n" + "x" * 9000)
    _assert_within_limits(failure)
    started = campaign_started(
        client_name="Acme",
        campaign_id="9hx",
        platform="Instagram",
        budget=Decimal("5000"),
        listed=503,
        found=3,
        opened=3,
        skipped=[f"Missing {n}: not found in the roster" for n in range(500)],
        task_url="https://app.clickup.com/t/9hx",
    )
    _assert_within_limits(started)
    assert "503 influencers listed, 3 found, 500 skipped, 3 negotiations opened" in started.text
    assert "… and 480 more" in _texts(started)


def test_other_messages() -> None:
    stale = stale_notice(
        influencer_name="Sam", client_name="Acme", days_without_reply=7, follow_up_sent=True
    )
    _assert_within_limits(stale)
    assert stale.channel is SlackChannel.ESCALATIONS and "7 days" in stale.text
    error = api_error(api_name="ClickUp", attempts=3, error="HTTP 503 Service Unavailable")
    _assert_within_limits(error)
    assert error.channel is SlackChannel.ERRORS
    assert error.text == "API error: ClickUp failed after 3 attempts: HTTP 503 Service Unavailable"
    failure = run_failure(job_name="negotiate", run_id="r1", error="boom", run_url="http://x/r1")
    assert failure.channel is SlackChannel.ERRORS and "<http://x/r1|Open the run>" in _texts(
        failure
    )
