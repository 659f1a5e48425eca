"""A loopback HTTP server answering like OpenAI's chat-completions endpoint.

    with running_llm_fake(api_key="sk-test", model="gpt-test") as llm:
        llm.api_url                      # "http://127.0.0.1:<port>/v1" (POST /chat/completions)
        llm.answer_content('{"intent": "accept"}')     # next answer's choices[0].message.content
        llm.script(FakeReply(500, {...}), FakeReply(200, ..., delay_seconds=3))  # raw answers
        llm.requests                     # every request received (path, headers, json)

Without a scripted answer it answers `default_content` in the real response shape:
{"id": "chatcmpl-…", "object": "chat.completion", "created", "model", "choices": [{"index": 0,
"message": {"role": "assistant", "content": …, "refusal": null, "annotations": []},
"logprobs": null, "finish_reason": "stop"}], "usage": {…}, "system_fingerprint": "fp_…"}.
Requests are checked the way the service checks them: a wrong bearer key → 401
`invalid_api_key` (the message echoes a masked key, as the service does), an unknown model →
404 `model_not_found`, a body without "model"/"messages" → 400, and `response_format`
json_object without the word "json" in the messages → 400.
"""

from __future__ import annotations

import itertools
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

COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class FakeReply:
    status: int
    body: str | dict[str, Any]
    delay_seconds: float = 0.0  # wait before answering (past the client's timeout)
    content_type: str | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    json: Any
    raw: bytes


def error_body(message: str, kind: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _masked(key: str) -> str:
    return f"{key[:3]}***{key[-3:]}" if len(key) > 6 else "***"


@dataclass
class LlmFake:
    host: str
    port: int
    api_key: str
    model: str
    default_content: str = '{"intent": "unclear"}'
    requests: list[ReceivedRequest] = field(default_factory=list)
    _scripted: deque[FakeReply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def script(self, *replies: FakeReply) -> None:
        with self._lock:
            self._scripted.extend(replies)

    def answer_content(self, *contents: str) -> None:
        """Queue successful completions whose message content is each string, in order."""
        self.script(*(FakeReply(200, self.completion(content)) for content in contents))

    def completion(self, content: str | None, finish_reason: str = "stop") -> dict[str, Any]:
        with self._lock:
            number = next(self._ids)
        return {
            "id": f"chatcmpl-fake{number:06d}",
            "object": "chat.completion",
            "created": 1_767_000_000 + number,
            "model": f"{self.model}-2025-01-01",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 180, "completion_tokens": 6, "total_tokens": 186},
            "service_tier": "default",
            "system_fingerprint": "fp_fake0001",
        }

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> FakeReply:
        try:
            payload: Any = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        with self._lock:
            self.requests.append(ReceivedRequest(path, headers, payload, raw))
            scripted = self._scripted.popleft() if self._scripted else None
        if scripted is not None:
            return scripted
        return self._checked(path, headers, payload)

    def _checked(self, path: str, headers: dict[str, str], payload: Any) -> FakeReply:
        if path != COMPLETIONS_PATH:
            message = f"Invalid URL (POST {path})"
            return FakeReply(404, error_body(message, "invalid_request_error", None))
        authorization = headers.get("authorization", "")
        if authorization != f"Bearer {self.api_key}":
            given = authorization.removeprefix("Bearer ")
            message = f"Incorrect API key provided: {_masked(given)}."
            return FakeReply(401, error_body(message, "invalid_request_error", "invalid_api_key"))
        if not isinstance(payload, dict) or "model" not in payload or "messages" not in payload:
            message = "you must provide a model parameter and messages"
            return FakeReply(400, error_body(message, "invalid_request_error", None))
        if payload["model"] != self.model:
            message = (
                f"The model `{payload['model']}` does not exist or you do not have access to it."
            )
            return FakeReply(404, error_body(message, "invalid_request_error", "model_not_found"))
        if (payload.get("response_format") or {}).get("type") == "json_object":
            texts = " ".join(str(m.get("content", "")) for m in payload["messages"])
            if "json" not in texts.lower():
                message = (
                    "'messages' must contain the word 'json' in some form, to use "
                    "'response_format' of type 'json_object'."
                )
                return FakeReply(
                    400, error_body(message, "invalid_request_error", None, "messages")
                )
        return FakeReply(200, self.completion(self.default_content))


def _handler_for(fake: LlmFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            reply = fake.answer(self.path, headers, raw)
            if isinstance(reply.body, dict):
                body = json.dumps(reply.body).encode()
                content_type = "application/json"
            else:
                body = reply.body.encode()
                content_type = "text/html; charset=utf-8"
            if reply.delay_seconds:
                time.sleep(reply.delay_seconds)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type or content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-request-id", f"req_fake{len(fake.requests):04d}")
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left (delay_seconds)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_llm_fake(
    api_key: str = "sk-test-secret-key-0123456789", model: str = "gpt-test-mini"
) -> Iterator[LlmFake]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    fake = LlmFake("127.0.0.1", server.server_address[1], api_key, model)
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
def llm_fake() -> Iterator[LlmFake]:
    with running_llm_fake() as fake:
        yield fake
