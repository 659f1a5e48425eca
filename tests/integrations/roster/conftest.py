"""A loopback HTTPS roster server (certificate from a throwaway CA, trustme) with the routes the
source tests need: a roster, redirects (also to private and plain-http targets), oversized,
compressed, slow, HTML and binary bodies. Host names are resolved by a test resolver to
loopback addresses, so nothing ever leaves the machine."""

from __future__ import annotations

import gzip
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from negotiation_pipeline.integrations.roster import AccessRules
from negotiation_pipeline.integrations.roster.policy import IPAddress, public_only
from negotiation_pipeline.sandbox.paths import SANDBOX_ROSTER

SANDBOX_ROSTER = SANDBOX_ROSTER
PUBLIC_NAME = "roster.test"  # what the test resolver maps to the server's loopback address


@dataclass
class RosterServer:
    base_url: str  # https://roster.test:PORT
    port: int
    requests: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    ca: trustme.CA | None = None

    def rules(self, answers: dict[str, list[str]] | None = None) -> AccessRules:
        """Campaign rules that treat 127.0.0.1 as public (and nothing else), resolve the test
        names through `answers`, and trust the throwaway CA."""
        table = {PUBLIC_NAME: ["127.0.0.1"], **(answers or {})}

        def resolver(host: str, port: int) -> list[str]:
            self.resolved.append(host)
            if host not in table:
                raise OSError(f"test resolver: unknown host {host}")
            return table[host]

        assert self.ca is not None
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return AccessRules.campaign(
            address_policy=loopback_one_is_public, resolver=resolver, ssl_context=context
        )


def loopback_one_is_public(ip: IPAddress) -> str | None:
    """The test's stand-in for "public": exactly 127.0.0.1; the default policy for the rest."""
    return None if str(ip) == "127.0.0.1" else public_only(ip)


def _handler(server_state: RosterServer) -> type[BaseHTTPRequestHandler]:
    roster = SANDBOX_ROSTER.read_bytes()
    bomb = gzip.compress(b"name,email\n" + b"a" * (8 * 1024 * 1024))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: bytes, content_type: str = "text/csv", **extra: str):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, location: str) -> None:
            self._reply(302, b"", "", Location=location)

        def do_GET(self) -> None:
            server_state.requests.append(self.path)
            path = self.path.split("?", 1)[0]
            port = server_state.port
            routes = {
                "/roster.csv": lambda: self._reply(200, roster, "text/csv; charset=utf-8"),
                "/export": lambda: self._redirect("/roster.csv"),
                "/to-private": lambda: self._redirect("https://10.0.0.7/roster.csv"),
                "/to-metadata": lambda: self._redirect("https://169.254.169.254/latest/"),
                "/to-http": lambda: self._redirect(f"http://{PUBLIC_NAME}:{port}/roster.csv"),
                "/to-localhost": lambda: self._redirect(f"https://localhost:{port}/roster.csv"),
                "/to-rebound": lambda: self._redirect(f"https://rebound.test:{port}/roster.csv"),
                "/loop": lambda: self._redirect("/loop"),
                "/html": lambda: self._reply(200, b"<html>Sign in</html>", "text/html"),
                "/binary": lambda: self._reply(
                    200, b"name,email\x00\x01\x02", "application/octet-stream"
                ),
                "/big": lambda: self._reply(200, b"a" * (6 * 1024 * 1024)),
                "/bomb": lambda: self._reply(200, bomb, "text/csv", Content_Encoding="gzip"),
            }
            if path == "/big-unannounced":
                self._stream_without_length()
            elif path == "/slow":
                self._trickle()
            elif path in routes:
                routes[path]()
            else:
                self._reply(404, b"not found", "text/plain")

        def _stream_without_length(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"a" * 65536)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                return
            self.close_connection = True

        def _trickle(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                return

    return Handler


@pytest.fixture
def roster_server() -> Iterator[RosterServer]:
    ca = trustme.CA()
    certificate = ca.issue_cert(PUBLIC_NAME, "rebound.test", "localhost", "127.0.0.1")
    state = RosterServer(base_url="", port=0, ca=ca)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    state.base_url = f"https://{PUBLIC_NAME}:{state.port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
