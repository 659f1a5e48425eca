"""Slack alerts through real Dagster runs and the run-failure sensor, with the loopback Slack
fake as the incoming webhook: Slack down never fails the business work and is reported; the next
run (or sensor tick) delivers every pending alert exactly once; a hanging Slack is cut off by
the run's Slack budget."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.negotiations.jobs import followup_job
from negotiation_pipeline.defs.negotiations.sensors import run_failure_slack_sensor
from negotiation_pipeline.defs.shared.resources import (
    NegotiationStoreResource,
    WebhookSlackResource,
)
from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.store import NegotiationStore, NotificationStatus, open_store
from tests.defs.conftest import ON_BOTH_STORES, VALID_LUMEN
from tests.defs.test_followups_and_failures import failure_context
from tests.fakes.slack_server import FakeReply, SlackFake, slack_fake

__all__ = ["slack_fake"]

SLACK_DOWN = "http://127.0.0.1:9/services/T0/B0/down"  # discard port: connection refused


@pytest.fixture
def webhook_env(sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The sandbox with a real incoming webhook; the URL is read through dg.EnvVar at run time,
    so a test can take Slack down and bring it back between runs."""
    monkeypatch.setattr(resilience, "sleep", lambda _: None)  # backoff waits, not the logic
    monkeypatch.setenv("SLACK_WEBHOOK_URL", SLACK_DOWN)
    return {**sandbox_env, "SLACK_WEBHOOK_URL": SLACK_DOWN}


def _store(env: dict[str, str]) -> NegotiationStore:
    return open_store(env["NEGOTIATION_DB"])


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    ]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def _warnings(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [
        entry.user_message
        for entry in instance.all_logs(run_id)
        if entry.level == logging.WARNING and entry.user_message.startswith("Slack:")
    ]


def _ingest(instance: dg.DagsterInstance, env: dict[str, str]) -> dg.ExecuteInProcessResult:
    defs = build_definitions(env)
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    job = defs.resolve_job_def("campaign_ingestion_job")
    return job.execute_in_process(instance=instance, partition_key=VALID_LUMEN)


@ON_BOTH_STORES
def test_slack_down_then_back_every_alert_arrives_exactly_once(
    instance: dg.DagsterInstance,
    webhook_env: dict[str, str],
    slack_fake: SlackFake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    down = _ingest(instance, webhook_env)

    assert down.success  # the negotiations were opened and their emails sent regardless
    opened = _metadata(down, "negotiations")
    assert opened["opened"] == 5 and opened["emails_sent"] == 5
    assert opened["slack_posted"] == 0
    pending = opened["slack_pending"]
    assert isinstance(pending, int) and pending >= 1
    assert any("still pending" in line for line in _warnings(instance, down.run_id))
    queued = [n.text for n in _store(webhook_env).notifications.with_status("pending")]
    assert queued[-1].startswith("Campaign started: Lumen Skincare")

    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack_fake.webhook_url)  # Slack is back
    job = build_definitions(webhook_env).resolve_job_def(followup_job.name)
    back = job.execute_in_process(instance=instance)
    again = job.execute_in_process(instance=instance)

    assert back.success and again.success
    assert back.output_for_node("run_followups") == 0  # no follow-up due: delivery alone
    assert [request.json["text"] for request in slack_fake.requests] == queued
    store = _store(webhook_env)
    assert store.notifications.pending_count() == 0
    assert len(store.notifications.with_status(NotificationStatus.SENT)) == len(queued)
    assert _warnings(instance, back.run_id) == [] and _warnings(instance, again.run_id) == []


def test_a_hanging_slack_is_cut_off_by_the_run_budget(
    instance: dg.DagsterInstance,
    webhook_env: dict[str, str],
    slack_fake: SlackFake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack_fake.webhook_url)
    env = {**webhook_env, "SLACK_DELIVERY_BUDGET_SECONDS": "1", "SLACK_TIMEOUT_SECONDS": "0.3"}
    slack_fake.script("webhook", *[FakeReply(200, "ok", delay_seconds=2)] * 10)

    result = _ingest(instance, env)

    assert result.success
    opened = _metadata(result, "negotiations")
    store = _store(env)
    attempts = [n.attempts for n in store.notifications.with_status("pending")]
    # The request gave up at 0.3 s; the policy's next backoff (>= 1 s) did not fit in the 0.7 s
    # left, so the run stopped posting: one attempt in all, everything still queued.
    assert len(slack_fake.requests) == 1
    assert attempts[0] == 1 and sum(attempts) == 1
    assert opened["slack_posted"] == 0 and opened["slack_pending"] == len(attempts) >= 1


def test_run_failure_alert_survives_slack_down_and_is_sent_once(
    instance: dg.DagsterInstance,
    webhook_env: dict[str, str],
    slack_fake: SlackFake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack = build_resources(webhook_env)["slack"]
    assert isinstance(slack, WebhookSlackResource)
    with failure_context(instance, slack) as context:
        run_failure_slack_sensor(context)  # Slack down: queued, not raised
        failed_run = context.dagster_run.run_id
    store = _store(webhook_env)
    [queued] = store.notifications.with_status("pending")
    assert queued.text.startswith("Run failed: broken_job")
    assert queued.key == f"run-failure:{failed_run}:0"

    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack_fake.webhook_url)
    with failure_context(instance, slack) as context:  # another run fails; Slack is back
        run_failure_slack_sensor(context)
        run_failure_slack_sensor(context)  # the same failure seen again (a retried tick)
        second_run = context.dagster_run.run_id

    texts = [request.json["text"] for request in slack_fake.requests]
    assert [text.split(": ")[0] for text in texts] == ["Run failed", "Run failed"]
    assert texts[0] == queued.text and failed_run in texts[0]  # the queued one first
    assert second_run in texts[1]  # each failure exactly once
    assert store.notifications.pending_count() == 0
    assert "unreachable_mailbox" in json.dumps(slack_fake.requests[0].json["blocks"])


def test_failure_alert_is_posted_directly_when_the_store_itself_is_broken(
    instance: dg.DagsterInstance, tmp_path: Path, slack_fake: SlackFake
) -> None:
    broken = tmp_path / "negotiation.db"
    broken.write_bytes(b"this is not a database" * 100)  # what a failing run may be about
    slack = WebhookSlackResource(
        webhook_url=slack_fake.webhook_url, store=NegotiationStoreResource(db_path=str(broken))
    )
    with failure_context(instance, slack) as context:
        run_failure_slack_sensor(context)

    [request] = slack_fake.requests
    assert request.json["text"].startswith("Run failed: broken_job")
