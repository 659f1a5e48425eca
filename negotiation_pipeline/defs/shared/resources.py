"""Dagster resources of the campaign pipeline: thin wrappers that open the real parts. This module
is the one import surface; each role has its own module beside it (`store_resource`,
`slack_resources`, `clickup_resources`, `roster_resource`, `mail_resources`,
`second_opinion_resource`, `rules_resource`).

Each resource only holds configuration (paths, URLs, the ClickUp token as `dg.EnvVar`) and opens
the integration object per use, so Dagster can copy and rebind it freely and nothing is shared
across runs. Resources are bound in `negotiation_pipeline/definitions.py` and nowhere else.
Secrets (ClickUp token, IMAP/SMTP passwords, Slack webhook URL and bot token, LLM API key) are
bound as `dg.EnvVar`, so they are resolved at run time and never shown in the UI or logged.
"""

from negotiation_pipeline.defs.shared.clickup_resources import (
    DEFAULT_PAGES_PER_TICK,
    CampaignTaskSourceResource,
    ClickUpTaskSourceResource,
)
from negotiation_pipeline.defs.shared.mail_resources import (
    DEFAULT_MAIL_BATCH,
    SANDBOX_AGENT_EMAIL,
    SANDBOX_AGENT_NAME,
    ImapSmtpMailboxResource,
    MailboxResource,
    MaildirMailboxResource,
)
from negotiation_pipeline.defs.shared.roster_resource import RosterResource
from negotiation_pipeline.defs.shared.rules_resource import BusinessRulesResource
from negotiation_pipeline.defs.shared.second_opinion_resource import (
    ChatCompletionsSecondOpinionResource,
    SecondOpinionResource,
)
from negotiation_pipeline.defs.shared.slack_resources import (
    DEFAULT_SLACK_BUDGET_SECONDS,
    BotSlackResource,
    SlackResource,
    WebhookSlackResource,
    api_error_notifier,
)
from negotiation_pipeline.defs.shared.store_resource import NegotiationStoreResource

__all__ = [
    "DEFAULT_MAIL_BATCH",
    "DEFAULT_PAGES_PER_TICK",
    "DEFAULT_SLACK_BUDGET_SECONDS",
    "SANDBOX_AGENT_EMAIL",
    "SANDBOX_AGENT_NAME",
    "BotSlackResource",
    "BusinessRulesResource",
    "CampaignTaskSourceResource",
    "ChatCompletionsSecondOpinionResource",
    "ClickUpTaskSourceResource",
    "ImapSmtpMailboxResource",
    "MailboxResource",
    "MaildirMailboxResource",
    "NegotiationStoreResource",
    "RosterResource",
    "SecondOpinionResource",
    "SlackResource",
    "WebhookSlackResource",
    "api_error_notifier",
]
