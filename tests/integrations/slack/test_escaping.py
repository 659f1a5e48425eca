"""Outside data can never mention anyone or link anywhere in what Slack receives: the exact JSON
the loopback Slack fake got over HTTP, for the incoming webhook and for chat.postMessage."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from negotiation_pipeline.integrations.slack.blocks import (
    SlackChannel,
    SlackMessage,
    link,
    truncate,
)
from negotiation_pipeline.integrations.slack.client import BotSlack, WebhookSlack
from negotiation_pipeline.integrations.slack.messages import (
    agreement_alert,
    api_error,
    campaign_started,
    escalation_alert,
    run_failure,
    stale_notice,
)
from tests.fakes.slack_server import SlackFake, slack_fake

__all__ = ["slack_fake"]

CHANNELS = {
    SlackChannel.AGREEMENTS: "C_AGREEMENTS",
    SlackChannel.ESCALATIONS: "C_ESCALATIONS",
    SlackChannel.ERRORS: "C_ERRORS",
}
NAME = "<!channel> Jane <@U123> & <https://evil.test/pay|Approve>"
CLIENT = "Acme <!here> & Co"
NAME_ESCAPED = "&lt;!channel&gt; Jane &lt;@U123&gt; &amp; &lt;https://evil.test/pay|Approve&gt;"
CLIENT_ESCAPED = "Acme &lt;!here&gt; &amp; Co"

STALE_JSON = {
    "text": f"Stale: {NAME_ESCAPED} ({CLIENT_ESCAPED}), 5 days without reply",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": f"Stale: {NAME_ESCAPED}"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"No reply from *{NAME_ESCAPED}* ({CLIENT_ESCAPED}) for 5 days. "
                "A follow-up was sent. The negotiation is now stale.",
            },
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Thread `t-&lt;!everyone&gt;`"}],
        },
    ],
    "unfurl_links": False,
    "unfurl_media": False,
}


def _stale() -> SlackMessage:
    return stale_notice(
        influencer_name=NAME,
        client_name=CLIENT,
        days_without_reply=5,
        follow_up_sent=True,
        thread_id="t-<!everyone>",
    )


def _hostile_messages() -> list[SlackMessage]:
    evidence = "Ignore the above <!channel> <mailto:x@evil.test|the CFO>"
    return [
        _stale(),
        agreement_alert(
            influencer_name=NAME,
            influencer_email="<mailto:boss@evil.test|boss@agency.test>",
            client_name=CLIENT,
            agreed_rate=Decimal("1200"),
            cpm_achieved=Decimal("24"),
            deliverables=["1 Reel <!subteam^S123>"],
            platform="<#C999>",
        ),
        escalation_alert(
            influencer_name=NAME,
            influencer_email="jane@x.test",
            client_name=CLIENT,
            reason="hostile <@U1>",
            their_rate=None,
            our_rate=None,
            draft_email=evidence,
            evidence=evidence,
        ),
        campaign_started(
            client_name=CLIENT,
            campaign_id=NAME,
            platform="tiktok",
            budget=None,
            listed=2,
            found=1,
            opened=1,
            skipped=["<!here>: not found in the roster"],
            task_url="https://app.clickup.test/t/9hx|Pay now>",
        ),
        run_failure(job_name="job", run_id="r-1", error=f"roster {NAME} failed"),
        api_error(api_name="ClickUp", attempts=3, error=f"HTTP 400 task {NAME}"),
    ]


def _markup(received: object) -> list[str]:
    """Every `<...>` Slack would parse (mention, channel, link) anywhere in the payload."""
    return re.findall(r"<[^<>]*>", json.dumps(received, ensure_ascii=False))


def test_webhook_receives_exactly_the_escaped_stale_notice(slack_fake: SlackFake) -> None:
    WebhookSlack(slack_fake.webhook_url).post(_stale())
    [request] = slack_fake.requests
    assert request.json == STALE_JSON


def test_chat_post_message_receives_exactly_the_escaped_stale_notice(
    slack_fake: SlackFake,
) -> None:
    bot = BotSlack(slack_fake.token, CHANNELS, api_base=slack_fake.api_base)
    bot.post(_stale())
    [request] = slack_fake.requests
    assert request.json == {"channel": "C_ESCALATIONS", **STALE_JSON}


@pytest.mark.parametrize("transport", ["webhook", "bot"])
def test_no_data_in_any_message_reaches_slack_as_markup(
    slack_fake: SlackFake, transport: str
) -> None:
    poster = (
        WebhookSlack(slack_fake.webhook_url)
        if transport == "webhook"
        else BotSlack(slack_fake.token, CHANNELS, api_base=slack_fake.api_base)
    )
    for message in _hostile_messages():
        poster.post(message)
    received = [request.json for request in slack_fake.requests]
    assert len(received) == 6
    # The one link left is ours, to the ClickUp task, with the data's "|" and ">" encoded.
    assert _markup(received) == ["<https://app.clickup.test/t/9hx%7CPay%20now%3E|ClickUp task>"]
    texts = [payload["text"] for payload in received]
    assert texts[1] == f"Deal agreed: {NAME_ESCAPED} ({CLIENT_ESCAPED}) at $1,200.00"
    assert texts[4] == f"Run failed: job (r-1): roster {NAME_ESCAPED} failed"
    assert texts[5] == f"API error: ClickUp failed after 3 attempts: HTTP 400 task {NAME_ESCAPED}"


def test_our_links_take_only_web_urls_and_encode_what_would_break_them() -> None:
    assert link("https://dagster.test/runs/r1?a=1&b=2", "Open <run>") == (
        "<https://dagster.test/runs/r1?a=1&amp;b=2|Open &lt;run&gt;>"
    )
    assert link("javascript:alert(1)", "Open") == "Open"
    assert link("slack://channel?id=C1", "Open") == "Open"
    assert link("https://", "Open") == "Open"


def test_truncation_never_splits_an_escaped_entity() -> None:
    cut = truncate("ab&amp;cd", 5)
    assert cut == "ab…"
    assert truncate("abc&lt;", 7) == "abc&lt;"
