"""Events → Slack messages and ClickUp comments; the alerts queued in the notification outbox
and delivered over loopback HTTP to the Slack fake, the comments posted to the ClickUp fake
(real clients), and both to the sandbox JSONL files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.domain.negotiation.policy import Lever, LeverState
from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.clickup import ClickUpClient
from negotiation_pipeline.integrations.resilience import Deadline
from negotiation_pipeline.integrations.slack import SlackChannel, WebhookSlack
from negotiation_pipeline.sandbox.clickup_tasks import SandboxTaskSource
from negotiation_pipeline.sandbox.slack_log import LogSlack
from negotiation_pipeline.store import NotificationStatus, SQLiteStore
from negotiation_pipeline.workflow.events import (
    AgreementReached,
    Escalated,
    FinalState,
    MarkedStale,
    NegotiationsStarted,
    PipelineEvent,
)
from negotiation_pipeline.workflow.notify import (
    clickup_comments_for,
    details_from_store,
    post_comments,
    queue_alerts,
    slack_messages_for,
)
from negotiation_pipeline.workflow.slack_outbox import deliver_notifications
from tests.fakes.clickup_server import FakeClickUp, make_task
from tests.fakes.slack_server import FakeReply, SlackFake, running_slack_fake
from tests.workflow.opened_threads import open_threads, rewrite
from tests.workflow.support import flex_row


@pytest.fixture
def threads(store: SQLiteStore) -> list[str]:
    return open_threads(store, [flex_row(), flex_row("Sam Lee", "sam@gmail.com")])


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    with running_slack_fake() as fake:
        yield fake


@pytest.fixture
def clickup() -> Iterator[FakeClickUp]:
    with FakeClickUp() as fake:
        fake.put_task(make_task("cmp-1", 1_780_000_000_000))
        yield fake


class ApiErrors(list[tuple[str, int]]):
    """The error notifier handed to the ClickUp client (the Slack error alert in production):
    what it was told, as (api, attempts)."""

    def __call__(self, api: str, exc: BaseException, attempts: int) -> None:
        self.append((api, attempts))


@pytest.fixture
def api_errors() -> ApiErrors:
    return ApiErrors()


def _events(jane: str, sam: str) -> list[PipelineEvent]:
    return [
        NegotiationsStarted("cmp-1", "Glow Labs", 2, (jane, sam)),
        AgreementReached(
            jane, "cmp-1", "Jane Doe", Decimal("1200.00"), Decimal("24.00"), Decimal("30")
        ),
        FinalState(jane, "cmp-1", "Jane Doe", NegotiationState.AGREED),
        Escalated(
            sam,
            "cmp-1",
            "Sam Lee",
            "over_approval_limit",
            "ask $6,000.00 is above max cost without approval $5,000.00",
            Decimal("6000"),
            Decimal("1000.00"),
            "Hi Sam, we could do $1,100.00 ...",
        ),
        FinalState(sam, "cmp-1", "Sam Lee", NegotiationState.ESCALATED),
    ]


def _block_text(blocks: tuple[dict[str, object], ...]) -> str:
    return json.dumps(blocks)


def test_slack_messages_carry_the_alert_facts_from_events_and_store(
    store: SQLiteStore, threads: list[str]
) -> None:
    jane, sam = threads
    events = [*_events(jane, sam), MarkedStale(sam, "cmp-1", "Sam Lee", 4)]

    started, agreement, escalation, stale = slack_messages_for(
        events, details_from_store(store, events)
    )

    assert started.channel is SlackChannel.ESCALATIONS
    assert "Negotiations opened:*\\n2" in _block_text(started.blocks)
    assert started.text.count("Glow Labs") == 1
    assert "$50,000.00" in _block_text(started.blocks)  # the campaign budget from the store
    assert agreement.channel is SlackChannel.AGREEMENTS
    assert agreement.text == "Deal agreed: Jane Doe (Glow Labs) at $1,200.00"
    agreement_blocks = _block_text(agreement.blocks)
    for fact in ("jane@gmail.com", "$24.00", "1 Instagram Reel", "3 Instagram Stories", jane):
        assert fact in agreement_blocks
    assert escalation.channel is SlackChannel.ESCALATIONS
    escalation_blocks = _block_text(escalation.blocks)
    for fact in (
        "sam@gmail.com",
        "over approval limit",
        "$6,000.00",
        "$1,000.00",
        "Draft (not sent)",
    ):
        assert fact in escalation_blocks
    assert "Hi Sam, we could do $1,100.00" in escalation_blocks
    assert stale.text.startswith("Stale: Sam Lee (Glow Labs), 4 days")


def test_agreed_deliverables_follow_the_traded_down_scenario(
    store: SQLiteStore, threads: list[str]
) -> None:
    jane, _ = threads
    rewrite(store, jane, levers=LeverState(scenario=2, used=(Lever.SCENARIO_2,)))
    event = AgreementReached(jane, "cmp-1", "Jane Doe", Decimal("1500"), Decimal("30"), None)

    (message,) = slack_messages_for([event], details_from_store(store, [event]))

    blocks = _block_text(message.blocks)
    assert r"1 Instagram Reel\n\u2022 1 Instagram Story" in blocks  # JSON-escaped bullets
    assert "3 Instagram Stories" not in blocks


def test_the_agreed_package_from_the_event_wins_with_its_usage_rights(
    store: SQLiteStore, threads: list[str]
) -> None:
    jane, _ = threads
    package = ("1 Instagram Reel", "Usage rights: 30 days", "Product included")
    event = AgreementReached(
        jane, "cmp-1", "Jane Doe", Decimal("1295"), Decimal("32.38"), None, deliverables=package
    )

    (message,) = slack_messages_for([event], details_from_store(store, [event]))

    blocks = _block_text(message.blocks)
    assert r"1 Instagram Reel\n\u2022 Usage rights: 30 days\n\u2022 Product included" in blocks
    assert "*CPM achieved:*\\n$32.38" in blocks
    assert "3 Instagram Stories" not in blocks


def test_without_store_details_the_alerts_say_n_a_instead_of_guessing() -> None:
    event = AgreementReached("t-1", "cmp-1", "Jane Doe", Decimal("900"), Decimal("18"), None)
    (message,) = slack_messages_for(
        [event, FinalState("t-1", "cmp-1", "Jane Doe", NegotiationState.AGREED)]
    )
    assert "*Email:*\\nn/a" in _block_text(message.blocks)


def test_clickup_comments_on_start_and_once_per_final_state() -> None:
    events = [
        *_events("t-jane", "t-sam"),
        FinalState("t-ana", "cmp-1", "Ana Ruiz", NegotiationState.REJECTED),
        MarkedStale("t-ben", "cmp-2", "Ben Cho", 4),
        FinalState("t-ben", "cmp-2", "Ben Cho", NegotiationState.STALE),
        FinalState("t-cara", "cmp-2", "Cara Dunn", NegotiationState.STOPPED),
    ]

    assert clickup_comments_for(events) == [
        ("cmp-1", "Negotiations started with 2 influencers for Glow Labs."),
        ("cmp-1", "Jane Doe: agreed at $1,200.00, CPM $24.00 (target up to $30.00)."),
        ("cmp-1", "Sam Lee: escalated to a human (over approval limit)."),
        ("cmp-1", "Ana Ruiz: ended without a deal (rejected or polite exit)."),
        ("cmp-2", "Ben Cho: stale, no reply for 4 days after a follow-up."),
        ("cmp-2", "Cara Dunn: stopped by an operator."),
    ]


def _queue(store: SQLiteStore, events: list[PipelineEvent]) -> int:
    with store.transaction() as uow:
        return queue_alerts(uow, events)


def test_alerts_queued_then_delivered_over_http_and_comments_posted(
    store: SQLiteStore,
    threads: list[str],
    slack: SlackFake,
    clickup: FakeClickUp,
    api_errors: ApiErrors,
) -> None:
    jane, sam = threads
    webhook = WebhookSlack(slack.webhook_url)
    opening = deliver_notifications(store, webhook, Deadline(10))
    assert opening.sent == 1  # opening the threads queued its own "Campaign started" alert
    slack.requests.clear()
    events = _events(jane, sam)
    assert _queue(store, events) == 3
    assert slack.requests == []  # queued, not posted yet

    delivery = deliver_notifications(store, webhook, Deadline(10))
    with ClickUpClient(
        clickup.base_url, clickup.token, clickup.list_id, on_give_up=api_errors
    ) as client:
        comments = post_comments(events, client.post_comment)

    assert (delivery.sent, delivery.pending, delivery.errors) == (3, 0, ())
    texts = [request.json["text"] for request in slack.requests]
    assert texts == [m.text for m in slack_messages_for(events, details_from_store(store, events))]
    assert texts[1] == "Deal agreed: Jane Doe (Glow Labs) at $1,200.00"
    assert all(request.json["blocks"] for request in slack.requests)
    assert comments.ok and comments.posted == 3
    assert [c["comment_text"] for c in clickup.comments_for("cmp-1")] == [
        text for _, text in clickup_comments_for(events)
    ]
    assert all(c["notify_all"] is False for c in clickup.comments_for("cmp-1"))
    assert api_errors == []


def test_one_failing_post_never_stops_the_others(
    store: SQLiteStore,
    slack: SlackFake,
    clickup: FakeClickUp,
    api_errors: ApiErrors,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resilience, "sleep", lambda _: None)
    slack.script("webhook", FakeReply(400, "invalid_payload"))  # the first Slack post is refused
    events: list[PipelineEvent] = [
        *_events("t-jane", "t-sam"),
        FinalState(
            "t-zed", "gone-task", "Zed Q", NegotiationState.STOPPED
        ),  # a task deleted in ClickUp: 404
        FinalState("t-ana", "cmp-1", "Ana Ruiz", NegotiationState.REJECTED),
    ]
    _queue(store, events)
    delivery = deliver_notifications(store, WebhookSlack(slack.webhook_url), Deadline(10))
    with ClickUpClient(
        clickup.base_url, clickup.token, clickup.list_id, on_give_up=api_errors
    ) as client:
        comments = post_comments(events, client.post_comment)

    assert (delivery.sent, delivery.refused, delivery.pending) == (2, 1, 0)
    assert len(delivery.errors) == 1 and "invalid_payload" in delivery.errors[0]
    assert len(slack.requests) == 3
    [refused] = store.notifications.with_status(NotificationStatus.REFUSED)
    assert refused.text.startswith("Campaign started") and refused.attempts == 1
    assert (comments.posted, comments.failed) == (4, 1) and not comments.ok
    assert comments.errors[0].startswith("clickup comment on task gone-task: ")
    assert "404" in comments.errors[0]
    assert [c["comment_text"] for c in clickup.comments_for("cmp-1")][-1] == (
        "Ana Ruiz: ended without a deal (rejected or polite exit)."
    )
    assert api_errors == [("clickup", 1)]  # a 404 is not retried, and reported once


def test_sandbox_posts_land_in_the_jsonl_files(store: SQLiteStore, tmp_path: Path) -> None:
    source = SandboxTaskSource(tmp_path / "tasks", tmp_path / "out")
    log_slack = LogSlack(tmp_path / "out" / "slack.jsonl")
    events = _events("t-jane", "t-sam")
    _queue(store, events)

    delivery = deliver_notifications(store, log_slack, Deadline(10))
    comments = post_comments(events, source.post_comment)

    assert (delivery.sent, delivery.pending) == (3, 0)
    assert deliver_notifications(store, log_slack, Deadline(10)).sent == 0  # once only
    assert comments.ok and comments.posted == 3
    assert [m["channel"] for m in log_slack.read_all()] == [
        "escalations",  # the campaign start: skipped influencers are work for an operator
        "agreements",
        "escalations",
    ]
    comment_rows = source.read_comments()
    assert [c["task_id"] for c in comment_rows] == ["cmp-1"] * 3
    assert comment_rows[1]["comment_text"].startswith("Jane Doe: agreed at $1,200.00")


def test_an_escalation_detail_that_names_its_reason_is_not_repeated() -> None:
    legal = Escalated(
        "t-1", "cmp-1", "Sam Lee", "legal_language", "legal language: 'lawyer'", None, None, None
    )
    (message,) = slack_messages_for([legal])
    text = _block_text(message.blocks)
    assert "legal language: 'lawyer'" in text
    assert "legal language: legal language" not in text
