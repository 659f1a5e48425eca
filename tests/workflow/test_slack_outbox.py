"""Slack alerts through the notification outbox, over a real SQLite file and the loopback Slack
fake: queued in the transaction of the change they report, kept while Slack is down, delivered
once each when it is back, and never allowed to hold a run past its Slack time budget."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.integrations.resilience import Deadline
from negotiation_pipeline.integrations.slack import BotSlack, SlackChannel, WebhookSlack
from negotiation_pipeline.integrations.slack.messages import stale_notice
from negotiation_pipeline.store import NotificationStatus, SQLiteStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import advance_negotiations
from negotiation_pipeline.workflow.slack_outbox import deliver_notifications, queue_message
from tests.fakes.slack_server import FakeReply, SlackFake, slack_fake
from tests.store.conftest import StoreLocation
from tests.workflow.faults import fail_inserts
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    flex_row,
    reply_to,
    sent_by_recipient,
    stored_campaign,
)

__all__ = ["slack_fake"]

CHANNELS = {
    SlackChannel.AGREEMENTS: "C_AGREEMENTS",
    SlackChannel.ESCALATIONS: "C_ESCALATIONS",
    SlackChannel.ERRORS: "C_ERRORS",
}
SLACK_DOWN = "http://127.0.0.1:9/services/T0/B0/down"  # discard port: connection refused
JANE = "jane@gmail.com"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff waits are recorded, not slept (the budget logic still sees every wait)."""
    recorded: list[float] = []
    monkeypatch.setattr(resilience, "sleep", recorded.append)
    return recorded


def _queue(store: SQLiteStore, count: int) -> list[str]:
    texts = []
    with store.transaction() as uow:
        for n in range(count):
            message = stale_notice(
                influencer_name=f"Creator {n}",
                client_name="Acme",
                days_without_reply=4,
                follow_up_sent=True,
            )
            queue_message(uow, message)
            texts.append(message.text)
    return texts


def _received(fake: SlackFake) -> list[str]:
    return [request.json["text"] for request in fake.requests]


def test_slack_down_keeps_every_alert_then_delivers_each_once_when_back(
    store: SQLiteStore, slack_fake: SlackFake, sleeps: list[float]
) -> None:
    texts = _queue(store, 3)

    down = deliver_notifications(store, WebhookSlack(SLACK_DOWN), Deadline(10))

    assert (down.sent, down.pending) == (0, 3)
    assert "transport error" in down.errors[0] and "down" not in down.errors[0]  # URL scrubbed
    first, *others = store.notifications.with_status(NotificationStatus.PENDING)
    assert first.attempts == 1 and [n.attempts for n in others] == [0, 0]  # stopped after one
    assert len(sleeps) == 2  # the policy's 3 attempts on the first message, then no more

    back = deliver_notifications(store, WebhookSlack(slack_fake.webhook_url), Deadline(10))
    again = deliver_notifications(store, WebhookSlack(slack_fake.webhook_url), Deadline(10))

    assert (back.sent, back.pending, again.sent) == (3, 0, 0)
    assert _received(slack_fake) == texts  # each exactly once, oldest first
    assert [n.text for n in store.notifications.with_status(NotificationStatus.SENT)] == texts


def test_chat_post_message_failing_with_5xx_is_retried_by_the_next_delivery(
    store: SQLiteStore, slack_fake: SlackFake, sleeps: list[float]
) -> None:
    texts = _queue(store, 2)
    slack_fake.script("/chat.postMessage", *[FakeReply(503, "service_unavailable")] * 3)
    bot = BotSlack(slack_fake.token, CHANNELS, api_base=slack_fake.api_base)

    down = deliver_notifications(store, bot, Deadline(10))
    back = deliver_notifications(store, bot, Deadline(10))

    assert (down.sent, down.pending, back.sent, back.pending) == (0, 2, 2, 0)
    assert len(slack_fake.requests) == 3 + 2  # three refused attempts, then one post each
    assert Counter(_received(slack_fake)[3:]) == Counter(texts)
    assert all(r.json["channel"] == "C_ESCALATIONS" for r in slack_fake.requests)


def test_a_hanging_slack_cannot_hold_delivery_past_the_budget(
    store: SQLiteStore, slack_fake: SlackFake
) -> None:
    _queue(store, 3)
    slack_fake.script("webhook", *[FakeReply(200, "ok", delay_seconds=2)] * 3)
    webhook = WebhookSlack(slack_fake.webhook_url, timeout_seconds=0.4)
    budget = Deadline(1.0)

    delivery = deliver_notifications(store, webhook, budget)

    # One timed-out request; the policy's next backoff (>= 1 s) does not fit in what is left,
    # so the message is released and the others are not even tried.
    assert (delivery.sent, delivery.pending) == (0, 3)
    assert len(slack_fake.requests) == 1
    assert [n.attempts for n in store.notifications.with_status("pending")] == [1, 0, 0]
    assert "ReadTimeout" in delivery.errors[0]
    spent = Deadline(0.0)
    assert deliver_notifications(store, webhook, spent).errors == (
        "the Slack time budget of this run is spent",
    )
    assert len(slack_fake.requests) == 1  # a spent budget sends nothing


def test_retry_after_is_honoured_within_the_budget_and_not_beyond(
    store: SQLiteStore, slack_fake: SlackFake, sleeps: list[float]
) -> None:
    _queue(store, 1)
    slack_fake.script("webhook", FakeReply(429, "", {"Retry-After": "3"}))
    sent = deliver_notifications(store, WebhookSlack(slack_fake.webhook_url), Deadline(10))
    assert (sent.sent, sleeps) == (1, [3.0])

    _queue(store, 1)
    slack_fake.script("webhook", FakeReply(429, "", {"Retry-After": "30"}))
    held = deliver_notifications(store, WebhookSlack(slack_fake.webhook_url), Deadline(10))
    assert (held.sent, held.pending, sleeps) == (0, 1, [3.0])  # 30 s would pass the budget
    assert "HTTP 429" in held.errors[0]


def test_a_message_slack_refuses_is_set_aside_and_the_others_still_go(
    store: SQLiteStore, slack_fake: SlackFake
) -> None:
    texts = _queue(store, 3)
    slack_fake.script("webhook", FakeReply(200, "ok"), FakeReply(400, "invalid_blocks"))

    webhook = WebhookSlack(slack_fake.webhook_url)
    delivery = deliver_notifications(store, webhook, Deadline(10))

    assert (delivery.sent, delivery.refused, delivery.pending) == (2, 1, 0)
    [refused] = store.notifications.with_status(NotificationStatus.REFUSED)
    assert refused.text == texts[1] and "invalid_blocks" in (refused.last_error or "")
    assert deliver_notifications(store, webhook, Deadline(10)).sent == 0
    assert len(slack_fake.requests) == 3  # the refused one is never posted again


def test_three_deliverers_at_once_post_every_message_exactly_once(
    store: SQLiteStore, slack_fake: SlackFake, store_location: StoreLocation
) -> None:
    texts = _queue(store, 30)
    results: list[int] = []

    def deliver() -> None:
        own_store = store_location.open()
        delivery = deliver_notifications(
            own_store, WebhookSlack(slack_fake.webhook_url), Deadline(30)
        )
        results.append(delivery.sent)
        own_store.close()

    workers = [threading.Thread(target=deliver) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert sum(results) == 30
    assert Counter(_received(slack_fake)) == Counter(texts)  # none twice, none missing


def test_a_message_under_a_live_claim_is_left_to_its_deliverer(
    store: SQLiteStore, slack_fake: SlackFake
) -> None:
    _queue(store, 1)
    [pending] = store.notifications.with_status("pending")
    now = datetime.now(UTC)
    assert store.notifications.claim(pending.key, now, now + timedelta(hours=1))

    delivery = deliver_notifications(store, WebhookSlack(slack_fake.webhook_url), Deadline(10))

    assert (delivery.sent, delivery.pending) == (0, 1) and slack_fake.requests == []


# --- alerts commit with the change they report -------------------------------------------------
def _open_jane(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    stored_campaign(store)
    open_campaign_negotiations(
        store, "cmp-1", engine_config(), rows=[flex_row()], sender=AGENT, now=NOW
    )
    deliver_pending(store, mailbox)


def _advance(store: SQLiteStore, mailbox: MaildirMailbox) -> int:
    result = advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=[AGENT.address],
        now=NOW,
    )
    return result.processed


def _pending_texts(store: SQLiteStore) -> list[str]:
    return [n.text for n in store.notifications.with_status("pending")]


def test_an_escalation_alert_is_queued_in_the_transaction_of_the_reply(
    store: SQLiteStore, mailbox: MaildirMailbox, store_location: StoreLocation
) -> None:
    _open_jane(store, mailbox)
    [started] = _pending_texts(store)
    assert started.startswith("Campaign started:")
    opening = sent_by_recipient(mailbox)[JANE][-1]
    reply = reply_to(opening, "My rate is $9,000 for this, firm.", message_id="<ask@gmail.com>")
    mailbox.append_to_inbox(reply)
    failing = fail_inserts(store_location, "notification_outbox")  # a real database failure

    assert _advance(store, mailbox) == 0  # the alert could not be written: nothing changed
    stored = store.states.load(thread_id_for("cmp-1", JANE))
    assert stored is not None and stored.state.value == "awaiting_reply"
    assert store.inbound.get("<ask@gmail.com>") is None  # the reply is not marked handled
    assert _pending_texts(store) == [started]

    failing.stop()
    assert _advance(store, mailbox) == 1  # the next run handles the reply and queues its alert
    stored = store.states.load(thread_id_for("cmp-1", JANE))
    assert stored is not None and stored.state.value == "escalated"
    assert [t.split(" (")[0] for t in _pending_texts(store)] == [
        "Campaign started: Glow Labs",
        "Escalation: Jane Doe",
    ]
