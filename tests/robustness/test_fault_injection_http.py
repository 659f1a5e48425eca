"""ClickUp and Slack fakes that fail on purpose: 429, 500, timeouts, malformed JSON.

Real HTTP over loopback, the real clients, the real retry policy (integrations/resilience.py,
shared by ClickUp and Slack); only the sleeping between attempts is replaced by a recorder, so
the waits the policy chose are asserted instead of waited for.

Claims:
- ClickUp client: 429 waits until X-RateLimit-Reset (measured against the server's Date),
  500 backs off, a read timeout is retried; each recovers with every task. When every attempt
  fails the caller gets a `ClickUpError` naming host, request and cause and the error
  notifier is called exactly once; wired to the Slack resource, that is one Slack message on the
  Slack fake, without the token.
- clickup_campaign_sensor (evaluate_tick, real Dagster test instance): a listing that fails on
  page 2 fails the tick (cursor untouched, nothing requested, notified once); after the fake
  recovers the next tick from the same cursor requests every task: nothing lost. Same for a
  timeout and for a malformed page.
- Slack clients: 429 honours Retry-After; 5xx and timeouts are retried; malformed JSON,
  `{"ok": false}` and other 4xx fail at once with a clear SlackError that hides the secret
  (`SlackRefused` for a payload Slack rejects, `SlackUnavailable` for everything else).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from negotiation_pipeline.defs.campaigns.sensors import clickup_campaign_sensor
from negotiation_pipeline.defs.campaigns.task_cursor import TaskCursor
from negotiation_pipeline.defs.sandbox.resources import LogSlackResource
from negotiation_pipeline.defs.shared.resources import (
    ClickUpTaskSourceResource,
    NegotiationStoreResource,
    SlackResource,
    WebhookSlackResource,
)
from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.clickup.client import (
    ClickUpClient,
    ClickUpConnectionError,
    ClickUpError,
    ClickUpHTTPError,
)
from negotiation_pipeline.integrations.slack.blocks import SlackChannel
from negotiation_pipeline.integrations.slack.client import (
    BotSlack,
    SlackError,
    SlackRefused,
    SlackUnavailable,
    WebhookSlack,
)
from negotiation_pipeline.integrations.slack.messages import api_error
from tests.defs.conftest import INVALID_NIMBUS, VALID_LUMEN, VALID_TRAILPEAK
from tests.fakes.clickup_server import FakeClickUp, make_task
from tests.fakes.slack_server import WEBHOOK_PATH, FakeReply, SlackFake, running_slack_fake

SHORT_TIMEOUT_S = 0.3
LATE_S = 1.0  # how late a "timeout" answer comes: well past SHORT_TIMEOUT_S
BASE_MS = 1_767_225_600_000
EXTRA_TASKS = [f"t{n:04d}" for n in range(150)]  # with the 3 sandbox tasks: two pages


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds the retry policy chose to wait between attempts (nothing really waits)."""
    recorded: list[float] = []
    monkeypatch.setattr(resilience, "sleep", recorded.append)
    return recorded


class Notified(list[tuple[str, BaseException, int]]):
    """The error notifier the client was given: what it was told, in order."""

    def __call__(self, api: str, exc: BaseException, attempts: int) -> None:
        self.append((api, exc, attempts))


@pytest.fixture
def notified() -> Notified:
    return Notified()


@pytest.fixture
def clickup(fake_clickup: FakeClickUp, notified: Notified) -> Iterator[ClickUpClient]:
    with ClickUpClient(
        fake_clickup.base_url,
        fake_clickup.token,
        fake_clickup.list_id,
        timeout=SHORT_TIMEOUT_S,
        on_give_up=notified,
    ) as client:
        yield client


def task_ids(tasks: list[dict[str, Any]]) -> list[str]:
    return [str(task["id"]) for task in tasks]


SANDBOX_IDS = [VALID_LUMEN, VALID_TRAILPEAK, INVALID_NIMBUS]


# --- ClickUp client ----------------------------------------------------------------------------
def test_429_waits_until_the_rate_limit_reset_then_lists_every_task(
    fake_clickup: FakeClickUp, clickup: ClickUpClient, waits: list[float], notified: list[Any]
) -> None:
    fake_clickup.inject_429(times=2, reset_in_s=20)
    listing = clickup.list_tasks_updated_since(0)
    assert task_ids(listing.tasks) == SANDBOX_IDS
    assert len(fake_clickup.requests) == 3
    assert len(waits) == 2
    assert all(18 <= wait <= 21 for wait in waits), waits  # Reset − Date, whole seconds
    assert notified == []


def test_500_backs_off_and_a_timeout_is_retried(
    fake_clickup: FakeClickUp, clickup: ClickUpClient, waits: list[float], notified: list[Any]
) -> None:
    fake_clickup.inject_500(times=1)
    fake_clickup.inject_timeout(times=1, delay_s=LATE_S)
    listing = clickup.list_tasks_updated_since(0)
    assert task_ids(listing.tasks) == SANDBOX_IDS
    assert len(fake_clickup.requests) == 3
    first, second = waits
    assert 1.0 <= first <= 2.0 and 2.0 <= second <= 3.0  # exponential backoff with jitter
    assert notified == []


@pytest.mark.parametrize("fault", ["500", "429", "timeout"])
def test_final_failure_raises_a_clear_error_and_notifies_once(
    fault: str,
    fake_clickup: FakeClickUp,
    clickup: ClickUpClient,
    waits: list[float],
    notified: list[tuple[str, BaseException, int]],
) -> None:
    if fault == "500":
        fake_clickup.inject_500(times=3)
    elif fault == "429":
        fake_clickup.inject_429(times=3, reset_in_s=600)
    else:
        fake_clickup.inject_timeout(times=3, delay_s=LATE_S)
    expected: type[ClickUpError] = (
        ClickUpConnectionError if fault == "timeout" else ClickUpHTTPError
    )
    with pytest.raises(expected) as caught:
        clickup.list_tasks_updated_since(0)
    if fault != "timeout":
        assert f"HTTP {fault} " in str(caught.value)  # names the status
    assert str(caught.value).startswith("ClickUp 127.0.0.1:")  # names the system and host
    assert fake_clickup.token not in str(caught.value)
    assert len(fake_clickup.requests) == 3
    assert len(waits) == 2 and max(waits) <= resilience.RATE_LIMIT_MAX_WAIT_S
    assert [(api, attempts) for api, _, attempts in notified] == [("clickup", 3)]
    notified_error = notified[0][1]  # the notifier saw the last attempt's httpx error
    if fault == "timeout":
        assert isinstance(notified_error, httpx.TimeoutException)
    else:
        assert isinstance(notified_error, httpx.HTTPStatusError)
        assert notified_error.response.status_code == int(fault)


def test_malformed_json_is_a_clickup_error_notified_once(
    fake_clickup: FakeClickUp,
    clickup: ClickUpClient,
    waits: list[float],
    notified: list[tuple[str, BaseException, int]],
) -> None:
    fake_clickup.inject_malformed_json(times=1)
    with pytest.raises(ClickUpError, match="response is not a JSON object"):
        clickup.list_tasks_updated_since(0)
    assert len(fake_clickup.requests) == 1  # a broken body is not an HTTP failure to retry
    assert [(api, attempts) for api, _, attempts in notified] == [("clickup", 1)]
    assert task_ids(clickup.list_tasks_updated_since(0).tasks) == SANDBOX_IDS  # recovers


def test_final_clickup_failure_posts_one_slack_alert_without_the_token(
    fake_clickup: FakeClickUp, waits: list[float], tmp_path: Path
) -> None:
    """The production wiring: the ClickUp resource hands its bound Slack resource's alert to
    the client it opens; a client opened without one tells nobody (no shared registration)."""
    with running_slack_fake() as slack:
        alerts = WebhookSlackResource(
            webhook_url=slack.webhook_url,
            store=NegotiationStoreResource(db_path=str(tmp_path / "n.db")),
        )
        source = ClickUpTaskSourceResource(
            api_token=fake_clickup.token,
            list_id=fake_clickup.list_id,
            base_url=fake_clickup.base_url,
            timeout_seconds=SHORT_TIMEOUT_S,
            alerts=alerts,
        )
        with dg.build_resources({"clickup": source}) as resources, resources.clickup.open() as c:
            fake_clickup.inject_500(times=3)
            with pytest.raises(ClickUpHTTPError):
                c.get_task(VALID_LUMEN)
        with ClickUpClient(fake_clickup.base_url, fake_clickup.token, fake_clickup.list_id) as c:
            fake_clickup.inject_500(times=3)
            with pytest.raises(ClickUpHTTPError):
                c.get_task(VALID_LUMEN)
        [alert] = [r for r in slack.requests if r.path == WEBHOOK_PATH]
        text = str(alert.json)
        assert "clickup" in text.lower() and "3" in text
        assert fake_clickup.token not in text


# --- the ClickUp sensor -------------------------------------------------------------------------
@pytest.fixture
def many_tasks(fake_clickup: FakeClickUp) -> list[str]:
    fake_clickup.put_tasks(make_task(task_id, BASE_MS + n) for n, task_id in enumerate(EXTRA_TASKS))
    return SANDBOX_IDS + EXTRA_TASKS


def sensor_tick(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    fake: FakeClickUp,
    cursor: str | None,
    alerts: SlackResource | None = None,
) -> dg.SensorResult:
    """One evaluation as the daemon runs it: only the resource the sensor requires (with
    `alerts`, the Slack it reports failed calls to), with a short client timeout."""
    resources = {
        "clickup": ClickUpTaskSourceResource(
            api_token=fake.token,
            list_id=fake.list_id,
            base_url=fake.base_url,
            timeout_seconds=SHORT_TIMEOUT_S,
            alerts=alerts,
        )
    }
    with dg.build_sensor_context(
        instance_ref=instance.get_ref(), definitions=defs, cursor=cursor, resources=resources
    ) as context:
        data = defs.resolve_sensor_def(clickup_campaign_sensor.name).evaluate_tick(context)
    for request in data.dynamic_partitions_requests or []:
        assert isinstance(request, dg.AddDynamicPartitionsRequest)
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return dg.SensorResult(run_requests=data.run_requests, cursor=data.cursor)


def requested(result: dg.SensorResult) -> list[str]:
    return [str(request.partition_key) for request in result.run_requests or []]


def inject(fake: FakeClickUp, fault: str) -> None:
    """Page 0 answers; page 1 fails on every attempt (or, for malformed JSON, once)."""
    if fault == "500":
        fake.inject_500(times=3, after=1)
    elif fault == "429":
        fake.inject_429(times=3, reset_in_s=5, after=1)
    elif fault == "timeout":
        fake.inject_timeout(times=3, delay_s=LATE_S, after=1)
    else:
        fake.inject_malformed_json(times=1, after=1)


def test_sensor_failing_mid_listing_loses_nothing(
    instance: dg.DagsterInstance,
    clickup_defs: dg.Definitions,
    fake_clickup: FakeClickUp,
    many_tasks: list[str],
    waits: list[float],
    tmp_path: Path,
) -> None:
    """One instance for every fault (a Dagster test instance takes seconds to set up)."""
    newest = max(updated for updated, _ in fake_clickup.state.index)
    slack_log = tmp_path / "slack.jsonl"
    alerts = LogSlackResource(
        jsonl_path=str(slack_log), store=NegotiationStoreResource(db_path=str(tmp_path / "n.db"))
    )
    for fault in ["500", "timeout", "malformed_json", "429"]:
        fake_clickup.clear_requests()
        slack_log.unlink(missing_ok=True)
        partitions_before = instance.get_dynamic_partitions("campaign")
        inject(fake_clickup, fault)

        with pytest.raises(Exception) as caught:  # the tick fails; Dagster keeps
            sensor_tick(instance, clickup_defs, fake_clickup, None, alerts)  # the old cursor
        chain = list(_chain(caught.value))
        assert any(isinstance(exc, httpx.HTTPError | ClickUpError) for exc in chain), fault
        posted = [json.loads(line)["text"] for line in slack_log.read_text().splitlines()]
        assert [text.split(" failed after ")[0] for text in posted] == ["API error: clickup"], fault
        pages = [r.query["page"][0] for r in fake_clickup.requests]
        assert pages[0] == "0" and set(pages[1:]) == {"1"}, (fault, pages)
        assert instance.get_dynamic_partitions("campaign") == partitions_before, fault

        fake_clickup.clear_requests()
        recovered = sensor_tick(instance, clickup_defs, fake_clickup, cursor=None)
        assert sorted(requested(recovered)) == sorted(many_tasks), fault  # none lost
        assert [r.query["page"][0] for r in fake_clickup.requests] == ["0", "1"], fault
        assert TaskCursor.from_json(recovered.cursor).watermark_ms == newest, fault


def test_sensor_failing_on_a_later_tick_resumes_from_its_last_good_cursor(
    instance: dg.DagsterInstance,
    clickup_defs: dg.Definitions,
    fake_clickup: FakeClickUp,
    waits: list[float],
) -> None:
    first = sensor_tick(instance, clickup_defs, fake_clickup, cursor=None)
    assert sorted(requested(first)) == sorted(SANDBOX_IDS)
    fake_clickup.put_tasks(
        make_task(task_id, BASE_MS * 2 + n) for n, task_id in enumerate(EXTRA_TASKS)
    )
    fake_clickup.inject_500(times=3, after=1)
    with pytest.raises(Exception):  # noqa: B017 - the daemon records any tick failure
        sensor_tick(instance, clickup_defs, fake_clickup, cursor=first.cursor)
    recovered = sensor_tick(instance, clickup_defs, fake_clickup, cursor=first.cursor)
    assert sorted(requested(recovered)) == sorted(EXTRA_TASKS)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes (Dagster wraps user-code errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


# --- Slack -------------------------------------------------------------------------------------
MESSAGE = api_error(api_name="clickup", attempts=3, error="HTTP 500 on GET /list/1/task")
CHANNELS: dict[SlackChannel | str, str] = {kind: f"C_{kind.name}" for kind in SlackChannel}
ATTEMPTS = 4


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    with running_slack_fake(channels=set(CHANNELS.values())) as fake:
        yield fake


def webhook(slack: SlackFake) -> WebhookSlack:
    return WebhookSlack(slack.webhook_url, attempts=ATTEMPTS, timeout_seconds=SHORT_TIMEOUT_S)


def bot(slack: SlackFake) -> BotSlack:
    return BotSlack(
        slack.token,
        CHANNELS,
        api_base=slack.api_base,
        attempts=ATTEMPTS,
        timeout_seconds=SHORT_TIMEOUT_S,
    )


def _backoff(wait: float, attempt: int) -> bool:
    """The policy's exponential backoff after `attempt`, with its up to 1 s of jitter."""
    base = 2.0 ** (attempt - 1)
    return base <= wait <= base + 1


def test_slack_429_retry_after_then_500_then_timeout_then_delivered(
    slack: SlackFake, waits: list[float]
) -> None:
    slack.script(
        "webhook",
        FakeReply(429, "rate_limited", {"Retry-After": "7"}),
        FakeReply(503, "upstream connect error"),
        FakeReply(200, "ok", delay_seconds=LATE_S),
    )
    webhook(slack).post(MESSAGE)
    assert len(slack.requests) == 4
    assert waits[0] == 7.0  # Retry-After, then backoff for attempts 2 and 3
    assert len(waits) == 3 and _backoff(waits[1], 2) and _backoff(waits[2], 3)


def test_slack_bot_ratelimited_body_honours_retry_after(
    slack: SlackFake, waits: list[float]
) -> None:
    slack.script(
        "/chat.postMessage",
        FakeReply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"}),
        FakeReply(500, "oops"),
    )
    client = bot(slack)
    client.post(MESSAGE)
    assert waits[0] == 3.0 and len(waits) == 2 and _backoff(waits[1], 2)
    assert client.last_ts is not None
    assert slack.requests[-1].json["channel"] == CHANNELS[SlackChannel.ERRORS]


@pytest.mark.parametrize("which", ["webhook", "bot"])
def test_slack_timeouts_on_every_attempt_give_a_clear_error(
    slack: SlackFake, which: str, waits: list[float]
) -> None:
    path = "webhook" if which == "webhook" else "/chat.postMessage"
    slack.script(path, *[FakeReply(200, "ok", delay_seconds=LATE_S)] * ATTEMPTS)
    client = webhook(slack) if which == "webhook" else bot(slack)
    with pytest.raises(SlackUnavailable, match=r"failed: transport error: \w*Timeout"):
        client.post(MESSAGE)
    assert len(slack.requests) == ATTEMPTS
    assert len(waits) == ATTEMPTS - 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (FakeReply(200, '{"ok": tr', content_type="application/json"), "not JSON"),
        (FakeReply(200, "<html>gateway</html>", content_type="text/html"), "not JSON"),
        (FakeReply(200, {"ok": False, "error": "channel_not_found"}), "channel_not_found"),
        (FakeReply(200, '["ok"]', content_type="application/json"), "unknown_error|failed"),
        (FakeReply(403, {"ok": False, "error": "not_allowed_token_type"}), "HTTP 403"),
    ],
    ids=["truncated-json", "html", "ok-false", "json-not-object", "http-403"],
)
def test_slack_bot_permanent_or_malformed_answers_fail_at_once(
    slack: SlackFake, reply: FakeReply, expected: str, waits: list[float]
) -> None:
    slack.script("/chat.postMessage", reply)
    with pytest.raises(SlackError, match=expected) as caught:
        bot(slack).post(MESSAGE)
    assert len(slack.requests) == 1 and waits == []
    assert slack.token not in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (FakeReply(400, "invalid_payload"), SlackRefused),
        (FakeReply(404, "no_service"), SlackUnavailable),
        (FakeReply(200, "{}"), SlackUnavailable),
    ],
    ids=["400", "404", "200-not-ok"],
)
def test_slack_webhook_refusals_fail_at_once_without_the_url(
    slack: SlackFake, reply: FakeReply, kind: type[SlackError], waits: list[float]
) -> None:
    slack.script("webhook", reply)
    with pytest.raises(kind, match="refused") as caught:
        webhook(slack).post(MESSAGE)
    assert len(slack.requests) == 1 and waits == []
    assert WEBHOOK_PATH not in str(caught.value)
