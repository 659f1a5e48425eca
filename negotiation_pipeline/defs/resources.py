"""Dagster resources of the campaign pipeline: thin wrappers that open the real parts.

Each resource only holds configuration (paths, URLs, the ClickUp token as `dg.EnvVar`) and opens
the integration object per use, so Dagster can copy and rebind it freely and nothing is shared
across runs. Resources are bound in `negotiation_pipeline/definitions.py` and nowhere else.
Secrets (ClickUp token, IMAP/SMTP passwords, Slack webhook URL and bot token) are bound as
`dg.EnvVar`, so they are resolved at run time and never shown in the UI or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from negotiation_pipeline.integrations.clickup.client import (
    DEFAULT_CLICKUP_API_URL,
    CampaignTaskSource,
    ClickUpClient,
)
from negotiation_pipeline.integrations.clickup.sandbox import SandboxTaskSource
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
from negotiation_pipeline.integrations.resilience import configure_error_notifier
from negotiation_pipeline.integrations.roster.reader import RosterRow, read_roster
from negotiation_pipeline.integrations.slack import (
    BotSlack,
    LogSlack,
    SlackChannel,
    SlackError,
    SlackMessage,
    SlackNotifier,
    WebhookSlack,
    api_error,
)
from negotiation_pipeline.integrations.slack.client import DEFAULT_API_BASE
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.sqlite import open_store

DEFAULT_PAGES_PER_TICK = 5


class NegotiationStoreResource(dg.ConfigurableResource):
    """The business store (SQLite file or PostgreSQL URL). Assets never open a database
    connection themselves."""

    db_path: str = Field(
        description="SQLite file or postgresql:// URL of the business store (env NEGOTIATION_DB)"
    )
    message_id_secret: str = Field(
        default="",
        description="key of our Message-IDs; bind dg.EnvVar('NEGOTIATION_MESSAGE_ID_SECRET'), "
        "or leave empty for the key stored in the business store",
    )

    @contextmanager
    def open(self) -> Iterator[NegotiationStore]:
        store = open_store(self.db_path, message_id_secret=self.message_id_secret or None)
        try:
            yield store
        finally:
            store.close()


class CampaignTaskSourceResource(dg.ConfigurableResource):
    """Where campaign tasks come from. Bind a subclass: ClickUp or the sandbox folder."""

    pages_per_tick: int = Field(
        default=DEFAULT_PAGES_PER_TICK,
        gt=0,
        description="ClickUp list pages (100 tasks each) one sensor tick may read",
    )

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        raise NotImplementedError(f"{type(self).__name__} does not open a task source")
        yield  # pragma: no cover


class ClickUpTaskSourceResource(CampaignTaskSourceResource):
    """The real ClickUp List, over the v2 REST API."""

    api_token: str = Field(description="personal token; bind dg.EnvVar('CLICKUP_API_TOKEN')")
    list_id: str = Field(description="the List the campaign form creates tasks in")
    base_url: str = DEFAULT_CLICKUP_API_URL
    timeout_seconds: float = Field(default=30.0, gt=0)

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        client = ClickUpClient(
            base_url=self.base_url,
            api_token=self.api_token,
            list_id=self.list_id,
            timeout=self.timeout_seconds,
        )
        try:
            yield client
        finally:
            client.close()


class SandboxTaskSourceResource(CampaignTaskSourceResource):
    """A folder of ClickUp-shaped task JSON files (no ClickUp account needed); comments on
    tasks are appended to `<comments_folder>/clickup_comments.jsonl`."""

    folder: str = Field(description="folder of ClickUp task JSON files")
    comments_folder: str = Field(description="where comments on sandbox tasks are written")

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        yield SandboxTaskSource(Path(self.folder), Path(self.comments_folder))


class RosterResource(dg.ConfigurableResource):
    """The influencer roster CSV: the campaign's own roster URL, else this default."""

    default_source: str = Field(description="path or https URL of the default roster (ROSTER_URL)")
    timeout_seconds: float = Field(default=30.0, gt=0)

    def read(self, source: str | None = None) -> list[RosterRow]:
        return read_roster(source or self.default_source, timeout=self.timeout_seconds)


# --- mail ----------------------------------------------------------------------------------------

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


# --- Slack ---------------------------------------------------------------------------------------


class SlackResource(dg.ConfigurableResource):
    """Where alerts go. Bind a subclass: incoming webhook, bot token, or the sandbox log file."""

    @property
    def is_sandbox(self) -> bool:
        return False

    @contextmanager
    def open(self) -> Iterator[SlackNotifier]:
        raise NotImplementedError(f"{type(self).__name__} does not open a Slack client")
        yield  # pragma: no cover

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run that can post to Slack also reports external API calls that still fail
        after their retries (ClickUp, roster download): `resilient_api_call` calls this once
        per final failure. Posting failures are logged, never raised into the failing call."""
        log = dg.get_dagster_logger("slack")

        def post_api_error(api_name: str, error: BaseException, attempts: int) -> None:
            message = api_error(api_name=api_name, attempts=attempts, error=str(error))
            self.post_all([message], log)

        configure_error_notifier(post_api_error)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        configure_error_notifier(None)

    def post_all(self, messages: Sequence[SlackMessage], log: logging.Logger) -> int:
        """Post each message; return how many failed. A failure is logged, never raised: the
        work the messages describe is already committed, and a rerun would not re-post them."""
        if not messages:
            return 0
        failed = 0
        with self.open() as slack:
            for message in messages:
                try:
                    slack.post(message)
                except SlackError as exc:
                    failed += 1
                    log.error(f"Slack message not delivered ({message.text[:80]!r}): {exc}")
        return failed


class WebhookSlackResource(SlackResource):
    """An incoming webhook (one channel, fixed by the webhook)."""

    webhook_url: str = Field(description="a secret; bind dg.EnvVar('SLACK_WEBHOOK_URL')")

    @contextmanager
    def open(self) -> Iterator[SlackNotifier]:
        client = WebhookSlack(self.webhook_url)
        try:
            yield client
        finally:
            client.close()


class BotSlackResource(SlackResource):
    """chat.postMessage with a bot token; agreements, escalations and errors may go to
    different channels."""

    bot_token: str = Field(description="bind dg.EnvVar('SLACK_BOT_TOKEN')")
    agreements_channel: str
    escalations_channel: str
    errors_channel: str
    api_base: str = DEFAULT_API_BASE

    @contextmanager
    def open(self) -> Iterator[SlackNotifier]:
        client = BotSlack(
            self.bot_token,
            {
                SlackChannel.AGREEMENTS: self.agreements_channel,
                SlackChannel.ESCALATIONS: self.escalations_channel,
                SlackChannel.ERRORS: self.errors_channel,
            },
            api_base=self.api_base,
        )
        try:
            yield client
        finally:
            client.close()


class LogSlackResource(SlackResource):
    """Sandbox Slack: each message appended to a JSONL file and written to the Dagster log."""

    jsonl_path: str = Field(description="JSONL file of posted messages (next to the DB)")

    @property
    def is_sandbox(self) -> bool:
        return True

    @contextmanager
    def open(self) -> Iterator[SlackNotifier]:
        yield LogSlack(Path(self.jsonl_path), logger=dg.get_dagster_logger("slack"))
