"""ClickUpClient against the loopback fake: query shape, pagination, >= cursor, retries, auth."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.clickup import (
    CampaignTaskSource,
    ClickUpClient,
    ClickUpConnectionError,
    ClickUpHTTPError,
)
from tests.fakes.clickup_server import FakeClickUp, make_task

BASE_MS = 1_767_000_000_000


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(resilience, "sleep", recorded.append)
    return recorded


@pytest.fixture
def fake() -> Iterator[FakeClickUp]:
    with FakeClickUp() as server:
        yield server


@pytest.fixture
def client(fake: FakeClickUp) -> Iterator[ClickUpClient]:
    with ClickUpClient(fake.base_url, fake.token, fake.list_id, timeout=5) as c:
        yield c


def test_is_a_task_source(client: ClickUpClient) -> None:
    assert isinstance(client, CampaignTaskSource)


def test_250_tasks_come_in_three_pages_oldest_first(
    fake: FakeClickUp, client: ClickUpClient
) -> None:
    fake.put_tasks(make_task(f"t{n:03d}", BASE_MS + n) for n in reversed(range(250)))
    listing = client.list_tasks_updated_since(0, max_pages=10)
    assert [t["id"] for t in listing.tasks] == [f"t{n:03d}" for n in range(250)]
    assert listing.more_pages is False
    pages = [r for r in fake.requests if r.path.endswith("/task")]
    assert [r.query["page"] for r in pages] == [["0"], ["1"], ["2"]]
    q = pages[0].query
    assert (q["order_by"], q["reverse"], q["date_updated_gt"]) == (["updated"], ["true"], ["0"])
    assert (q["include_closed"], q["subtasks"]) == (["true"], ["true"])
    assert pages[0].authorization == fake.token  # raw token, no "Bearer"


def test_stops_on_short_page_when_last_page_is_omitted(
    fake: FakeClickUp, client: ClickUpClient
) -> None:
    fake.set_omit_last_page(True)
    fake.put_tasks(make_task(f"t{n}", BASE_MS + n) for n in range(120))
    assert len(client.list_tasks_updated_since(0, max_pages=5).tasks) == 120
    assert len(fake.requests) == 2


def test_max_pages_reports_more(fake: FakeClickUp, client: ClickUpClient) -> None:
    fake.put_tasks(make_task(f"t{n:03d}", BASE_MS + n) for n in range(250))
    listing = client.list_tasks_updated_since(0, max_pages=2)
    assert len(listing.tasks) == 200 and listing.more_pages is True


def test_cursor_is_inclusive(fake: FakeClickUp, client: ClickUpClient) -> None:
    fake.put_tasks(
        [make_task("old", BASE_MS - 1), make_task("edge", BASE_MS), make_task("new", BASE_MS + 5)]
    )
    ids = [t["id"] for t in client.list_tasks_updated_since(BASE_MS, 1).tasks]
    assert ids == ["edge", "new"]  # ClickUp's date_updated_gt behaves as >=
    fake.touch_task("old", BASE_MS + 9)
    ids = [t["id"] for t in client.list_tasks_updated_since(BASE_MS + 5, 1).tasks]
    assert ids == ["new", "old"]


def test_get_task_and_comment(fake: FakeClickUp, client: ClickUpClient) -> None:
    fake.put_task(make_task("abc", BASE_MS))
    task = client.get_task("abc")
    assert task["id"] == "abc" and task["date_updated"] == str(BASE_MS)
    client.post_comment("abc", "Campaign rejected:\nBudget: must be > 0")
    [comment] = fake.comments_for("abc")
    assert comment["comment_text"] == "Campaign rejected:\nBudget: must be > 0"
    assert comment["notify_all"] is False


def test_429_with_reset_is_retried_then_succeeds(
    fake: FakeClickUp, client: ClickUpClient, sleeps: list[float]
) -> None:
    fake.put_task(make_task("abc", BASE_MS))
    fake.inject_429(2, reset_in_s=3)
    assert client.get_task("abc")["id"] == "abc"
    assert len(fake.requests) == 3 and len(sleeps) == 2
    assert all(1.0 <= s <= 4.0 for s in sleeps)


def test_500_twice_then_page_succeeds(
    fake: FakeClickUp, client: ClickUpClient, sleeps: list[float]
) -> None:
    fake.put_tasks(make_task(f"t{n}", BASE_MS + n) for n in range(3))
    fake.inject_500(2)
    assert len(client.list_tasks_updated_since(0, 1).tasks) == 3
    assert len(sleeps) == 2


def test_500_three_times_raises_and_notifies_once(fake: FakeClickUp, sleeps: list[float]) -> None:
    calls: list[tuple[str, int]] = []
    fake.inject_500(3)
    with (
        ClickUpClient(
            fake.base_url,
            fake.token,
            fake.list_id,
            timeout=5,
            on_give_up=lambda api, exc, n: calls.append((api, n)),
        ) as client,
        pytest.raises(ClickUpHTTPError),
    ):
        client.post_comment("abc", "hello")
    assert calls == [("clickup", 3)]
    assert fake.comments_for("abc") == []


def test_404_not_retried(fake: FakeClickUp, client: ClickUpClient, sleeps: list[float]) -> None:
    with pytest.raises(ClickUpHTTPError) as caught:
        client.get_task("missing")
    assert caught.value.status_code == 404
    assert len(fake.requests) == 1 and sleeps == []


def test_wrong_token_401_not_retried_and_never_leaked(
    fake: FakeClickUp, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "pk_WRONG_secret_value_123"
    caplog.set_level(logging.DEBUG)
    with ClickUpClient(fake.base_url, secret, fake.list_id) as bad:
        with pytest.raises(ClickUpHTTPError) as caught:
            bad.list_tasks_updated_since(0, 1)
        assert secret not in repr(bad)
    assert caught.value.status_code == 401
    assert (caught.value.reason, caught.value.ecode) == (
        "Token invalid (ECODE OAUTH_025)",
        "OAUTH_025",
    )
    assert len(fake.requests) == 1 and sleeps == []
    assert secret not in str(caught.value)
    assert secret not in caplog.text


# --- operator messages: ClickUp, host, request, cause ------------------------------------------
def test_4xx_message_names_clickup_host_request_and_clickups_reason(
    fake: FakeClickUp, sleeps: list[float]
) -> None:
    bad = ClickUpClient(fake.base_url, "pk_12_WRONGTOKENVALUE", fake.list_id)
    with bad, pytest.raises(ClickUpHTTPError) as caught:
        bad.get_task("abc")
    port = fake.base_url.split(":")[2].split("/")[0]
    assert str(caught.value) == (
        f"ClickUp 127.0.0.1:{port}: GET /task/abc answered HTTP 401 Unauthorized: "
        "Token invalid (ECODE OAUTH_025)"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_404_message_carries_clickups_err(fake: FakeClickUp, client: ClickUpClient) -> None:
    with pytest.raises(
        ClickUpHTTPError,
        match=r"answered HTTP 404 Not Found: Task not found, "
        r"deleted \(ECODE ITEM_013\)",
    ):
        client.post_comment("missing", "hi")


def test_unreachable_clickup_names_host_and_network_cause(sleeps: list[float]) -> None:
    client = ClickUpClient("http://127.0.0.1:9/api/v2", "pk_1_TOKEN", "42", timeout=1)
    with client, pytest.raises(ClickUpConnectionError) as caught:
        client.get_task("abc")
    message = str(caught.value)
    assert message.startswith("ClickUp 127.0.0.1:9: GET /task/abc failed: ConnectError: ")
    assert "refused" in message.lower()


def test_timeout_names_the_limit(fake: FakeClickUp, sleeps: list[float]) -> None:
    fake.put_task(make_task("abc", BASE_MS))
    fake.inject_timeout(times=3, delay_s=1.0)
    client = ClickUpClient(fake.base_url, fake.token, fake.list_id, timeout=0.2)
    expected = r"GET /task/abc timed out \(ReadTimeout, limit 0.2 s\)"
    with client, pytest.raises(ClickUpConnectionError, match=expected):
        client.get_task("abc")


def test_comments_are_redacted_before_they_leave(fake: FakeClickUp, client: ClickUpClient) -> None:
    fake.put_task(make_task("abc", BASE_MS))
    client.post_comment("abc", "Influencer Roster URL: https://h.example/r.csv?key=SECRET9")
    [comment] = fake.comments_for("abc")
    assert comment["comment_text"] == "Influencer Roster URL: https://h.example/r.csv?key=***"
