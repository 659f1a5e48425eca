"""Slack as Dagster resources: the base that queues every alert in the store's notification
outbox and delivers it within one time budget per run, and its webhook and bot-token variants.
The webhook URL and bot token are bound as `dg.EnvVar`, so they are never shown or logged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dagster as dg
from pydantic import Field, PrivateAttr

from negotiation_pipeline.defs.shared.store_resource import NegotiationStoreResource
from negotiation_pipeline.integrations.resilience import (
    Deadline,
    ErrorNotifier,
    describe_failure,
)
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
from negotiation_pipeline.workflow.slack_outbox import (
    UNKNOWN_PENDING,
    SlackDelivery,
    deliver_notifications,
    queue_message,
)

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
