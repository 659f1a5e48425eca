"""WebhookSlack and BotSlack against a loopback server that answers like Slack. Retries follow
the product policy of integrations/resilience.py; its sleeps are recorded, not slept."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.slack.blocks import SlackChannel
from negotiation_pipeline.integrations.slack.client import (
    BotSlack,
    SlackError,
    SlackRefused,
    SlackUnavailable,
    WebhookSlack,
)
from negotiation_pipeline.integrations.slack.messages import (
    agreement_alert,
    api_error,
    escalation_alert,
)
from negotiation_pipeline.sandbox.slack_log import LogSlack
from tests.fakes.slack_server import WEBHOOK_PATH, FakeReply, SlackFake, slack_fake

__all__ = ["slack_fake"]

TOKEN = "xoxb-test-token"
CHANNELS = {
    SlackChannel.AGREEMENTS: "C_AGREEMENTS",
    SlackChannel.ESCALATIONS: "C_ESCALATIONS",
    SlackChannel.ERRORS: "C_ERRORS",
}
DEAL = agreement_alert(
    influencer_name="Sam Creator",
    influencer_email="sam@creators.test",
    client_name="Acme",
    agreed_rate=Decimal("1500"),
    cpm_achieved=Decimal("18.75"),
    deliverables=["1 Instagram reel"],
)
ESCALATION = escalation_alert(
    influencer_name="Sam Creator",
    influencer_email="sam@creators.test",
    client_name="Acme",
    reason="ask above max cost without approval",
    their_rate=Decimal("5000"),
    our_rate=Decimal("1500"),
)


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleep(monkeypatch: pytest.MonkeyPatch) -> RecordingSleep:
    recorded = RecordingSleep()
    monkeypatch.setattr(resilience, "sleep", recorded)
    return recorded


def _webhook(fake: SlackFake) -> WebhookSlack:
    return WebhookSlack(fake.webhook_url)


def _bot(fake: SlackFake, token: str = TOKEN) -> BotSlack:
    return BotSlack(token, CHANNELS, api_base=fake.api_base)


def _is_backoff(waited: list[float], *bases: float) -> bool:
    """Exponential backoff with up to 1 s of jitter per wait (the product policy)."""
    return len(waited) == len(bases) and all(
        base <= wait <= base + 1 for wait, base in zip(waited, bases, strict=True)
    )


def test_webhook_success(slack_fake: SlackFake, sleep: RecordingSleep) -> None:
    _webhook(slack_fake).post(DEAL)
    assert len(slack_fake.requests) == 1
    sent = slack_fake.requests[0]
    assert sent.path == WEBHOOK_PATH
    assert sent.json["text"].startswith("Deal agreed: Sam Creator")
    assert sent.json["blocks"][0]["type"] == "header"
    assert sleep.calls == []


def test_webhook_429_honours_retry_after_then_succeeds(
    slack_fake: SlackFake, sleep: RecordingSleep
) -> None:
    slack_fake.script("webhook", FakeReply(429, "rate_limited", {"Retry-After": "7"}))
    _webhook(slack_fake).post(DEAL)
    assert sleep.calls == [7.0]
    assert len(slack_fake.requests) == 2


def test_retry_after_is_capped(slack_fake: SlackFake, sleep: RecordingSleep) -> None:
    slack_fake.script("webhook", FakeReply(429, "", {"Retry-After": "3600"}))
    _webhook(slack_fake).post(DEAL)
    assert sleep.calls == [resilience.RATE_LIMIT_MAX_WAIT_S]


def test_webhook_500_is_retried_with_backoff(slack_fake: SlackFake, sleep: RecordingSleep) -> None:
    slack_fake.script("webhook", FakeReply(500, "rollup_error"), FakeReply(503, "unavailable"))
    _webhook(slack_fake).post(DEAL)
    assert _is_backoff(sleep.calls, 1.0, 2.0)
    assert len(slack_fake.requests) == 3


def test_webhook_400_is_a_refusal_not_retried(slack_fake: SlackFake, sleep: RecordingSleep) -> None:
    slack_fake.script("webhook", FakeReply(400, "invalid_payload"))
    with pytest.raises(SlackRefused, match="HTTP 400 'invalid_payload'") as caught:
        _webhook(slack_fake).post(DEAL)
    assert len(slack_fake.requests) == 1 and sleep.calls == []
    assert "XXXXXXXX" not in str(caught.value)  # the webhook URL is a secret too


def test_webhook_404_means_slack_is_unavailable_not_the_message(
    slack_fake: SlackFake, sleep: RecordingSleep
) -> None:
    slack_fake.script("webhook", FakeReply(404, "no_service"))
    with pytest.raises(SlackUnavailable, match="HTTP 404 'no_service'"):
        _webhook(slack_fake).post(DEAL)
    assert len(slack_fake.requests) == 1 and sleep.calls == []


def test_webhook_gives_up_after_the_policy_attempts(
    slack_fake: SlackFake, sleep: RecordingSleep
) -> None:
    slack_fake.script("webhook", *[FakeReply(500, "rollup_error")] * 3)
    with pytest.raises(SlackUnavailable, match="failed: HTTP 500 'rollup_error'"):
        _webhook(slack_fake).post(DEAL)
    assert len(slack_fake.requests) == 3 and _is_backoff(sleep.calls, 1.0, 2.0)


def test_webhook_transport_error_is_retried_then_clear(sleep: RecordingSleep) -> None:
    webhook = WebhookSlack("http://127.0.0.1:9/services/T/B/secret-part", attempts=2)
    with pytest.raises(SlackUnavailable, match="transport error") as caught:
        webhook.post(DEAL)
    assert "secret-part" not in str(caught.value)
    assert _is_backoff(sleep.calls, 1.0)


def test_bot_posts_to_the_channel_for_the_message_kind(slack_fake: SlackFake) -> None:
    bot = _bot(slack_fake)
    bot.post(DEAL)
    bot.post(ESCALATION)
    bot.post(api_error(api_name="ClickUp", attempts=3, error="HTTP 503"))
    assert [r.json["channel"] for r in slack_fake.requests] == [
        "C_AGREEMENTS",
        "C_ESCALATIONS",
        "C_ERRORS",
    ]
    first = slack_fake.requests[0]
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.headers["content-type"].startswith("application/json")
    assert bot.last_ts == "1795400000.000003"


def test_bot_ok_false_is_raised_without_retry_or_token(
    slack_fake: SlackFake, sleep: RecordingSleep
) -> None:
    slack_fake.script(
        "/chat.postMessage", FakeReply(200, {"ok": False, "error": "channel_not_found"})
    )
    with pytest.raises(SlackUnavailable, match="channel_not_found") as caught:
        _bot(slack_fake).post(DEAL)
    assert TOKEN not in str(caught.value)
    assert len(slack_fake.requests) == 1 and sleep.calls == []


def test_bot_payload_errors_are_refusals(slack_fake: SlackFake, sleep: RecordingSleep) -> None:
    slack_fake.script("/chat.postMessage", FakeReply(200, {"ok": False, "error": "invalid_blocks"}))
    with pytest.raises(SlackRefused, match="invalid_blocks"):
        _bot(slack_fake).post(DEAL)
    assert len(slack_fake.requests) == 1 and sleep.calls == []


def test_bot_wrong_token_is_invalid_auth(slack_fake: SlackFake) -> None:
    with pytest.raises(SlackUnavailable, match="invalid_auth") as caught:
        _bot(slack_fake, token="xoxb-wrong-secret").post(DEAL)
    assert "xoxb-wrong-secret" not in str(caught.value)


def test_bot_429_then_success(slack_fake: SlackFake, sleep: RecordingSleep) -> None:
    slack_fake.script(
        "/chat.postMessage",
        FakeReply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "2"}),
    )
    _bot(slack_fake).post(ESCALATION)
    assert sleep.calls == [2.0] and len(slack_fake.requests) == 2


def test_bot_500_retried_and_404_not(slack_fake: SlackFake, sleep: RecordingSleep) -> None:
    slack_fake.script("/chat.postMessage", FakeReply(502, "bad gateway"))
    bot = _bot(slack_fake)
    bot.post(DEAL)
    assert _is_backoff(sleep.calls, 1.0) and len(slack_fake.requests) == 2
    slack_fake.script("/chat.postMessage", FakeReply(404, "not_found"))
    with pytest.raises(SlackError, match="HTTP 404"):
        bot.post(DEAL)
    assert len(slack_fake.requests) == 3


def test_bot_requires_every_channel() -> None:
    with pytest.raises(SlackError, match="errors"):
        BotSlack(TOKEN, {"agreements": "C1", "escalations": "C2"})


def test_log_slack_writes_jsonl_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "slack" / "messages.jsonl"
    sandbox = LogSlack(path, logging.getLogger("test.slack"))
    with caplog.at_level(logging.INFO, logger="test.slack"):
        sandbox.post(DEAL)
        sandbox.post(ESCALATION)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["channel"] for line in lines] == ["agreements", "escalations"]
    assert lines[0]["blocks"] == list(DEAL.blocks)
    assert sandbox.read_all() == lines
    assert "Deal agreed: Sam Creator" in caplog.text
