"""A fake ClickUp API v2 on 127.0.0.1 with the real response shapes.

- GET  /api/v2/list/{list_id}/task: {"tasks": [...], "last_page": bool}, 100 per page, `page`
  from 0, `date_updated_gt` as >=, order_by=updated (reverse=true → oldest first, otherwise
  newest first) or created; include_closed=false hides closed tasks.
- GET  /api/v2/task/{task_id}: the task; 404 {"err": "Task not found, deleted", ...}.
- POST /api/v2/task/{task_id}/comment: {"id": "458", "hist_id": "26508", "date": <ms int>}.
- Authorization must be the raw token: otherwise 401 {"err":"Token invalid","ECODE":"OAUTH_025"}
  (missing header: OAUTH_017).
- `inject_429(n, reset_in_s)` / `inject_500(n)` fail the next n requests;
  `inject_timeout(n, delay_s)` answers them only after `delay_s` (past a client's timeout) and
  `inject_malformed_json(n)` answers 200 with a truncated JSON body. Every `inject_*` takes
  `after=k`: the first k requests are answered normally (fail page 2 of a listing).

Tasks are kept in a list sorted by (date_updated, id) so a page is a bisect and a slice, and each
task's JSON is encoded once: 5,000 tasks page quickly.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 100
API_PREFIX = "/api/v2"


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _encode(data: object) -> bytes:
    return json.dumps(data, default=_json_default, separators=(",", ":")).encode()


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    body: bytes = b""


@dataclass
class _StoredTask:
    task: dict[str, Any]
    encoded: bytes
    key: tuple[int, str]


@dataclass
class _Fault:
    status: int  # 429, 5xx; 200 with `kind` "malformed_json"; any with `kind` "timeout"
    reset_in_s: float = 0.0
    kind: str = "status"
    delay_s: float = 0.0
    body: bytes = b""


@dataclass
class FakeClickUpState:
    token: str
    list_id: str
    tasks: dict[str, _StoredTask] = field(default_factory=dict)
    index: list[tuple[int, str]] = field(default_factory=list)  # sorted (date_updated, id)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    requests_before_faults: int = 0  # answered normally before the queued faults start
    omit_last_page: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_comment_id: int = 458


class FakeClickUp:
    """Start with `with FakeClickUp(token=..., list_id=...) as fake:`; `fake.base_url` is the
    value for ClickUpClient(base_url=...)."""

    def __init__(self, token: str = "pk_test_0123456789", list_id: str = "901100200300") -> None:
        self.state = FakeClickUpState(token=token, list_id=list_id)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self.state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeClickUp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeClickUp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{API_PREFIX}"

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def list_id(self) -> str:
        return self.state.list_id

    # --- data ----------------------------------------------------------------------------------
    def put_task(self, task: dict[str, Any]) -> None:
        """Add or replace a task (by id); its `date_updated` (ms string) orders it."""
        self.put_tasks([task])

    def put_tasks(self, tasks: Iterable[dict[str, Any]]) -> None:
        with self.state.lock:
            for task in tasks:
                task_id = str(task["id"])
                old = self.state.tasks.pop(task_id, None)
                if old is not None:
                    position = bisect.bisect_left(self.state.index, old.key)
                    del self.state.index[position]
                key = (int(task["date_updated"]), task_id)
                stored = _StoredTask(copy.deepcopy(task), _encode(task), key)
                self.state.tasks[task_id] = stored
                bisect.insort(self.state.index, key)

    def touch_task(self, task_id: str, date_updated_ms: int, **changes: Any) -> None:
        """Simulate an edit in ClickUp: new date_updated plus optional top-level changes."""
        task = copy.deepcopy(self.state.tasks[task_id].task)
        task.update(changes)
        task["date_updated"] = str(date_updated_ms)
        self.put_task(task)

    def comments_for(self, task_id: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.comments.get(task_id, []))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.requests.clear()

    # --- faults --------------------------------------------------------------------------------
    def inject_429(self, times: int = 1, reset_in_s: float = 1.0, *, after: int = 0) -> None:
        """The next `times` requests get 429 + X-RateLimit-* headers (Reset = now + reset_in_s)."""
        self._inject([_Fault(429, reset_in_s) for _ in range(times)], after)

    def inject_500(self, times: int = 1, *, after: int = 0, status: int = 500) -> None:
        self._inject([_Fault(status) for _ in range(times)], after)

    def inject_timeout(self, times: int = 1, delay_s: float = 1.0, *, after: int = 0) -> None:
        """The next `times` requests are answered (normally) only after `delay_s` seconds."""
        self._inject([_Fault(200, kind="timeout", delay_s=delay_s) for _ in range(times)], after)

    def inject_malformed_json(
        self, times: int = 1, body: bytes = b'{"tasks":[{"id":"86b', *, after: int = 0
    ) -> None:
        """The next `times` requests get 200 with `body` (truncated JSON by default)."""
        faults = [_Fault(200, kind="malformed_json", body=body) for _ in range(times)]
        self._inject(faults, after)

    def _inject(self, faults: list[_Fault], after: int) -> None:
        with self.state.lock:
            self.state.requests_before_faults = after
            self.state.faults.extend(faults)

    def set_omit_last_page(self, omit: bool) -> None:
        """Leave `last_page` out of list responses (older API behaviour)."""
        self.state.omit_last_page = omit


def _make_handler(state: FakeClickUpState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # header and body are separate writes: avoid 40 ms stalls

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        # --- plumbing --------------------------------------------------------------------------
        def _send(
            self, status: int, body: bytes, extra_headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-RateLimit-Limit", "100")
            self.send_header("X-RateLimit-Remaining", "99")
            self.send_header("X-RateLimit-Reset", str(int(time.time()) + 60))
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, err: str, ecode: str) -> None:
            self._send(status, _encode({"err": err, "ECODE": ecode}))

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            authorization = self.headers.get("Authorization")
            with state.lock:
                state.requests.append(RecordedRequest(method, url.path, query, authorization, body))
                fault = None
                if state.faults and state.requests_before_faults > 0:
                    state.requests_before_faults -= 1
                elif state.faults:
                    fault = state.faults.pop(0)
            if fault is not None and fault.kind == "timeout":
                time.sleep(fault.delay_s)  # the client has given up by now
                fault = None
            if fault is not None:
                self._fault(fault)
                return
            if authorization is None:
                self._error(401, "Authorization header required", "OAUTH_017")
                return
            if authorization != state.token:
                self._error(401, "Token invalid", "OAUTH_025")
                return
            self._route(method, url.path, query, body)

        def _fault(self, fault: _Fault) -> None:
            if fault.kind == "malformed_json":
                self._send(200, fault.body)
            elif fault.status == 429:
                reset = int(time.time() + fault.reset_in_s)
                body = _encode({"err": "Rate limit reached", "ECODE": "APP_002"})
                self.send_response(429)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-RateLimit-Limit", "100")
                self.send_header("X-RateLimit-Remaining", "0")
                self.send_header("X-RateLimit-Reset", str(reset))
                self.end_headers()
                self.wfile.write(body)
            else:
                self._error(fault.status, "Internal Server Error", "APP_001")

        # --- routes ----------------------------------------------------------------------------
        def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
            parts = path.removeprefix(API_PREFIX).strip("/").split("/")
            if method == "GET" and len(parts) == 3 and parts[0] == "list" and parts[2] == "task":
                self._list_tasks(parts[1], query)
            elif method == "GET" and len(parts) == 2 and parts[0] == "task":
                self._get_task(parts[1])
            elif (
                method == "POST"
                and len(parts) == 3
                and parts[:1] + parts[2:] == ["task", "comment"]
            ):
                self._post_comment(parts[1], body)
            else:
                self._error(404, "Route not found", "APP_404")

        def _list_tasks(self, list_id: str, query: dict[str, list[str]]) -> None:
            if list_id != state.list_id:
                self._error(401, "Team not authorized", "OAUTH_027")
                return

            def arg(name: str, default: str = "") -> str:
                return query.get(name, [default])[0]

            try:
                page = int(arg("page", "0"))
                updated_from = int(arg("date_updated_gt", "0"))
            except ValueError:
                self._error(400, "Invalid query", "INPUT_005")
                return
            include_closed = arg("include_closed") == "true"
            with state.lock:
                start = bisect.bisect_left(state.index, (updated_from, ""))
                keys = state.index[start:]  # ascending date_updated, date_updated >= cursor
                stored = [state.tasks[task_id] for _, task_id in keys]
            if not include_closed:
                stored = [s for s in stored if s.task.get("status", {}).get("type") != "closed"]
            if arg("order_by") == "updated":
                if arg("reverse") != "true":
                    stored.reverse()  # ClickUp's default is newest first
            else:
                stored.sort(key=lambda s: int(s.task.get("date_created") or 0), reverse=True)
            chunk = stored[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
            last_page = (page + 1) * PAGE_SIZE >= len(stored)
            tail = b"}" if state.omit_last_page else b',"last_page":' + _encode(last_page) + b"}"
            self._send(200, b'{"tasks":[' + b",".join(s.encoded for s in chunk) + b"]" + tail)

        def _get_task(self, task_id: str) -> None:
            with state.lock:
                stored = state.tasks.get(task_id)
            if stored is None:
                self._error(404, "Task not found, deleted", "ITEM_013")
                return
            self._send(200, stored.encoded)

        def _post_comment(self, task_id: str, body: bytes) -> None:
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                self._error(400, "Invalid JSON body", "INPUT_001")
                return
            text = payload.get("comment_text") if isinstance(payload, dict) else None
            if not isinstance(text, str) or not isinstance(payload.get("notify_all"), bool):
                self._error(400, "comment_text and notify_all are required", "COMM_002")
                return
            with state.lock:
                if task_id not in state.tasks:
                    missing = True
                else:
                    missing = False
                    comment_id = state.next_comment_id
                    state.next_comment_id += 1
                    now_ms = int(time.time() * 1000)
                    state.comments.setdefault(task_id, []).append(
                        {"id": str(comment_id), "comment_text": text, "date": now_ms, **payload}
                    )
            if missing:
                self._error(404, "Task not found, deleted", "ITEM_013")
                return
            response = {"id": str(comment_id), "hist_id": str(26050 + comment_id), "date": now_ms}
            self._send(200, _encode(response))

        def do_GET(self) -> None:
            self._handle_quietly("GET")

        def do_POST(self) -> None:
            self._handle_quietly("POST")

        def _handle_quietly(self, method: str) -> None:
            # The client may have timed out and left (inject_timeout).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._handle(method)

    return Handler


def make_task(
    task_id: str,
    date_updated_ms: int,
    custom_fields: list[dict[str, Any]] | None = None,
    *,
    name: str | None = None,
    status_type: str = "open",
) -> dict[str, Any]:
    """A minimal task in the GET /task shape (dates as ms strings); use the sandbox JSON files
    for full campaign forms."""
    return {
        "id": task_id,
        "custom_id": None,
        "custom_item_id": 0,
        "name": name or f"Campaign {task_id}",
        "status": {"status": "to do", "type": status_type, "orderindex": 0, "color": "#d3d3d3"},
        "date_created": str(date_updated_ms - 60_000),
        "date_updated": str(date_updated_ms),
        "date_closed": None,
        "archived": False,
        "custom_fields": custom_fields or [],
        "list": {"id": "901100200300", "name": "Campaign Intake", "access": True},
        "url": f"https://app.clickup.com/t/{task_id}",
    }
