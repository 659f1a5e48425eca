"""A loopback HTTP server answering exactly like Slack.

    with running_slack_fake(token="xoxb-test", channels={"C_DEALS", "C_ESC"}) as slack:
        slack.webhook_url          # POST JSON: 200 "ok" / 400 "invalid_payload"
        slack.api_base             # POST /chat.postMessage: {"ok": true, "channel", "ts", ...}
        slack.script("/chat.postMessage", FakeReply(429, "", {"Retry-After": "2"}))  # next answer
        slack.requests             # every request received (path, headers, json)
        FakeReply(200, "ok", delay_seconds=2)               # answer late (client timeout)
        FakeReply(200, '{"ok": tr', content_type="application/json")  # malformed JSON

Default answers follow Slack: a webhook body without "text" or "blocks" → 400 invalid_payload;
chat.postMessage with a wrong token → {"ok": false, "error": "invalid_auth"}, with an unknown
channel → {"ok": false, "error": "channel_not_found"}. Scripted replies are used first, in order.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

WEBHOOK_PATH = "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"


@dataclass(frozen=True)
class FakeReply:
    status: int
    body: str | dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0  # wait before answering (past the client's timeout)
    content_type: str | None = None  # overrides the type chosen from the body


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class SlackFake:
    host: str
    port: int
    token: str
    channels: frozenset[str]
    requests: list[ReceivedRequest] = field(default_factory=list)
    _scripted: dict[str, deque[FakeReply]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts_counter: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    @property
    def api_base(self) -> str:
        return self.base_url + "/api"

    def script(self, path: str, *replies: FakeReply) -> None:
        """Queue answers for a path ending ("/chat.postMessage" or "webhook")."""
        with self._lock:
            self._scripted.setdefault(path, deque()).extend(replies)

    def _next_scripted(self, path: str) -> FakeReply | None:
        key = "webhook" if path == WEBHOOK_PATH else path.removeprefix("/api")
        with self._lock:
            queue = self._scripted.get(key)
            return queue.popleft() if queue else None

    def answer(self, path: str, headers: dict[str, str], payload: Any) -> FakeReply:
        with self._lock:
            self.requests.append(ReceivedRequest(path, headers, payload))
        scripted = self._next_scripted(path)
        if scripted is not None:
            return scripted
        if path == WEBHOOK_PATH:
            return self._webhook(payload)
        if path == "/api/chat.postMessage":
            return self._post_message(headers, payload)
        return FakeReply(404, "not_found")

    def _webhook(self, payload: Any) -> FakeReply:
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return FakeReply(400, "invalid_payload")
        return FakeReply(200, "ok")

    def _post_message(self, headers: dict[str, str], payload: Any) -> FakeReply:
        if headers.get("authorization") != f"Bearer {self.token}":
            return FakeReply(200, {"ok": False, "error": "invalid_auth"})
        if not isinstance(payload, dict):
            return FakeReply(200, {"ok": False, "error": "invalid_arguments"})
        channel = payload.get("channel")
        if channel not in self.channels:
            return FakeReply(200, {"ok": False, "error": "channel_not_found"})
        if not (payload.get("text") or payload.get("blocks")):
            return FakeReply(200, {"ok": False, "error": "no_text"})
        with self._lock:
            self._ts_counter += 1
            ts = f"1795400000.{self._ts_counter:06d}"
        message = {"type": "message", "text": payload.get("text", ""), "ts": ts, "bot_id": "B01"}
        if payload.get("blocks"):
            message["blocks"] = payload["blocks"]
        return FakeReply(200, {"ok": True, "channel": channel, "ts": ts, "message": message})


def _handler_for(fake: SlackFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                payload: Any = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            headers = {key.lower(): value for key, value in self.headers.items()}
            reply = fake.answer(self.path, headers, payload)
            if isinstance(reply.body, dict):
                body = json.dumps(reply.body).encode()
                content_type = "application/json; charset=utf-8"
            else:
                body = reply.body.encode()
                content_type = "text/plain;charset=utf-8"
            if reply.delay_seconds:
                time.sleep(reply.delay_seconds)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type or content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left (delay_seconds)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def running_slack_fake(
    token: str = "xoxb-test-token", channels: set[str] | frozenset[str] = frozenset()
) -> Iterator[SlackFake]:
    known = frozenset(channels or {"C_AGREEMENTS", "C_ESCALATIONS", "C_ERRORS"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = SlackFake("127.0.0.1", server.server_address[1], token, known)
    server.RequestHandlerClass = _handler_for(fake)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def slack_fake() -> Iterator[SlackFake]:
    with running_slack_fake() as fake:
        yield fake
