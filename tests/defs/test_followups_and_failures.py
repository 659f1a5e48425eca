"""followup_job through Dagster on the sandbox, and the run-failure sensor posting to a real
(loopback) Slack: the fake Slack server of tests/fakes answers exactly like Slack."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.negotiations.jobs import FOLLOWUP_OP, followup_job
from negotiation_pipeline.defs.negotiations.sensors import run_failure_slack_sensor
from negotiation_pipeline.defs.shared.resources import (
    BotSlackResource,
    NegotiationStoreResource,
    WebhookSlackResource,
)
from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox, SenderIdentity
from negotiation_pipeline.store import NegotiationStore, SQLiteStore, open_store
from negotiation_pipeline.workflow.persistence import load_negotiation, save_negotiation
from tests.defs.conftest import ON_BOTH_STORES, VALID_LUMEN
from tests.fakes.slack_server import FakeReply, running_slack_fake

LUMEN_INFLUENCERS = 5


def age_negotiations(store: NegotiationStore, campaign_id: str, days: int) -> None:
    """Pretend the last activity of every negotiation happened `days` earlier."""
    for stored in store.states.list_for_campaign(campaign_id):
        negotiation = load_negotiation(stored)
        assert negotiation.last_activity is not None
        older = replace(negotiation, last_activity=negotiation.last_activity - timedelta(days=days))
        with store.transaction() as uow:
            save_negotiation(uow, older, stored.campaign, stored.cpm_tracker_data)


@ON_BOTH_STORES
def test_followup_job_follows_up_once_then_marks_stale_and_alerts(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str]
) -> None:
    defs = build_definitions(sandbox_env)
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    ingest = defs.resolve_job_def("campaign_ingestion_job")
    assert ingest.execute_in_process(instance=instance, partition_key=VALID_LUMEN).success
    home = Path(sandbox_env["NEGOTIATION_DATA_DIR"])
    store = open_store(sandbox_env["NEGOTIATION_DB"])
    maildir = MaildirMailbox(home / "maildir", SenderIdentity("partnerships@northbeam.test"))
    job = defs.resolve_job_def(followup_job.name)

    fresh = job.execute_in_process(instance=instance)
    assert fresh.success and fresh.output_for_node(FOLLOWUP_OP) == 0  # nothing due yet
    assert len(maildir.sent_messages()) == LUMEN_INFLUENCERS

    age_negotiations(store, VALID_LUMEN, days=4)  # policy: follow up after 3 silent days
    nudged = job.execute_in_process(instance=instance)
    assert nudged.success
    assert len(maildir.sent_messages()) == 2 * LUMEN_INFLUENCERS  # one follow-up each
    assert job.execute_in_process(instance=instance).success  # not twice
    assert len(maildir.sent_messages()) == 2 * LUMEN_INFLUENCERS

    age_negotiations(store, VALID_LUMEN, days=5)  # then stale after 4 more silent days
    staled = job.execute_in_process(instance=instance)
    assert staled.success
    states = {s.state for s in store.states.list_for_campaign(VALID_LUMEN)}
    assert states == {NegotiationState.STALE}
    slack = [json.loads(line) for line in (home / "slack.jsonl").read_text().splitlines()]
    assert sum(m["text"].startswith("Stale:") for m in slack) == LUMEN_INFLUENCERS
    [snapshot] = [
        e.materialization.metadata
        for e in staled.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("negotiation_snapshots")
    ]
    assert snapshot["by_state"].value == "stale: 5"


@dg.op
def unreachable_mailbox() -> None:
    raise RuntimeError("IMAP imap.example.test:993: connection refused")


@dg.job
def broken_job() -> None:
    unreachable_mailbox()


def failure_context(
    instance: dg.DagsterInstance, slack: dg.ConfigurableResource
) -> dg.RunFailureSensorContext:
    result = broken_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    [failure] = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"]
    # A context manager: the Slack resource has setup/teardown (its API-error notifier), so its
    # resources only exist inside `with`, as when the daemon evaluates the sensor.
    return dg.build_run_status_sensor_context(
        sensor_name=run_failure_slack_sensor.name,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
        resources={"slack": slack},
    ).for_run_failure()


def test_failed_run_is_posted_to_the_errors_channel_with_the_bot_token(
    instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_slack_fake() as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
        env = {
            "SLACK_BOT_TOKEN": fake.token,
            "SLACK_CHANNEL": "C_ESCALATIONS",
            "SLACK_ERRORS_CHANNEL": "C_ERRORS",
            "SLACK_API_URL": fake.api_base,
            "NEGOTIATION_DB": str(tmp_path / "n.db"),
        }
        slack = build_resources(env)["slack"]
        assert isinstance(slack, BotSlackResource)

        with failure_context(instance, slack) as context:
            run_failure_slack_sensor(context)

    [request] = fake.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == f"Bearer {fake.token}"
    assert request.json["channel"] == "C_ERRORS"
    assert request.json["text"].startswith("Run failed: broken_job")
    blocks = json.dumps(request.json["blocks"])
    assert "unreachable_mailbox" in blocks and "connection refused" in blocks


def test_slack_refusing_the_failure_alert_does_not_break_the_sensor(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db_path = tmp_path / "n.db"
    with running_slack_fake() as fake:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.webhook_url)
        slack = WebhookSlackResource(
            webhook_url=dg.EnvVar("SLACK_WEBHOOK_URL"),
            store=NegotiationStoreResource(db_path=str(db_path)),
        )
        fake.script("webhook", FakeReply(404, "no_service"))

        with failure_context(instance, slack) as context:
            run_failure_slack_sensor(context)  # logged, not raised

    [request] = fake.requests  # a 4xx is not retried
    assert request.json["text"].startswith("Run failed: broken_job")
    # A removed webhook is Slack's setup, not this message: it waits for the next delivery.
    assert SQLiteStore(db_path).notifications.pending_count() == 1
