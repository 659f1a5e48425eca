"""Slack integration: Block Kit message builders and the webhook and bot clients."""

from negotiation_pipeline.integrations.slack.blocks import SlackChannel, SlackMessage
from negotiation_pipeline.integrations.slack.client import (
    BotSlack,
    SlackError,
    SlackNotifier,
    SlackRefused,
    SlackUnavailable,
    WebhookSlack,
)
from negotiation_pipeline.integrations.slack.messages import (
    agreement_alert,
    api_error,
    campaign_started,
    escalation_alert,
    run_failure,
    stale_notice,
)

__all__ = [
    "BotSlack",
    "SlackChannel",
    "SlackError",
    "SlackMessage",
    "SlackNotifier",
    "SlackRefused",
    "SlackUnavailable",
    "WebhookSlack",
    "agreement_alert",
    "api_error",
    "campaign_started",
    "escalation_alert",
    "run_failure",
    "stale_notice",
]
