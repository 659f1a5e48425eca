"""The code location loads as `dagster dev` loads it, and resources follow the environment."""

from __future__ import annotations

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources, defs
from negotiation_pipeline.defs.sandbox.resources import LogSlackResource, SandboxTaskSourceResource
from negotiation_pipeline.defs.shared.resources import (
    BotSlackResource,
    ClickUpTaskSourceResource,
    ImapSmtpMailboxResource,
    MaildirMailboxResource,
    NegotiationStoreResource,
    WebhookSlackResource,
)
from negotiation_pipeline.integrations.mail import MailError
from negotiation_pipeline.integrations.slack import SlackError
from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401 (fixtures)

ASSET_KEYS = {
    "campaign_task",
    "campaign",
    "campaign_influencers",
    "cpm_flexibility",
    "campaign_agreements",
    "negotiations",
    "negotiation_snapshots",
    "negotiation_conversations",
    "campaign_report",
}
SENSORS = {
    "clickup_campaign_sensor",
    "cpm_automation_sensor",
    "inbox_sensor",
    "run_failure_slack_sensor",
    "sandbox_influencer_sensor",
}
REAL_MAIL_ENV = {
    "IMAP_HOST": "imap.example.test",
    "IMAP_USER": "agent@example.test",
    "IMAP_PASSWORD": "imap-secret-value",
    "SMTP_HOST": "smtp.example.test",
    "SMTP_PORT": "465",
    "SMTP_USER": "agent@example.test",
    "SMTP_PASSWORD": "smtp-secret-value",
    "AGENT_EMAIL": "agent@example.test",
    "AGENT_NAME": "Alex Morgan",
}


def test_defs_load_with_jobs_sensors_and_assets() -> None:
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("campaign_ingestion_job")
    assert job.tags["negotiation/db"] == "sqlite"
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == ASSET_KEYS
    for name in ASSET_KEYS - {"campaign_agreements"}:
        node = graph.get(dg.AssetKey(name))
        assert node.partitions_def is not None and node.owners and node.kinds
        assert node.group_name in {"campaigns", "cpm", "negotiation"}
    assert graph.get(dg.AssetKey("cpm_flexibility")).automation_condition is not None
    ingestion = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert ingestion == ASSET_KEYS - {"campaign_agreements"}  # negotiations open in the same run
    for name in ("campaign_ingestion_job", "advance_negotiations_job", "followup_job"):
        loaded = defs.resolve_job_def(name)
        assert loaded.executor_def.name == "in_process", name
        assert loaded.tags["negotiation/db"] == "sqlite", name


def test_sensors_and_schedules_run_by_default() -> None:
    assert {sensor.name for sensor in defs.sensors or []} == SENSORS  # sandbox: none set
    for name in SENSORS:
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    sensor = defs.resolve_sensor_def("clickup_campaign_sensor")
    assert sensor.minimum_interval_seconds == 30
    assert sensor.job_name == "campaign_ingestion_job"
    inbox = defs.resolve_sensor_def("inbox_sensor")
    assert inbox.job_name == "advance_negotiations_job" and inbox.minimum_interval_seconds == 30
    schedule = defs.resolve_schedule_def("followup_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "0 * * * *" and schedule.job_name == "followup_job"


def test_no_token_selects_the_sandbox_folder() -> None:
    resources = build_resources({"NEGOTIATION_SANDBOX_DIR": "/tmp/tasks-x"})
    clickup = resources["clickup"]
    assert isinstance(clickup, SandboxTaskSourceResource)
    assert clickup.folder == "/tmp/tasks-x"


def test_token_selects_clickup_with_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLICKUP_API_TOKEN", "pk_secret_value")
    monkeypatch.setenv("CLICKUP_LIST_ID", "123")
    env = {"CLICKUP_API_TOKEN": "pk_secret_value", "NEGOTIATION_DB": "/tmp/x/n.db"}
    loaded = build_definitions(env)
    dg.Definitions.validate_loadable(loaded)
    clickup = build_resources(env)["clickup"]
    assert isinstance(clickup, ClickUpTaskSourceResource)
    assert clickup.base_url == "https://api.clickup.com/api/v2"
    # Bound as an EnvVar: the secret is resolved at run time, not stored in the definition.
    assert "pk_secret_value" not in repr(clickup)
    store = build_resources(env)["store"]
    assert isinstance(store, NegotiationStoreResource) and store.db_path == "/tmp/x/n.db"


@pytest.mark.postgres
def test_a_postgres_url_binds_the_store_from_the_environment_and_opens_postgres(
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,  # noqa: F811 (the fixture)
) -> None:
    monkeypatch.setenv("NEGOTIATION_DB", postgres_url)
    resources = build_resources({"NEGOTIATION_DB": postgres_url})
    store = resources["store"]
    assert isinstance(store, NegotiationStoreResource)
    # The URL carries the password: bound as an EnvVar, resolved only at run time.
    assert postgres_url not in repr(store)
    # Local sandbox files cannot live "next to" a URL: they go to .sandbox/.
    mailbox = resources["mailbox"]
    assert isinstance(mailbox, MaildirMailboxResource) and mailbox.root == ".sandbox/maildir"
    resolved = NegotiationStoreResource(db_path=postgres_url)
    with resolved.open() as opened:
        assert type(opened).__name__ == "PostgresStore"
        assert opened.campaigns.get("no-such-campaign") is None


def test_no_mail_or_slack_settings_select_the_sandbox_next_to_the_database() -> None:
    resources = build_resources({"NEGOTIATION_DB": "/tmp/sb/n.db"})
    mailbox, slack = resources["mailbox"], resources["slack"]
    assert isinstance(mailbox, MaildirMailboxResource) and mailbox.root == "/tmp/sb/maildir"
    assert mailbox.agent_email == "partnerships@northbeam.test"
    assert isinstance(slack, LogSlackResource) and slack.jsonl_path == "/tmp/sb/slack.jsonl"
    custom = build_resources({"NEGOTIATION_MAILDIR": "/tmp/md", "AGENT_EMAIL": "me@x.test"})
    custom_mailbox = custom["mailbox"]
    assert isinstance(custom_mailbox, MaildirMailboxResource)
    assert custom_mailbox.root == "/tmp/md" and custom_mailbox.agent_email == "me@x.test"


def test_imap_settings_select_real_mail_with_passwords_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in REAL_MAIL_ENV.items():
        monkeypatch.setenv(name, value)
    loaded = build_definitions(REAL_MAIL_ENV)
    dg.Definitions.validate_loadable(loaded)
    # simulated influencers never answer real mail
    assert {sensor.name for sensor in loaded.sensors or []} == SENSORS - {
        "sandbox_influencer_sensor"
    }
    mailbox = build_resources(REAL_MAIL_ENV)["mailbox"]
    assert isinstance(mailbox, ImapSmtpMailboxResource)
    assert (mailbox.imap_host, mailbox.imap_port, mailbox.imap_security) == (
        "imap.example.test",
        993,
        "ssl",
    )
    assert (mailbox.smtp_port, mailbox.smtp_security) == (465, "ssl")
    assert mailbox.sender.address == "agent@example.test"
    assert "imap-secret-value" not in repr(mailbox) and "smtp-secret-value" not in repr(mailbox)
    # resolved only when a run initializes the resource
    with dg.build_resources({"mailbox": mailbox}) as initialized:
        assert initialized.mailbox.imap_password == "imap-secret-value"
        assert initialized.mailbox.smtp_password == "smtp-secret-value"


def test_incomplete_mail_settings_are_refused_by_name() -> None:
    with pytest.raises(MailError, match="AGENT_EMAIL"):
        build_resources({"IMAP_HOST": "imap.example.test", "SMTP_HOST": "smtp.example.test"})
    with pytest.raises(MailError, match="SMTP_HOST"):
        build_resources({"IMAP_HOST": "imap.example.test", "AGENT_EMAIL": "a@example.test"})
    with pytest.raises(MailError, match="IMAP_PORT"):
        build_resources(
            {"IMAP_HOST": "h", "IMAP_PORT": "x", "SMTP_HOST": "s", "AGENT_EMAIL": "a@b.test"}
        )


def test_slack_settings_select_bot_or_webhook_with_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-token")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.test/services/SECRET")
    bot = build_resources(
        {
            "SLACK_BOT_TOKEN": "xoxb-secret-token",
            "SLACK_WEBHOOK_URL": "https://hooks.slack.test/services/SECRET",
            "SLACK_CHANNEL": "C_ALL",
            "SLACK_ERRORS_CHANNEL": "C_ERR",
        }
    )["slack"]
    assert isinstance(bot, BotSlackResource)  # the bot wins: it can route per channel
    assert (bot.agreements_channel, bot.escalations_channel, bot.errors_channel) == (
        "C_ALL",
        "C_ALL",
        "C_ERR",
    )
    assert "xoxb-secret-token" not in repr(bot)
    webhook = build_resources({"SLACK_WEBHOOK_URL": "https://hooks.slack.test/services/SECRET"})[
        "slack"
    ]
    assert isinstance(webhook, WebhookSlackResource)
    assert "SECRET" not in repr(webhook)
    with pytest.raises(SlackError, match="SLACK_CHANNEL"):
        build_resources({"SLACK_BOT_TOKEN": "xoxb-secret-token"})
