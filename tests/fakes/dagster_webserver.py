"""A scripted fake of a Dagster webserver on 127.0.0.1: `GET /server_info` and `POST /graphql`.

Answers are queued per GraphQL operation name (`query BackfillStatus(...)` → "BackfillStatus");
the last queued answer repeats, so one answer serves every poll. The shapes copy what a real
dagster-webserver 1.13.27 returned (captured with `dagster dev`): an error-union member with its
`__typename`, a `PythonError` sent with HTTP 500 and a normal body, GraphQL validation errors
with HTTP 400 and `"data": null`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_OPERATION = re.compile(r"\b(?:query|mutation)\s+(\w+)")


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


def data_answer(field_name: str, value: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps({"data": {field_name: value}}).encode())


def python_error(message: str, class_name: str = "Exception") -> dict[str, Any]:
    return {"__typename": "PythonError", "message": message, "className": class_name, "causes": []}


@dataclass
class FakeDagsterWebserver:
    url: str = ""
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)  # GraphQL bodies received
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, operation: str, *answers: Answer) -> None:
        with self.lock:
            self.answers.setdefault(operation, []).extend(answers)

    def next_answer(self, operation: str) -> Answer:
        with self.lock:
            queue = self.answers.get(operation)
            if not queue:
                return Answer(400, json.dumps({"data": None, "errors": [
                    {"message": f"fake has no answer for {operation}"}
                ]}).encode())  # fmt: skip
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def operations(self) -> list[str]:
        return [_operation_name(r) for r in self.requests]

    def variables_of(self, operation: str) -> list[dict[str, Any]]:
        return [r.get("variables") or {} for r in self.requests if _operation_name(r) == operation]


def _operation_name(body: dict[str, Any]) -> str:
    match = _OPERATION.search(str(body.get("query", "")))
    return match.group(1) if match else "?"


def _handler(fake: FakeDagsterWebserver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def do_GET(self) -> None:
            if self.path == "/server_info":
                self._send(Answer(200, b'{"dagster_webserver_version":"1.13.27"}'))
            else:
                self._send(Answer(404, b"not found", "text/plain"))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            with fake.lock:
                fake.requests.append(body)
            self._send(fake.next_answer(_operation_name(body)))

    return Handler


@contextmanager
def running_fake_webserver() -> Iterator[FakeDagsterWebserver]:
    fake = FakeDagsterWebserver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
