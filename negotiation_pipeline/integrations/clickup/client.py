"""ClickUp API v2 client for the campaign List, and the interface the Dagster layer uses.

Polling query: GET /list/{id}/task with page from 0,
order_by=updated, reverse=true (oldest first), date_updated_gt=<cursor ms> (ClickUp treats it as
>=, so callers dedupe on (task id, date_updated)), include_closed and subtasks. A listing stops
on `last_page` true or a page of fewer than 100 tasks.

The personal token goes in `Authorization` raw (no "Bearer"). It never appears in a log line,
an exception message or repr. Failures leave this client as `ClickUpError`s whose message names
ClickUp, the host, the request and the cause (status plus ClickUp's `err`/`ECODE` body, or the
network error), redacted; the httpx error is not chained, since its text holds the whole URL.
Comments are redacted before they are posted (a form value may hold a key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import httpx

from negotiation_pipeline.domain.redaction import redact_text
from negotiation_pipeline.integrations.clickup.fields import load_task_json
from negotiation_pipeline.integrations.resilience import (
    ErrorNotifier,
    call_with_retries,
    error_body_reason,
)

DEFAULT_CLICKUP_API_URL = "https://api.clickup.com/api/v2"
PAGE_SIZE = 100
API_NAME = "clickup"
T = TypeVar("T")


@dataclass(frozen=True)
class TaskListing:
    """Tasks of one listing call, oldest update first. `more_pages` is True when `max_pages`
    stopped the listing before ClickUp's last page: call again from the newest date_updated."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    more_pages: bool = False


@runtime_checkable
class CampaignTaskSource(Protocol):
    """Where campaign tasks come from: the real ClickUp List or the sandbox folder."""

    def list_tasks_updated_since(self, updated_gt_ms: int, max_pages: int) -> TaskListing: ...

    def get_task(self, task_id: str) -> dict[str, Any]: ...

    def post_comment(self, task_id: str, text: str) -> None: ...


class ClickUpError(RuntimeError):
    """ClickUp failed, or answered something that is not the documented shape. The message
    names ClickUp, the host, the request and the cause, with secrets redacted."""


class ClickUpHTTPError(ClickUpError):
    """ClickUp answered an error status; `ecode`/`reason` are from its `{"err", "ECODE"}` body."""

    def __init__(self, message: str, *, status_code: int, ecode: str | None, reason: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.ecode = ecode
        self.reason = reason


class ClickUpConnectionError(ClickUpError):
    """ClickUp could not be reached, or did not answer in time."""


def task_date_updated(task: dict[str, Any]) -> int:
    """A task's `date_updated` (ms, sent as a string) as an int; 0 when absent."""
    value = task.get("date_updated")
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


class ClickUpClient:
    """`CampaignTaskSource` over the real ClickUp API. Every call runs under the retry policy;
    a call that still fails is told to `on_give_up` (the run's Slack alert), once."""

    def __init__(
        self,
        base_url: str,
        api_token: str,
        list_id: str,
        timeout: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
        on_give_up: ErrorNotifier | None = None,
    ) -> None:
        if not api_token.strip():
            raise ValueError("ClickUp API token is empty")
        if not list_id.strip():
            raise ValueError("ClickUp list id is empty")
        self.base_url = base_url.rstrip("/")
        self.list_id = list_id.strip()
        self._timeout = timeout
        self._on_give_up = on_give_up
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={
                "Authorization": api_token.strip(),
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"ClickUpClient(base_url={self.base_url!r}, list_id={self.list_id!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ClickUpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- calls ---------------------------------------------------------------------------------
    @property
    def _where(self) -> str:
        url = self._http.base_url
        return f"ClickUp {url.host}" + (f":{url.port}" if url.port else "")

    @contextmanager
    def _translated(self, method: str, path: str) -> Iterator[None]:
        """httpx errors (retried already) → ClickUpError naming host, request and cause. The
        httpx error is not chained: its text carries the full URL."""
        request = f"{method} {path}"
        try:
            yield
        except httpx.HTTPStatusError as exc:
            response = exc.response
            reason = error_body_reason(response)
            body = _json_body(response)
            ecode = body.get("ECODE") if isinstance(body.get("ECODE"), str) else None
            status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
            raise ClickUpHTTPError(
                redact_text(f"{self._where}: {request} answered {status}")
                + (f": {reason}" if reason else ""),
                status_code=response.status_code,
                ecode=ecode,
                reason=reason,
            ) from None
        except httpx.TimeoutException as exc:
            raise ClickUpConnectionError(
                f"{self._where}: {request} timed out ({type(exc).__name__}, limit "
                f"{self._timeout:g} s)"
            ) from None
        except httpx.TransportError as exc:
            raise ClickUpConnectionError(
                redact_text(f"{self._where}: {request} failed: {type(exc).__name__}: {exc}")
            ) from None

    def _retried(self, call: Callable[[], T]) -> T:
        return call_with_retries(call, API_NAME, on_give_up=self._on_give_up)

    def _get_attempt(self, path: str, params: dict[str, str] | None) -> dict[str, Any]:
        response = self._http.get(path, params=params)
        response.raise_for_status()
        try:
            return load_task_json(response.content)
        except ValueError as exc:
            raise ClickUpError(
                f"{self._where}: GET {path}: response is not a JSON object ({exc})"
            ) from None

    def _post_attempt(self, path: str, body: dict[str, Any]) -> None:
        response = self._http.post(path, json=body)
        response.raise_for_status()

    def _get_json(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        with self._translated("GET", path):
            return self._retried(lambda: self._get_attempt(path, params))

    def _post_json(self, path: str, body: dict[str, Any]) -> None:
        with self._translated("POST", path):
            self._retried(lambda: self._post_attempt(path, body))

    def fetch_task_page(self, updated_gt_ms: int, page: int) -> tuple[list[dict[str, Any]], bool]:
        """One page of the List: (tasks, is_last_page)."""
        params = {
            "page": str(page),
            "order_by": "updated",
            "reverse": "true",
            "date_updated_gt": str(updated_gt_ms),
            "include_closed": "true",
            "subtasks": "true",
        }
        body = self._get_json(f"/list/{self.list_id}/task", params)
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise ClickUpError(
                f"{self._where}: list {self.list_id} page {page}: response has no 'tasks' list"
            )
        is_last = body.get("last_page") is True or len(tasks) < PAGE_SIZE
        return [t for t in tasks if isinstance(t, dict)], is_last

    def list_tasks_updated_since(self, updated_gt_ms: int, max_pages: int = 10) -> TaskListing:
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        tasks: list[dict[str, Any]] = []
        for page in range(max_pages):
            page_tasks, is_last = self.fetch_task_page(updated_gt_ms, page)
            tasks.extend(page_tasks)
            if is_last:
                return TaskListing(tasks, more_pages=False)
        return TaskListing(tasks, more_pages=True)

    def get_task(self, task_id: str) -> dict[str, Any]:
        task = self._get_json(f"/task/{_path_segment(task_id)}")
        if not task.get("id"):
            raise ClickUpError(f"{self._where}: task {task_id}: response has no task id")
        return task

    def post_comment(self, task_id: str, text: str) -> None:
        self._post_json(
            f"/task/{_path_segment(task_id)}/comment",
            {"comment_text": redact_text(text), "notify_all": False},
        )


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _path_segment(task_id: str) -> str:
    cleaned = task_id.strip()
    if not cleaned or "/" in cleaned or "?" in cleaned or "#" in cleaned:
        raise ValueError(f"invalid ClickUp task id {task_id!r}")
    return cleaned
