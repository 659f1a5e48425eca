"""Dagster resources of the campaign pipeline: thin wrappers that open the real parts.

Each resource only holds configuration (paths, URLs, the ClickUp token as `dg.EnvVar`) and opens
the integration object per use, so Dagster can copy and rebind it freely and nothing is shared
across runs. Resources are bound in `negotiation_pipeline/definitions.py` and nowhere else.
Secrets (ClickUp token, IMAP/SMTP passwords, Slack webhook URL and bot token, LLM API key) are
bound as `dg.EnvVar`, so they are resolved at run time and never shown in the UI or logged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from negotiation_pipeline.integrations.clickup.client import (
    DEFAULT_CLICKUP_API_URL,
    CampaignTaskSource,
    ClickUpClient,
)
from negotiation_pipeline.integrations.llm.client import (
    DEFAULT_MAX_CHARS,
    IntentOpinionClient,
)
from negotiation_pipeline.integrations.llm.client import (
    DEFAULT_TIMEOUT_SECONDS as LLM_TIMEOUT_SECONDS,
)
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
from negotiation_pipeline.integrations.resilience import (
    Deadline,
    ErrorNotifier,
    describe_failure,
)
from negotiation_pipeline.integrations.roster.fetch import DEFAULT_MAX_BYTES, FetchLimits
from negotiation_pipeline.integrations.roster.reader import RosterRow, read_roster
from negotiation_pipeline.integrations.slack import (
    BotSlack,
    SlackChannel,
    SlackError,
    SlackMessage,
    SlackNotifier,
    WebhookSlack,
    api_error,
)
from negotiation_pipeline.integrations.slack.client import DEFAULT_API_BASE, DEFAULT_TIMEOUT_SECONDS
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.sqlite import open_store
from negotiation_pipeline.workflow.second_opinion import SecondOpinion
from negotiation_pipeline.workflow.slack_outbox import (
    UNKNOWN_PENDING,
    SlackDelivery,
    deliver_notifications,
    queue_message,
)

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


# --- Slack ---------------------------------------------------------------------------------------
DEFAULT_SLACK_BUDGET_SECONDS = 10.0


class SlackResource(dg.ConfigurableResource):
    """Where alerts go. Bind a subclass: incoming webhook, bot token, or the sandbox log file.
    Every message goes through the notification outbox of `store` (workflow/slack_outbox.py),
    delivered within one time budget per run or sensor tick: Slack down or slow delays alerts,
    never loses them, and never stalls a run for long."""

    store: NegotiationStoreResource
    delivery_budget_seconds: float = Field(
        default=DEFAULT_SLACK_BUDGET_SECONDS,
        gt=0,
        description="most seconds one run spends posting to Slack (SLACK_DELIVERY_BUDGET_SECONDS)",
    )
    timeout_seconds: float = Field(
        default=DEFAULT_TIMEOUT_SECONDS,
        gt=0,
        description="per-request timeout (SLACK_TIMEOUT_SECONDS)",
    )
    dagster_ui_url: str = Field(
        default="", description="Dagster UI base URL for links in alerts (DAGSTER_WEBSERVER_URL)"
    )
    _budget_left: float | None = PrivateAttr(default=None)  # Slack seconds this run has left

    @property
    def is_sandbox(self) -> bool:
        return False

    @contextmanager
    def open(self) -> Iterator[SlackNotifier]:
        raise NotImplementedError(f"{type(self).__name__} does not open a Slack client")
        yield  # pragma: no cover

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """One Slack budget per run."""
        self._budget_left = None

    def post_api_error(self, api_name: str, error: BaseException, attempts: int) -> None:
        """The alert for an external API call that failed after its retries (an
        `ErrorNotifier`: the ClickUp and roster resources hand it to their clients)."""
        self.send([api_error(api_name=api_name, attempts=attempts, error=describe_failure(error))])

    @contextmanager
    def spending_budget(self) -> Iterator[Deadline]:
        """A deadline for one delivery out of what the run has left: only Slack time counts."""
        left = self.delivery_budget_seconds if self._budget_left is None else self._budget_left
        deadline = Deadline(left)
        try:
            yield deadline
        finally:
            self._budget_left = deadline.remaining()

    def run_url(self, run_id: str) -> str | None:
        base = self.dagster_ui_url.strip().rstrip("/")
        return f"{base}/runs/{run_id}" if base else None

    def deliver(self, db: NegotiationStore) -> SlackDelivery:
        """Post what is pending in `db`'s outbox (any run's) within this run's budget. Never
        raises: what is not delivered stays queued, and the result says how much."""
        try:
            if db.notifications.pending_count() == 0:
                return SlackDelivery.nothing_pending()
            with self.open() as notifier, self.spending_budget() as deadline:
                return deliver_notifications(db, notifier, deadline)
        except Exception as exc:  # the store failing while claiming or marking: nothing lost
            error = f"Slack delivery stopped: {type(exc).__name__}: {exc}"
            dg.get_dagster_logger("slack").error(error)
            return SlackDelivery(0, 0, UNKNOWN_PENDING, (error,))

    def send(self, messages: Sequence[SlackMessage], key: str | None = None) -> SlackDelivery:
        """Queue `messages` (their cause is no store change: a failed run, an API error) and
        deliver. When the store cannot take them they are posted directly: the store failing
        is exactly what such an alert may be about."""
        log = dg.get_dagster_logger("slack")
        try:
            with self.store.open() as db:
                with db.transaction() as uow:
                    for index, message in enumerate(messages):
                        queue_message(uow, message, f"{key}:{index}" if key else None)
                return self.deliver(db)
        except Exception as exc:  # StoreError or the driver's own: nothing was queued
            log.error(f"Slack outbox unavailable ({type(exc).__name__}: {exc}); posting directly")
        sent = 0
        errors: list[str] = []
        with self.open() as notifier, self.spending_budget() as deadline:
            for message in messages:
                try:
                    notifier.post(message, deadline=deadline)
                    sent += 1
                except SlackError as exc:
                    errors.append(str(exc))
                    log.error(f"Slack message not delivered ({message.text[:80]!r}): {exc}")
        return SlackDelivery(sent, 0, len(messages) - sent, tuple(errors))


class WebhookSlackResource(SlackResource):
    """An incoming webhook (one channel, fixed by the webhook)."""

    webhook_url: str = Field(description="a secret; bind dg.EnvVar('SLACK_WEBHOOK_URL')")

    @contextmanager
    def open(self) -> Iterator[SlackNotifier]:
        client = WebhookSlack(self.webhook_url, timeout_seconds=self.timeout_seconds)
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
            timeout_seconds=self.timeout_seconds,
        )
        try:
            yield client
        finally:
            client.close()


def api_error_notifier(alerts: SlackResource | None) -> ErrorNotifier | None:
    """Who hears of a call that failed after its retries: the bound Slack resource, or no one."""
    return alerts.post_api_error if alerts is not None else None


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
    alerts: SlackResource | None = Field(
        default=None, description="where calls failing after their retries are reported"
    )

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        client = ClickUpClient(
            base_url=self.base_url,
            api_token=self.api_token,
            list_id=self.list_id,
            timeout=self.timeout_seconds,
            on_give_up=api_error_notifier(self.alerts),
        )
        try:
            yield client
        finally:
            client.close()


class RosterResource(dg.ConfigurableResource):
    """The influencer roster CSV: the campaign's own roster URL, else this default.

    The default is the operator's (ROSTER_URL): a path or any http(s) URL. A campaign's URL
    comes from the ClickUp form and may only be https to a public host."""

    default_source: str = Field(
        description="path or http(s) URL of the default roster (ROSTER_URL)"
    )
    timeout_seconds: float = Field(default=60.0, gt=0, description="total time per download")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0, description="largest roster accepted")
    alerts: SlackResource | None = Field(
        default=None, description="where downloads failing after their retries are reported"
    )

    def read(self, campaign_url: str | None = None) -> list[RosterRow]:
        """The campaign's roster when it names one, else the operator's default roster."""
        if campaign_url:
            return read_roster(
                campaign_url,
                trusted=False,
                limits=self._limits(),
                on_give_up=api_error_notifier(self.alerts),
            )
        return read_roster(
            self.default_source,
            trusted=True,
            limits=self._limits(),
            on_give_up=api_error_notifier(self.alerts),
        )

    def _limits(self) -> FetchLimits:
        return FetchLimits(
            max_bytes=self.max_bytes,
            connect_timeout_s=min(10.0, self.timeout_seconds),
            read_timeout_s=min(30.0, self.timeout_seconds),
            total_timeout_s=self.timeout_seconds,
        )


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


# --- second opinion on unclear replies ----------------------------------------------------------


class SecondOpinionResource(dg.ConfigurableResource):
    """Who else reads replies the rules found unclear. This base asks no one (the default);
    bind ChatCompletionsSecondOpinionResource to ask an OpenAI-compatible endpoint."""

    @contextmanager
    def open(self) -> Iterator[SecondOpinion | None]:
        yield None


class ChatCompletionsSecondOpinionResource(SecondOpinionResource):
    """An OpenAI-compatible chat-completions endpoint, asked for the intent only."""

    api_url: str = Field(description="API base such as https://api.openai.com/v1 (LLM_API_URL)")
    api_key: str = Field(default="", description="bind dg.EnvVar('LLM_API_KEY')")
    model: str = Field(description="model name (LLM_MODEL)")
    timeout_seconds: float = Field(default=LLM_TIMEOUT_SECONDS, gt=0, le=30)
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, gt=0, le=20_000)

    @contextmanager
    def open(self) -> Iterator[SecondOpinion | None]:
        client = IntentOpinionClient(
            self.api_url,
            self.api_key,
            self.model,
            timeout_seconds=self.timeout_seconds,
            max_chars=self.max_chars,
        )
        try:
            yield client
        finally:
            client.close()
