"""Slack integration: Block Kit message builders, webhook/bot clients and a JSONL sandbox."""

from negotiation_pipeline.integrations.slack.client import (
    BotSlack,
    SlackError,
    SlackNotifier,
    SlackRefused,
    SlackUnavailable,
    WebhookSlack,
)
from negotiation_pipeline.integrations.slack.messages import (
    SlackChannel,
    SlackMessage,
    agreement_alert,
    api_error,
    campaign_started,
    escalation_alert,
    run_failure,
    stale_notice,
)
from negotiation_pipeline.sandbox.slack_log import LogSlack

__all__ = [
    "BotSlack",
    "LogSlack",
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
