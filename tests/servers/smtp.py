"""An aiosmtpd SMTP server on loopback, optionally STARTTLS + AUTH, delivering into Dovecot.

    with running_dovecot() as dovecot, running_smtp(deliver=deliver_into(dovecot),
                                                    certificate=make_certificate(tmp)) as smtp:
        config = smtp.smtp_config()    # SmtpConfig with the right security, login, CA context
        ...
        smtp.messages                  # every accepted message (envelope + raw bytes)

The delivery callback APPENDs each accepted message into the recipient's Dovecot INBOX, so a
test exercises a real SMTP → IMAP loop. Recipients without a Dovecot user are refused (550).
"""

from __future__ import annotations

import asyncio
import imaplib
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from negotiation_pipeline.integrations.mail.smtp import SmtpConfig
from tests.servers import free_port
from tests.servers.dovecot import DovecotServer

SMTP_USER = "agent@example.test"
SMTP_PASSWORD = "smtp-secret"

Deliver = Callable[[str, bytes], None]  # (recipient, raw message) → raise to refuse
# (stage "RCPT" or "DATA", recipient) → the server's answer to refuse with ("550 ...",
# "451 ..."), or None to go on as usual.
Answer = Callable[[str, str], str | None]


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert_file))


def make_certificate(directory: Path) -> Certificate:
    """Self-signed cert for 127.0.0.1/localhost via the openssl CLI (1 day, RSA 2048)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not found: cannot make a STARTTLS certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    authenticated_as: str | None
    tls: bool


@dataclass
class SmtpServer:
    host: str
    port: int
    user: str | None
    password: str | None
    certificate: Certificate | None
    messages: list[ReceivedMessage] = field(default_factory=list)

    def smtp_config(self, **overrides: Any) -> SmtpConfig:
        settings: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "security": "starttls" if self.certificate else "plain",
            "timeout_seconds": 10.0,
            "ssl_context": self.certificate.client_context() if self.certificate else None,
        }
        settings.update(overrides)
        return SmtpConfig(**settings)


class _Handler:
    def __init__(
        self, server: SmtpServer, deliver: Deliver | None, answer: Answer | None = None
    ) -> None:
        self._server = server
        self._deliver = deliver
        self._answer = answer
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        refusal = None if self._answer is None else self._answer("RCPT", address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        if self._answer is not None:
            for recipient in envelope.rcpt_tos:
                refusal = self._answer("DATA", recipient)
                if refusal is not None:
                    return refusal
        if self._deliver is not None:
            for recipient in envelope.rcpt_tos:
                try:
                    await asyncio.to_thread(self._deliver, recipient, raw)
                except Exception as exc:
                    return f"550 cannot deliver to {recipient}: {exc}"
        login = session.auth_data if session.authenticated else None
        with self._lock:
            self._server.messages.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    raw=raw,
                    authenticated_as=str(login) if login is not None else None,
                    tls=session.ssl is not None,
                )
            )
        return "250 Message accepted for delivery"


def _authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    return authenticate


@contextmanager
def running_smtp(
    deliver: Deliver | None = None,
    *,
    certificate: Certificate | None = None,
    user: str | None = SMTP_USER,
    password: str | None = SMTP_PASSWORD,
    smtputf8: bool = False,
    answer: Answer | None = None,
) -> Iterator[SmtpServer]:
    """aiosmtpd on a free loopback port. With a certificate, STARTTLS is required before AUTH
    and before mail; with a user, AUTH is required. `smtputf8` offers SMTPUTF8; `answer` lets
    a test refuse a recipient or a message with the reply it chooses."""
    port = free_port()
    server = SmtpServer("127.0.0.1", port, user, password, certificate)
    kwargs: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
    if certificate is not None:
        kwargs.update(tls_context=certificate.server_context(), require_starttls=True)
    if user is not None and password is not None:
        kwargs.update(
            authenticator=_authenticator(user, password),
            auth_required=True,
            auth_require_tls=certificate is not None,
        )
    handler = _Handler(server, deliver, answer)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def deliver_into(dovecot: DovecotServer) -> Deliver:
    """Delivery that APPENDs into the recipient's INBOX (the recipient must be a Dovecot user)."""

    def deliver(recipient: str, raw: bytes) -> None:
        address = recipient.strip("<>").lower()
        if address not in dovecot.passwords:
            raise LookupError(f"no mailbox for {address}")
        client = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=10)
        try:
            client.login(address, dovecot.passwords[address])
            typ, data = client.append("INBOX", None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
        finally:
            client.logout()

    return deliver


@pytest.fixture(scope="session")
def server_certificate() -> Iterator[Certificate]:
    directory = Path(tempfile.mkdtemp(prefix="smtp-cert-"))
    try:
        yield make_certificate(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def smtp_to_dovecot(
    dovecot_server: DovecotServer, server_certificate: Certificate
) -> Iterator[SmtpServer]:
    """STARTTLS + AUTH aiosmtpd delivering into the session Dovecot."""
    with running_smtp(deliver_into(dovecot_server), certificate=server_certificate) as server:
        yield server
