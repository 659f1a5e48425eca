"""Held replies and takeovers in Slack: the alert's facts, data that can never mention, link or
inject a shell command, posted over loopback HTTP to the Slack fake with the real client."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

import pytest

from negotiation_pipeline.integrations.resilience import Deadline
from negotiation_pipeline.integrations.slack import SlackChannel, WebhookSlack
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.workflow.events import HumanTookOver, PipelineEvent, ReplyHeld
from negotiation_pipeline.workflow.notify import (
    clickup_comments_for,
    details_from_store,
    queue_alerts,
    slack_messages_for,
)
from negotiation_pipeline.workflow.slack_outbox import deliver_notifications
from tests.fakes.slack_server import SlackFake, running_slack_fake
from tests.workflow.opened_threads import open_threads
from tests.workflow.support import flex_row

EVIL_SENDER = "a`touch${IFS}pwned`$(id)@evil.test"


def _held(thread_id: str, **changes: object) -> ReplyHeld:
    fields: dict[str, object] = {
        "thread_id": thread_id,
        "campaign_id": "cmp-1",
        "influencer_name": "Jane Doe",
        "sender": "casey@brightline.com",
        "reason": "casey@brightline.com is not one of this negotiation's senders",
        "subject": "Re: Collab",
        "message_id": "<c1@brightline.com>",
        "held_count": 1,
    }
    return ReplyHeld(**(fields | changes))  # type: ignore[arg-type]


def _mrkdwn_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for value in node.values() for t in _mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn_texts(item)]
    return []


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    with running_slack_fake() as fake:
        yield fake


def test_a_held_reply_alert_names_the_sender_the_reason_and_the_release_command(
    store: SQLiteStore,
) -> None:
    [jane] = open_threads(store, [flex_row()])
    event = _held(jane)
    [message] = slack_messages_for([event], details_from_store(store, [event]))

    assert message.channel is SlackChannel.ESCALATIONS
    assert message.text.startswith("Reply held: Jane Doe (")
    body = json.dumps(message.blocks)
    assert "casey@brightline.com" in body and "is not one of this negotiation" in body
    assert (
        f"negotiation-pipeline control allow-sender {shlex.quote(jane)} casey@brightline.com"
        in (body)
    )
    assert clickup_comments_for([event]) == []  # nothing about it on the client's task


def test_hostile_sender_text_cannot_mention_link_or_run_commands() -> None:
    event = _held(
        "cmp-1:jane",
        sender=EVIL_SENDER,
        influencer_name="<!channel> Jane",
        subject="<https://evil.test|click> <@U123>",
        reason="x <!here> & y",
    )
    [message] = slack_messages_for([event])
    # Slack reads mentions and links in the fallback text and in mrkdwn (plain_text headers
    # are shown as written).
    markup = [message.text, *_mrkdwn_texts(message.payload()["blocks"])]
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil.test"):
        assert not any(raw in text for text in markup)
    command_text = next(
        block["text"]["text"]
        for block in message.blocks
        if block.get("text", {}).get("text", "").startswith("*Next step*")
    )
    command = command_text.split("```\n", 1)[1].rsplit("\n```", 1)[0]
    # The sender arrives as one quoted shell word: pasting it runs nothing.
    assert shlex.split(command)[-1] == EVIL_SENDER
    assert shlex.quote(EVIL_SENDER) in command


def test_a_forged_own_address_alert_suggests_takeover_not_allow() -> None:
    event = _held("cmp-1:jane", sender="partnerships@agency.test", from_our_address=True)
    [message] = slack_messages_for([event])
    body = json.dumps(message.blocks)
    assert "negotiation-pipeline control takeover cmp-1:jane" in body
    assert "allow-sender" not in body


def test_held_and_takeover_alerts_are_posted_to_slack(store: SQLiteStore, slack: SlackFake) -> None:
    events: list[PipelineEvent] = [
        _held("cmp-1:jane"),
        HumanTookOver("cmp-1:sam", "cmp-1", "Sam Lee", "partnerships@agency.test", "<h@a>"),
    ]
    with store.transaction() as uow:
        assert queue_alerts(uow, events) == 2
    notifier = WebhookSlack(slack.webhook_url)
    delivery = deliver_notifications(store, notifier, Deadline(10))
    assert (delivery.sent, delivery.pending, delivery.errors) == (2, 0, ())
    assert clickup_comments_for(events) == []  # nothing about either on the client's task
    texts = [request.json["text"] for request in slack.requests]
    assert texts == [
        "Reply held: Jane Doe (n/a), from casey@brightline.com: not processed",
        "Taken over by partnerships@agency.test: Sam Lee (n/a)",
    ]
