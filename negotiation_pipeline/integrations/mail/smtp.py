"""Sending with smtplib: STARTTLS (port 587 style), implicit TLS (465) or plain (loopback tests).

Every failure is a `DeliveryError` that says whether this email can ever go out as it is
(`permanent`: a 5xx answer to its recipient or its data, an address no server can take) or a
later attempt may work (4xx, connection problems), and whether the server itself was unusable
(`transport`: connect, TLS, login, 421), so the caller stops trying other emails for now.

The session is run step by step (MAIL, RCPT, DATA) instead of through `sendmail`, for two
reasons. The caller's `on_accepted` runs the moment the server answered 250 to the data, before
QUIT and before anything else can fail, so "accepted" is recorded as early as it can be. And a
connection lost after the data went out but before the answer is told apart from one lost
earlier: that message may have been delivered (`maybe_delivered`). SMTP has no way to ask the
server afterwards, so such an email is retried and may arrive twice; this is the one duplicate
the protocol leaves open.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from negotiation_pipeline.integrations.mail.base import (
    DeliveryError,
    MailError,
    OutgoingEmail,
    SenderIdentity,
    render_email,
    wire_address,
)

SmtpSecurity = Literal["starttls", "ssl", "plain"]

logger = logging.getLogger(__name__)
_ANSWER_CHARS = 300  # of a server's answer quoted in an error
_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str | None = None  # no user: no AUTH
    password: str | None = field(default=None, repr=False)
    security: SmtpSecurity = "starttls"
    timeout_seconds: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpConfig:
        """From SMTP_HOST/PORT/USER/PASSWORD (+ optional SMTP_SECURITY); 465 implies ssl."""
        host = env.get("SMTP_HOST", "").strip()
        if not host:
            raise MailError("SMTP_HOST is not set")
        port = _port(env.get("SMTP_PORT"), default=587, name="SMTP_PORT")
        security = env.get("SMTP_SECURITY", "ssl" if port == 465 else "starttls").strip().lower()
        if security not in ("starttls", "ssl", "plain"):
            raise MailError(f"SMTP_SECURITY must be starttls, ssl or plain, got {security!r}")
        return cls(
            host=host,
            port=port,
            user=env.get("SMTP_USER") or None,
            password=env.get("SMTP_PASSWORD") or None,
            security=security,  # type: ignore[arg-type]
        )


def _port(value: str | None, *, default: int, name: str) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise MailError(f"{name} must be a port number, got {value!r}") from exc


def _answer(code: int, text: bytes | str) -> str:
    """A server's answer as one bounded line (it is outside data: it goes into logs, Slack)."""
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    line = " ".join(decoded.split())
    if len(line) > _ANSWER_CHARS:
        line = line[:_ANSWER_CHARS] + "…"
    return f"{code} {line}".strip()


# Answers about the session, not the email: the server is closing (421), or wants a login or
# TLS first (530, 535, 538). Every email would get the same answer, and it is fixed in the mail
# settings, so it is never a reason to give an email up.
_SESSION_CODES = frozenset({421, 530, 535, 538})


def _by_code(
    where: str, what: str, code: int, text: bytes | str, *, about_email: bool = True
) -> DeliveryError:
    """5xx about this email: permanent; other 4xx: try again later; an answer about the session
    (or to MAIL FROM, our own address): the server is unusable for now (transport)."""
    message = f"{where}: {what}: {_answer(code, text)}"
    if code in _SESSION_CODES or not about_email:
        return DeliveryError(message, permanent=False, transport=True)
    return DeliveryError(message, permanent=500 <= code < 600)


def _transport(where: str, what: str, exc: BaseException) -> DeliveryError:
    message = f"{where}: {what}: {type(exc).__name__}: {exc}"
    return DeliveryError(message, permanent=False, transport=True)


class SmtpSender:
    """Sends OutgoingEmail over SMTP; one connection per send (a sensor tick sends few mails)."""

    def __init__(self, config: SmtpConfig, sender: SenderIdentity) -> None:
        self.config = config
        self.sender = sender
        self._context: ssl.SSLContext | None = None

    @property
    def where(self) -> str:
        return f"SMTP {self.config.host}:{self.config.port}"

    def _tls_context(self) -> ssl.SSLContext:
        # Built once: create_default_context() loads the system CA store (~50 ms), which per
        # send made delivery of 1,000 emails take about a minute longer.
        if self._context is None:
            self._context = self.config.ssl_context or ssl.create_default_context()
        return self._context

    def send(
        self,
        email_: OutgoingEmail,
        date: datetime | None = None,
        *,
        on_accepted: Callable[[], None] | None = None,
    ) -> bytes:
        """Send; return the exact bytes sent (so a copy can be filed in Sent). `on_accepted`
        runs as soon as the server accepted the message, inside the session."""
        utf8 = wire_address(self.sender.address)[1] or wire_address(email_.to_addr)[1]
        raw = render_email(email_, self.sender, date)
        self._send(raw, email_.to_addr, utf8, on_accepted)
        return raw

    def send_raw(self, raw: bytes, to_addr: str) -> None:
        """Send bytes rendered elsewhere (tests, simulated influencers)."""
        utf8 = wire_address(self.sender.address)[1] or wire_address(to_addr)[1]
        self._send(raw, to_addr, utf8, None)

    def _send(
        self, raw: bytes, to_addr: str, utf8: bool, on_accepted: Callable[[], None] | None
    ) -> None:
        client = self._connect()
        try:
            self._transmit(client, raw, to_addr, utf8)
            if on_accepted is not None:
                on_accepted()
        except BaseException:
            client.close()
            raise
        self._quit(client)

    def _transmit(self, client: smtplib.SMTP, raw: bytes, to_addr: str, utf8: bool) -> None:
        where = self.where
        if utf8 and not client.has_extn("smtputf8"):
            raise DeliveryError(
                f"{where}: the server does not offer SMTPUTF8, so the address {to_addr!r} "
                "(non-ASCII) cannot be sent there",
                permanent=True,
            )
        options = ["SMTPUTF8"] if utf8 else []
        if client.has_extn("8bitmime") and not raw.isascii():
            options.append("BODY=8BITMIME")
        sender = wire_address(self.sender.address)[0]
        recipient = wire_address(to_addr)[0]
        try:
            code, text = client.mail(sender, options)
            if code != 250:
                raise _by_code(where, f"sender {sender} refused", code, text, about_email=False)
            code, text = client.rcpt(recipient)
            if code not in (250, 251):
                raise _by_code(where, f"recipient {recipient} refused", code, text)
            code, text = client.docmd("DATA")
            if code != 354:
                raise _by_code(where, "DATA refused", code, text)
        except (smtplib.SMTPException, OSError) as exc:
            if isinstance(exc, DeliveryError):
                raise
            raise _transport(where, "connection lost before the message was sent", exc) from exc
        self._send_data(client, raw)

    def _send_data(self, client: smtplib.SMTP, raw: bytes) -> None:
        where = self.where
        data = _LEADING_DOT.sub(b"..", raw)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        try:
            client.send(data + b".\r\n")
        except (smtplib.SMTPException, OSError) as exc:
            # Cut while the data was still going out: the server never saw its end.
            raise _transport(where, "connection lost while sending the message", exc) from exc
        try:
            code, text = client.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"{where}: connection lost after the message was sent, before the server "
                f"answered (it may have been delivered): {type(exc).__name__}: {exc}",
                permanent=False,
                maybe_delivered=True,
            ) from exc
        if code != 250:
            raise _by_code(where, "message refused", code, text)

    def _quit(self, client: smtplib.SMTP) -> None:
        # The message is accepted: nothing QUIT does (or fails to do) changes that.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError) as exc:
            logger.info("%s: QUIT after an accepted message failed (%s)", self.where, exc)
        finally:
            client.close()

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        where = self.where
        client: smtplib.SMTP
        try:
            if config.security == "ssl":
                client = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    timeout=config.timeout_seconds,
                    context=self._tls_context(),
                )
            else:
                client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        except smtplib.SMTPConnectError as exc:
            what = "connection refused by the server"
            raise _by_code(where, what, exc.smtp_code, exc.smtp_error, about_email=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise _transport(where, "cannot connect", exc) from exc
        try:
            self._start_session(client)
        except BaseException:
            client.close()
            raise
        return client

    def _start_session(self, client: smtplib.SMTP) -> None:
        config = self.config
        where = self.where
        try:
            client.ehlo()
            if config.security == "starttls":
                client.starttls(context=self._tls_context())
                client.ehlo()
            if config.user:
                client.login(config.user, config.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{where}: login refused for user {config.user!r}: "
                f"{_answer(exc.smtp_code, exc.smtp_error)}",
                permanent=False,
                transport=True,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            what = "the server does not support what the settings ask"
            raise _transport(where, what, exc) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{where}: session refused: {_answer(exc.smtp_code, exc.smtp_error)}",
                permanent=False,
                transport=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise _transport(where, "session setup failed", exc) from exc
