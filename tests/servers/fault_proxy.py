"""A loopback TCP proxy that strikes once at a chosen point of an SMTP or IMAP conversation.

    with FaultProxy("127.0.0.1", smtp.port, "smtp") as proxy:
        proxy.arm(Fault("data", "cut"))               # or "kill" with proxy.target_pid = pid
        config = replace(smtp.smtp_config(), port=proxy.port)

Points (each counted over every connection through the proxy; `occurrence` picks which one):
- smtp "data":        the message went out but its end ("\\r\\n.\\r\\n") is held back: the
                       server never accepts it;
- smtp "before_250":  the server accepted the message, its answer is held back: the client
                       never learns (the case SMTP cannot settle);
- smtp "after_250":   the client answered the 250 and says QUIT: the strike replaces the QUIT;
- imap "append":      an APPEND command is held back (the server stores nothing);
- imap "append_answered": the server stored the APPEND, its tagged OK is held back;
- imap "fetch":       a UID FETCH command is held back.

Actions: "cut" closes both sides of the connection; "kill" SIGKILLs `target_pid` first (the
client process dies exactly there), then cuts. Strikes once per `arm()`; then the proxy only
forwards.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

Point = Literal["data", "before_250", "after_250", "append", "append_answered", "fetch"]
Action = Literal["cut", "kill"]
SMTP_POINTS: tuple[Point, ...] = ("data", "before_250", "after_250")
IMAP_POINTS: tuple[Point, ...] = ("append", "append_answered", "fetch")

_END_OF_DATA = b"\r\n.\r\n"
_APPEND_RE = re.compile(rb"^(\S+) APPEND ", re.IGNORECASE | re.MULTILINE)
_FETCH_RE = re.compile(rb"^\S+ UID FETCH ", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Fault:
    point: Point
    action: Action
    occurrence: int = 1


@dataclass
class _Conversation:
    """What one connection has said so far (only what the points need)."""

    data_asked: bool = False  # DATA sent, waiting for 354
    in_data: bool = False  # between 354 and the end of the data
    awaiting_answer: bool = False  # the data ended; the next server line is its answer
    answered: bool = False  # a message was accepted in this session
    append_tag: bytes | None = None
    tail: bytes = b""  # last bytes of client data (an end-of-data may span two chunks)


@dataclass
class FaultProxy:
    upstream_host: str
    upstream_port: int
    protocol: Literal["smtp", "imap"]
    host: str = "127.0.0.1"
    port: int = 0
    target_pid: int | None = None
    struck: list[Fault] = field(default_factory=list)
    _fault: Fault | None = None
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket | None = None
    _stopping: bool = False

    def __enter__(self) -> FaultProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        if self._listener is not None:
            self._listener.close()

    def arm(self, fault: Fault | None) -> None:
        with self._lock:
            self._fault, self._seen = fault, 0

    # --- plumbing ---------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.upstream_host, self.upstream_port))
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            talk = _Conversation()
            threading.Thread(target=self._pump, args=(pair, talk, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, talk, False), daemon=True).start()

    def _pump(
        self, pair: tuple[socket.socket, socket.socket], talk: _Conversation, from_client: bool
    ) -> None:
        source, target = pair if from_client else pair[::-1]
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                _close(pair)
                return
            point = self._point_in(chunk, talk, from_client)
            if point is not None and self._strike_now(point):
                self._strike(pair)
                return
            try:
                target.sendall(chunk)
            except OSError:
                _close(pair)
                return

    def _strike_now(self, point: Point) -> bool:
        with self._lock:
            fault = self._fault
            if fault is None or fault.point != point:
                return False
            self._seen += 1
            if self._seen != fault.occurrence:
                return False
            self._fault = None
            self.struck.append(fault)
            return True

    def _strike(self, pair: tuple[socket.socket, socket.socket]) -> None:
        fault = self.struck[-1]
        if fault.action == "kill":
            deadline = time.monotonic() + 5
            while self.target_pid is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if self.target_pid is not None:
                os.kill(self.target_pid, signal.SIGKILL)
        _close(pair)

    # --- where are we in the conversation ---------------------------------------------------
    def _point_in(self, chunk: bytes, talk: _Conversation, from_client: bool) -> Point | None:
        if self.protocol == "smtp":
            return _smtp_point(chunk, talk, from_client)
        return _imap_point(chunk, talk, from_client)


def _smtp_point(chunk: bytes, talk: _Conversation, from_client: bool) -> Point | None:
    if from_client:
        if talk.in_data:
            window = talk.tail + chunk
            talk.tail = window[-8:]
            if _END_OF_DATA in window:
                talk.in_data, talk.awaiting_answer = False, True
                return "data"
            return None
        command = chunk.strip().upper()
        if command == b"DATA":
            talk.data_asked = True
        elif command == b"QUIT" and talk.answered:
            return "after_250"
        return None
    if talk.data_asked and chunk.startswith(b"354"):
        talk.data_asked, talk.in_data, talk.tail = False, True, b"\r\n"
    elif talk.awaiting_answer:
        talk.awaiting_answer = False
        talk.answered = chunk.startswith(b"250")
        return "before_250"
    return None


def _imap_point(chunk: bytes, talk: _Conversation, from_client: bool) -> Point | None:
    if from_client:
        found = _APPEND_RE.search(chunk)
        if found is not None:
            talk.append_tag = found.group(1)
            return "append"
        return "fetch" if _FETCH_RE.search(chunk) else None
    if talk.append_tag is not None and re.search(
        rb"(?m)^" + re.escape(talk.append_tag) + rb" OK", chunk
    ):
        talk.append_tag = None
        return "append_answered"
    return None


def _close(pair: tuple[socket.socket, socket.socket]) -> None:
    for sock in pair:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
