"""The agent's mailbox as Dagster resources: the base with the sender identity and message
limits, the sandbox Maildir, and IMAP+SMTP (passwords bound as `dg.EnvVar`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from negotiation_pipeline.integrations.mail import (
    ImapConfig,
    ImapReader,
    ImapSmtpMailbox,
    Mailbox,
    MaildirMailbox,
    MessageLimits,
    SenderIdentity,
    SmtpConfig,
    SmtpSender,
)

SANDBOX_AGENT_EMAIL = "partnerships@northbeam.test"
SANDBOX_AGENT_NAME = "Alex Morgan"
DEFAULT_MAIL_BATCH = 100


class MailboxResource(dg.ConfigurableResource):
    """The agent's mailbox. Bind a subclass: the sandbox Maildir or IMAP+SMTP."""

    agent_email: str = Field(description="our From address (AGENT_EMAIL)")
    agent_name: str = Field(default="", description="our display name (AGENT_NAME)")
    batch_limit: int = Field(
        default=DEFAULT_MAIL_BATCH, gt=0, description="most replies one inbox_sensor run handles"
    )
    max_reply_kb: int = Field(
        default=256, gt=0, description="text of a reply kept for reading and storage (KB)"
    )
    max_mime_parts: int = Field(default=100, gt=0, description="MIME parts walked per reply")

    @property
    def sender(self) -> SenderIdentity:
        return SenderIdentity(self.agent_email, self.agent_name)

    @property
    def message_limits(self) -> MessageLimits:
        chars = self.max_reply_kb * 1024
        # The bytes read cover the text in any common encoding (base64, HTML) with room.
        return MessageLimits(
            max_body_chars=chars, max_parts=self.max_mime_parts, max_raw_bytes=8 * chars
        )

    @property
    def is_sandbox(self) -> bool:
        return False

    @property
    def mailbox_name(self) -> str:
        """Key of this mailbox's cursor in the store (another account gets its own cursor)."""
        raise NotImplementedError(f"{type(self).__name__} has no mailbox name")

    @contextmanager
    def open(self) -> Iterator[Mailbox]:
        raise NotImplementedError(f"{type(self).__name__} does not open a mailbox")
        yield  # pragma: no cover


class MaildirMailboxResource(MailboxResource):
    """Sandbox mail: an inbox and a sent Maildir under one folder; nothing leaves the machine."""

    root: str = Field(description="Maildir root (NEGOTIATION_MAILDIR, default next to the DB)")

    @property
    def is_sandbox(self) -> bool:
        return True

    @property
    def mailbox_name(self) -> str:
        return "sandbox-maildir"

    @contextmanager
    def open(self) -> Iterator[Mailbox]:
        yield self.open_maildir()

    def open_maildir(self) -> MaildirMailbox:
        """The concrete sandbox mailbox (the simulated influencers read its sent folder)."""
        root = Path(self.root)
        root.mkdir(parents=True, exist_ok=True)  # Maildir(create=True) makes only the leaf
        return MaildirMailbox(root, self.sender, self.message_limits)


class ImapSmtpMailboxResource(MailboxResource):
    """Real mail: replies read over IMAP (BODY.PEEK, UID cursor), our mail sent over SMTP."""

    imap_host: str
    imap_port: int = 993
    imap_user: str = ""
    imap_password: str = Field(default="", description="bind dg.EnvVar('IMAP_PASSWORD')")
    imap_security: str = "ssl"
    imap_mailbox: str = "INBOX"
    imap_sent_folder: str = "Sent"
    smtp_host: str
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = Field(default="", description="bind dg.EnvVar('SMTP_PASSWORD')")
    smtp_security: str = "starttls"
    timeout_seconds: float = Field(default=30.0, gt=0)

    @property
    def mailbox_name(self) -> str:
        return f"imap://{self.imap_user}@{self.imap_host}:{self.imap_port}/{self.imap_mailbox}"

    @contextmanager
    def open(self) -> Iterator[Mailbox]:
        imap = ImapConfig(
            host=self.imap_host,
            port=self.imap_port,
            user=self.imap_user,
            password=self.imap_password,
            security=_choice(self.imap_security, ("ssl", "starttls", "plain"), "imap_security"),  # type: ignore[arg-type]
            mailbox=self.imap_mailbox,
            sent_folder=self.imap_sent_folder,
            timeout_seconds=self.timeout_seconds,
            limits=self.message_limits,
        )
        smtp = SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            user=self.smtp_user or None,
            password=self.smtp_password or None,
            security=_choice(self.smtp_security, ("starttls", "ssl", "plain"), "smtp_security"),  # type: ignore[arg-type]
            timeout_seconds=self.timeout_seconds,
        )
        yield ImapSmtpMailbox(ImapReader(imap), SmtpSender(smtp, self.sender))


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value
