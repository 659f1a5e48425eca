"""The code location: every asset, job and sensor, and the ONLY place resources are bound.

Resources follow the environment (all variables optional; none set = sandbox):
- CLICKUP_API_TOKEN set → the real ClickUp List (CLICKUP_LIST_ID, CLICKUP_API_URL); the token is
  bound as `dg.EnvVar`, so Dagster resolves it at run time and never shows or logs it.
  Unset → the sandbox folder of task JSON files (NEGOTIATION_SANDBOX_DIR, default
  sandbox/clickup/tasks); comments on sandbox tasks go to `clickup/` next to the database.
- NEGOTIATION_DB → the business store: an SQLite file (default .sandbox/negotiation.db) or a
  `postgresql://` URL (bound as `dg.EnvVar`: the URL carries the password). Local sandbox
  files (Maildir, Slack JSONL, ClickUp comments) go in NEGOTIATION_DATA_DIR when set, else next
  to the SQLite file, or in `.sandbox/` with a PostgreSQL store. Every asset value is stored in
  that store too (the `io_manager`: one table per asset), so nothing is pickled under
  DAGSTER_HOME.
- NEGOTIATION_MESSAGE_ID_SECRET → the key our Message-IDs are computed with (at least 32
  characters, bound as `dg.EnvVar`); unset → a key created on first use and kept in the store.
- ROSTER_URL → the default influencer roster, path or https URL (default sandbox/roster.csv).
- IMAP_HOST set → real mail: IMAP_PORT (993), IMAP_USER, IMAP_PASSWORD, IMAP_SECURITY
  (ssl|starttls|plain; 993 implies ssl), IMAP_MAILBOX (INBOX), IMAP_SENT_FOLDER (Sent) to read
  replies; SMTP_HOST (required then), SMTP_PORT (587), SMTP_USER, SMTP_PASSWORD, SMTP_SECURITY
  (465 implies ssl, else starttls) to send; AGENT_EMAIL (required then) and AGENT_NAME are our
  From. Both passwords are bound as `dg.EnvVar`. NEGOTIATION_MAX_REPLY_KB (256) and
  NEGOTIATION_MAX_MIME_PARTS (100) bound how much of each reply is read, on either mailbox.
  Unset → the sandbox Maildir (NEGOTIATION_MAILDIR, default `maildir/` next to the database),
  answered by simulated influencers (`sandbox_influencer_sensor`, sandbox only).
- SLACK_BOT_TOKEN set → chat.postMessage to SLACK_CHANNEL, or per kind SLACK_AGREEMENTS_CHANNEL,
  SLACK_ESCALATIONS_CHANNEL, SLACK_ERRORS_CHANNEL (SLACK_API_URL overrides the API base).
  Else SLACK_WEBHOOK_URL set → that incoming webhook. Token and webhook URL are `dg.EnvVar`.
  Neither → `slack.jsonl` next to the database plus the Dagster log.
  Every message is queued in the store's notification outbox and delivered within
  SLACK_DELIVERY_BUDGET_SECONDS per run (default 10), each request within SLACK_TIMEOUT_SECONDS
  (default 3); DAGSTER_WEBSERVER_URL, when set, adds a link to the run in failure alerts.
- LLM_API_URL set → replies the rules read with low confidence get a second opinion on their
  intent (never on amounts) from that OpenAI-compatible endpoint: LLM_MODEL (required then),
  LLM_API_KEY (bound as `dg.EnvVar`). Unset (the default) → the rules alone.
- NEGOTIATION_CONFIG_DIR → a folder with an edited copy of the business rules (policy, triggers,
  reply vocabulary, templates, form-field mapping), handed to ops as the `rules` resource.
  Unset → the rules shipped with the package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from negotiation_pipeline.defs.campaigns.assets import campaign, campaign_influencers, campaign_task
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.jobs import campaign_ingestion_job
from negotiation_pipeline.defs.campaigns.sensors import (
    clickup_campaign_sensor,
    cpm_automation_sensor,
)
from negotiation_pipeline.defs.negotiations.agreements import campaign_agreements
from negotiation_pipeline.defs.negotiations.assets import (
    campaign_report,
    negotiation_snapshots,
    negotiations,
)
from negotiation_pipeline.defs.negotiations.conversations import negotiation_conversations
from negotiation_pipeline.defs.negotiations.jobs import (
    advance_negotiations_job,
    followup_job,
    followup_schedule,
)
from negotiation_pipeline.defs.negotiations.resolve_job import resolve_escalation_job
from negotiation_pipeline.defs.negotiations.sensors import inbox_sensor, run_failure_slack_sensor
from negotiation_pipeline.defs.sandbox.resources import LogSlackResource, SandboxTaskSourceResource
from negotiation_pipeline.defs.sandbox.sensors import sandbox_influencer_sensor
from negotiation_pipeline.defs.shared.asset_store import BusinessStoreIOManager
from negotiation_pipeline.defs.shared.resources import (
    SANDBOX_AGENT_EMAIL,
    SANDBOX_AGENT_NAME,
    BotSlackResource,
    BusinessRulesResource,
    CampaignTaskSourceResource,
    ChatCompletionsSecondOpinionResource,
    ClickUpTaskSourceResource,
    ImapSmtpMailboxResource,
    MailboxResource,
    MaildirMailboxResource,
    NegotiationStoreResource,
    RosterResource,
    SecondOpinionResource,
    SlackResource,
    WebhookSlackResource,
)
from negotiation_pipeline.integrations.clickup.client import DEFAULT_CLICKUP_API_URL
from negotiation_pipeline.integrations.llm import LlmConfigError
from negotiation_pipeline.integrations.mail import ImapConfig, MailError, SmtpConfig
from negotiation_pipeline.integrations.slack import SlackError
from negotiation_pipeline.integrations.slack.client import DEFAULT_API_BASE
from negotiation_pipeline.sandbox.paths import SANDBOX_ROSTER, SANDBOX_TASKS_DIR
from negotiation_pipeline.settings.files import CONFIG_DIR_VARIABLE
from negotiation_pipeline.settings.log_redaction import install_log_redaction
from negotiation_pipeline.store.installation import MESSAGE_ID_SECRET_ENV
from negotiation_pipeline.store.paths import DB_ENV_VAR, SANDBOX_DB_PATH, is_postgres_url

DATA_DIR_ENV_VAR = "NEGOTIATION_DATA_DIR"  # the folder of local sandbox files


def _setting(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def store_resource(env: Mapping[str, str]) -> tuple[NegotiationStoreResource, Path]:
    """The business store, and the folder for local sandbox files that goes with it."""
    configured = _setting(env, DB_ENV_VAR)
    secret = _env_var_if_set(env, MESSAGE_ID_SECRET_ENV)
    data_dir = _setting(env, DATA_DIR_ENV_VAR)
    if configured and is_postgres_url(configured):
        resource = NegotiationStoreResource(db_path=dg.EnvVar(DB_ENV_VAR), message_id_secret=secret)
        return resource, Path(data_dir or SANDBOX_DB_PATH.parent).expanduser()
    db_path = Path(configured or SANDBOX_DB_PATH).expanduser()
    resource = NegotiationStoreResource(db_path=str(db_path), message_id_secret=secret)
    return resource, Path(data_dir).expanduser() if data_dir else db_path.parent


def task_source_resource(
    env: Mapping[str, str], data_dir: Path, alerts: SlackResource | None = None
) -> CampaignTaskSourceResource:
    """ClickUp when CLICKUP_API_TOKEN is set, else the sandbox folder. `alerts` hears of ClickUp
    calls that fail after their retries, inside runs."""
    if _setting(env, "CLICKUP_API_TOKEN"):
        return ClickUpTaskSourceResource(
            api_token=dg.EnvVar("CLICKUP_API_TOKEN"),
            list_id=dg.EnvVar("CLICKUP_LIST_ID"),
            base_url=_setting(env, "CLICKUP_API_URL") or DEFAULT_CLICKUP_API_URL,
            alerts=alerts,
        )
    return SandboxTaskSourceResource(
        folder=_setting(env, "NEGOTIATION_SANDBOX_DIR") or str(SANDBOX_TASKS_DIR),
        comments_folder=str(data_dir / "clickup"),
    )


def _env_var_if_set(env: Mapping[str, str], name: str) -> str:
    """A secret bound as dg.EnvVar when it is set (else empty: no login)."""
    return dg.EnvVar(name) if _setting(env, name) else ""


def _reply_limits(env: Mapping[str, str]) -> dict[str, int]:
    """NEGOTIATION_MAX_REPLY_KB / NEGOTIATION_MAX_MIME_PARTS, when set (positive integers)."""
    limits: dict[str, int] = {}
    for name, field in (
        ("NEGOTIATION_MAX_REPLY_KB", "max_reply_kb"),
        ("NEGOTIATION_MAX_MIME_PARTS", "max_mime_parts"),
    ):
        value = _setting(env, name)
        if value is None:
            continue
        if not value.isdigit() or int(value) < 1:
            raise MailError(f"{name} must be a positive whole number, got {value!r}")
        limits[field] = int(value)
    return limits


def mailbox_resource(env: Mapping[str, str], data_dir: Path) -> MailboxResource:
    limits = _reply_limits(env)
    if not _setting(env, "IMAP_HOST"):
        return MaildirMailboxResource(
            root=_setting(env, "NEGOTIATION_MAILDIR") or str(data_dir / "maildir"),
            agent_email=_setting(env, "AGENT_EMAIL") or SANDBOX_AGENT_EMAIL,
            agent_name=_setting(env, "AGENT_NAME") or SANDBOX_AGENT_NAME,
            **limits,
        )
    agent_email = _setting(env, "AGENT_EMAIL")
    if agent_email is None:
        raise MailError("IMAP_HOST is set but AGENT_EMAIL (our From address) is not")
    if not _setting(env, "SMTP_HOST"):
        raise MailError("IMAP_HOST is set but SMTP_HOST is not: replies could not be sent")
    imap = ImapConfig.from_env(env)  # validates ports and security, applies the defaults
    smtp = SmtpConfig.from_env(env)
    return ImapSmtpMailboxResource(
        agent_email=agent_email,
        agent_name=_setting(env, "AGENT_NAME") or "",
        imap_host=imap.host,
        imap_port=imap.port,
        imap_user=imap.user,
        imap_password=_env_var_if_set(env, "IMAP_PASSWORD"),
        imap_security=imap.security,
        imap_mailbox=imap.mailbox,
        imap_sent_folder=imap.sent_folder,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_user=smtp.user or "",
        smtp_password=_env_var_if_set(env, "SMTP_PASSWORD"),
        smtp_security=smtp.security,
        **limits,
    )


def _slack_settings(env: Mapping[str, str], store: NegotiationStoreResource) -> dict[str, Any]:
    """What every Slack resource shares: its outbox's store, time budget and UI links."""
    settings: dict[str, Any] = {"store": store}
    for field, name in (
        ("delivery_budget_seconds", "SLACK_DELIVERY_BUDGET_SECONDS"),
        ("timeout_seconds", "SLACK_TIMEOUT_SECONDS"),
    ):
        value = _setting(env, name)
        if value is not None:
            try:
                settings[field] = float(value)
            except ValueError:
                raise SlackError(f"{name} must be a number of seconds, got {value!r}") from None
    settings["dagster_ui_url"] = _setting(env, "DAGSTER_WEBSERVER_URL") or ""
    return settings


def slack_resource(
    env: Mapping[str, str], data_dir: Path, store: NegotiationStoreResource
) -> SlackResource:
    shared = _slack_settings(env, store)
    if _setting(env, "SLACK_BOT_TOKEN"):
        default_channel = _setting(env, "SLACK_CHANNEL")
        channels = {
            kind: _setting(env, f"SLACK_{kind.upper()}_CHANNEL") or default_channel
            for kind in ("agreements", "escalations", "errors")
        }
        missing = [f"SLACK_{kind.upper()}_CHANNEL" for kind, ch in channels.items() if not ch]
        if missing:
            raise SlackError(
                "SLACK_BOT_TOKEN is set but no channel: set SLACK_CHANNEL or " + ", ".join(missing)
            )
        return BotSlackResource(
            bot_token=dg.EnvVar("SLACK_BOT_TOKEN"),
            agreements_channel=channels["agreements"] or "",
            escalations_channel=channels["escalations"] or "",
            errors_channel=channels["errors"] or "",
            api_base=_setting(env, "SLACK_API_URL") or DEFAULT_API_BASE,
            **shared,
        )
    if _setting(env, "SLACK_WEBHOOK_URL"):
        return WebhookSlackResource(webhook_url=dg.EnvVar("SLACK_WEBHOOK_URL"), **shared)
    return LogSlackResource(jsonl_path=str(data_dir / "slack.jsonl"), **shared)


def second_opinion_resource(env: Mapping[str, str]) -> SecondOpinionResource:
    """The LLM endpoint only when LLM_API_URL is set; otherwise nobody is asked."""
    api_url = _setting(env, "LLM_API_URL")
    if api_url is None:
        return SecondOpinionResource()
    model = _setting(env, "LLM_MODEL")
    if model is None:
        raise LlmConfigError("LLM_API_URL is set but LLM_MODEL (the model to ask) is not")
    return ChatCompletionsSecondOpinionResource(
        api_url=api_url, api_key=_env_var_if_set(env, "LLM_API_KEY"), model=model
    )


def build_resources(
    env: Mapping[str, str],
) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    """Resources for this environment (tests pass their own mapping; see the module docstring
    for every variable)."""
    store, data_dir = store_resource(env)
    slack = slack_resource(env, data_dir, store)
    return {
        "store": store,
        # The default IO manager key: every asset's value goes to its table in the store.
        "io_manager": BusinessStoreIOManager(store=store),
        "clickup": task_source_resource(env, data_dir, alerts=slack),
        "roster": RosterResource(
            default_source=_setting(env, "ROSTER_URL") or str(SANDBOX_ROSTER), alerts=slack
        ),
        "mailbox": mailbox_resource(env, data_dir),
        "slack": slack,
        "second_opinion": second_opinion_resource(env),
        "rules": BusinessRulesResource(config_dir=_setting(env, CONFIG_DIR_VARIABLE) or ""),
    }


def build_definitions(env: Mapping[str, str]) -> dg.Definitions:
    install_log_redaction()  # before any run logs: log lines reach compute logs and the event log
    resources = build_resources(env)
    sensors: list[dg.SensorDefinition] = [
        clickup_campaign_sensor,
        cpm_automation_sensor,
        inbox_sensor,
        run_failure_slack_sensor,
    ]
    if isinstance(resources["mailbox"], MaildirMailboxResource):
        sensors.append(sandbox_influencer_sensor)  # simulated influencers: never on real mail
    return dg.Definitions(
        assets=[
            campaign_task,
            campaign,
            campaign_influencers,
            cpm_flexibility,
            campaign_agreements,
            negotiations,
            negotiation_snapshots,
            negotiation_conversations,
            campaign_report,
        ],
        jobs=[
            campaign_ingestion_job,
            advance_negotiations_job,
            followup_job,
            resolve_escalation_job,
        ],
        schedules=[followup_schedule],
        sensors=sensors,
        resources=resources,
    )


defs = build_definitions(os.environ)
