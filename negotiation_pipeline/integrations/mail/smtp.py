"""Sending with smtplib: STARTTLS (port 587 style), implicit TLS (465) or plain (loopback tests)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from negotiation_pipeline.integrations.mail.base import (
    MailError,
    OutgoingEmail,
    SenderIdentity,
    render_email,
)

SmtpSecurity = Literal["starttls", "ssl", "plain"]


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


class SmtpSender:
    """Sends OutgoingEmail over SMTP; one connection per send (a sensor tick sends few mails)."""

    def __init__(self, config: SmtpConfig, sender: SenderIdentity) -> None:
        self.config = config
        self.sender = sender
        self._context: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        # Built once: create_default_context() loads the system CA store (~50 ms), which per
        # send made delivery of 1,000 emails take about a minute longer.
        if self._context is None:
            self._context = self.config.ssl_context or ssl.create_default_context()
        return self._context

    def send(self, email_: OutgoingEmail, date: datetime | None = None) -> bytes:
        """Send; return the exact bytes sent (so a copy can be filed in Sent)."""
        raw = render_email(email_, self.sender, date)
        self.send_raw(raw, email_.to_addr)
        return raw

    def send_raw(self, raw: bytes, to_addr: str) -> None:
        where = f"SMTP {self.config.host}:{self.config.port}"
        try:
            with self._connect() as client:
                refused = client.sendmail(self.sender.address, [to_addr], raw)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"{where}: login refused for user {self.config.user!r}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"{where}: recipient refused: {to_addr}") from exc
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            answer = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            raise MailError(f"{where}: server answered {exc.smtp_code} {answer}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{where}: {type(exc).__name__}: {exc}") from exc
        if refused:
            raise MailError(f"{where}: recipient refused: {refused}")

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        client: smtplib.SMTP
        if config.security == "ssl":
            client = smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=config.timeout_seconds,
                context=self._tls_context(),
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        try:
            client.ehlo()
            if config.security == "starttls":
                client.starttls(context=self._tls_context())
                client.ehlo()
            if config.user:
                client.login(config.user, config.password or "")
        except BaseException:
            client.close()
            raise
        return client
