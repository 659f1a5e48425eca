"""call_with_retries over real HTTP on loopback (the ClickUp fake): what is retried, how long
it waits, and that the last failure is raised and told to the caller's notifier once. Sleeps are
recorded, not slept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest

from negotiation_pipeline.defs.sandbox.resources import LogSlackResource
from negotiation_pipeline.defs.shared.resources import NegotiationStoreResource
from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.resilience import ErrorNotifier, call_with_retries
from tests.fakes.clickup_server import FakeClickUp, make_task


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(resilience, "sleep", recorded.append)
    return recorded


class Notified(list[tuple[str, BaseException, int]]):
    """An `ErrorNotifier` that keeps what it was told."""

    def __call__(self, api: str, exc: BaseException, attempts: int) -> None:
        self.append((api, exc, attempts))


@pytest.fixture
def notified() -> Notified:
    return Notified()


@pytest.fixture
def fake() -> Iterator[FakeClickUp]:
    with FakeClickUp() as server:
        server.put_task(make_task("t1", 1_700_000_000_000))
        yield server


def getter(
    fake: FakeClickUp, token: str | None = None, on_give_up: ErrorNotifier | None = None
) -> resilience.Callable[[], int]:
    def get() -> int:
        response = httpx.get(
            f"{fake.base_url}/task/t1", headers={"Authorization": token or fake.token}
        )
        response.raise_for_status()
        return response.status_code

    return lambda: call_with_retries(get, "clickup", on_give_up=on_give_up)


def test_500_twice_then_success(fake: FakeClickUp, sleeps: list[float], notified: Notified) -> None:
    fake.inject_500(2)
    assert getter(fake, on_give_up=notified)() == 200
    assert len(fake.requests) == 3
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 3.0  # exponential + jitter
    assert notified == []


def test_500_three_times_raises_original_and_notifies_once(
    fake: FakeClickUp, sleeps: list[float], notified: Notified
) -> None:
    fake.inject_500(3)
    with pytest.raises(httpx.HTTPStatusError) as caught:
        getter(fake, on_give_up=notified)()
    assert caught.value.response.status_code == 500
    assert len(fake.requests) == 3
    assert len(notified) == 1
    api, exc, attempts = notified[0]
    assert (api, attempts) == ("clickup", 3) and exc is caught.value


def test_429_waits_until_reset_header(fake: FakeClickUp, sleeps: list[float]) -> None:
    fake.inject_429(1, reset_in_s=5)
    assert getter(fake)() == 200
    assert len(sleeps) == 1
    assert 3.0 <= sleeps[0] <= 6.0  # Reset − Date (1 s resolution), not the 1-2 s backoff


def test_429_wait_is_capped() -> None:
    request = httpx.Request("GET", "https://example.invalid/x")
    far = httpx.Response(
        429,
        request=request,
        headers={"X-RateLimit-Reset": "4000000000", "Date": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )
    assert resilience.rate_limit_wait(far) == resilience.RATE_LIMIT_MAX_WAIT_S
    assert resilience.rate_limit_wait(httpx.Response(429, request=request)) is None


@pytest.mark.parametrize("status", [401, 404])
def test_other_4xx_not_retried(
    fake: FakeClickUp, sleeps: list[float], notified: Notified, status: int
) -> None:
    call = getter(fake, "Bearer " + fake.token, notified) if status == 401 else None

    def missing() -> None:
        httpx.get(
            f"{fake.base_url}/task/nope", headers={"Authorization": fake.token}
        ).raise_for_status()

    with pytest.raises(httpx.HTTPStatusError) as caught:
        if call is not None:
            call()
        else:
            call_with_retries(missing, "clickup", on_give_up=notified)
    assert caught.value.response.status_code == status
    assert len(fake.requests) == 1 and sleeps == []
    assert [(api, attempts) for api, _, attempts in notified] == [("clickup", 1)]


def test_transport_error_retried_then_raised(sleeps: list[float], notified: Notified) -> None:
    attempts: list[int] = []

    def unreachable() -> None:
        attempts.append(1)
        httpx.get("http://127.0.0.1:9/", timeout=0.5)  # discard port: connection refused

    with pytest.raises(httpx.TransportError):
        call_with_retries(unreachable, "roster", on_give_up=notified)
    assert len(attempts) == 3 and len(sleeps) == 2 and len(notified) == 1


def test_non_http_errors_are_not_retried(sleeps: list[float]) -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call_with_retries(broken, "x")
    assert calls == [1] and sleeps == []


def test_failing_notifier_does_not_hide_the_error(fake: FakeClickUp, sleeps: list[float]) -> None:
    def explode(api: str, exc: BaseException, attempts: int) -> None:
        raise RuntimeError("slack down")

    fake.inject_500(3)
    with pytest.raises(httpx.HTTPStatusError):
        getter(fake, on_give_up=explode)()
    assert len(fake.requests) == 3


def test_each_caller_hears_only_of_its_own_failures(fake: FakeClickUp, sleeps: list[float]) -> None:
    """The notifier is the caller's argument: no shared registration for another call to see."""
    failing, succeeding = Notified(), Notified()
    with pytest.raises(httpx.HTTPStatusError):
        getter(fake, token="pk_wrong", on_give_up=failing)()
    assert getter(fake, on_give_up=succeeding)() == 200
    with pytest.raises(httpx.HTTPStatusError):
        getter(fake, token="pk_wrong")()  # nobody to tell: only logged
    assert [(api, n) for api, _, n in failing] == [("clickup", 1)]
    assert succeeding == []


def test_final_failure_log_says_1_attempt_and_3_attempts(
    fake: FakeClickUp, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("ERROR", logger="negotiation_pipeline.integrations.resilience")
    with pytest.raises(httpx.HTTPStatusError):
        getter(fake, token="pk_wrong")()  # 401: not retried
    fake.inject_500(3)
    with pytest.raises(httpx.HTTPStatusError):
        getter(fake)()
    lines = [r.getMessage() for r in caplog.records]
    assert any("failed after 1 attempt:" in line for line in lines), lines
    assert any("failed after 3 attempts:" in line for line in lines), lines
    assert not any("attempt(s)" in line or "1 attempts" in line for line in lines)


def test_describe_failure_names_host_path_and_clickups_reason(
    fake: FakeClickUp, sleeps: list[float]
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as caught:
        getter(fake, token="pk_wrong")()
    text = resilience.describe_failure(caught.value)
    assert text == (
        "HTTP 401 from 127.0.0.1 on GET /api/v2/task/t1: Token invalid (ECODE OAUTH_025)"
    )


def test_describe_failure_never_shows_query_keys_or_userinfo(sleeps: list[float]) -> None:
    def fetch() -> None:
        httpx.get("http://user:pw@127.0.0.1:9/r.csv?key=SECRETKEY", timeout=0.5)

    with pytest.raises(httpx.TransportError) as caught:
        call_with_retries(fetch, "roster")
    text = resilience.describe_failure(caught.value)
    assert "SECRETKEY" not in text and "pw" not in text
    assert text.startswith("ConnectError (GET 127.0.0.1/r.csv): ")

    request = httpx.Request("GET", "https://h.example/r.csv?key=SECRETKEY")
    status = httpx.HTTPStatusError(
        "Client error '404 Not Found' for url 'https://h.example/r.csv?key=SECRETKEY'",
        request=request,
        response=httpx.Response(404, request=request, text="<html>nope</html>"),
    )
    assert resilience.describe_failure(status) == "HTTP 404 from h.example on GET /r.csv"
    assert "SECRETKEY" not in resilience.describe_failure(RuntimeError(str(status)))


def test_the_slack_alert_after_one_attempt_says_1_attempt(
    fake: FakeClickUp, sleeps: list[float], tmp_path: Path
) -> None:
    """The production notifier (SlackResource.post_api_error) into the sandbox Slack."""
    slack = LogSlackResource(
        jsonl_path=str(tmp_path / "slack.jsonl"),
        store=NegotiationStoreResource(db_path=str(tmp_path / "negotiation.db")),
    )
    slack.setup_for_execution(dg.build_init_resource_context())
    with pytest.raises(httpx.HTTPStatusError):
        getter(fake, token="pk_wrong", on_give_up=slack.post_api_error)()  # 401: not retried
    [alert] = [json.loads(line) for line in (tmp_path / "slack.jsonl").read_text().splitlines()]
    assert alert["text"] == (
        "API error: clickup failed after 1 attempt: HTTP 401 from 127.0.0.1 on GET /api/v2/task/t1:"
        " Token invalid (ECODE OAUTH_025)"
    )
