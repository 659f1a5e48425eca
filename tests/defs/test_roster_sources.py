"""Roster sources through real Dagster runs: the ClickUp fake, the real store file, a loopback
HTTP server standing in for an internal service, the run-failure sensor posting to the sandbox
Slack file. A blocked source fails only its campaign; the failure names the source with its
secrets redacted and never quotes what the source holds: not in the run failure, the event
log, Slack, the audit log or the ClickUp comment."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.campaigns.assets import campaign_influencers
from negotiation_pipeline.defs.campaigns.partitions import (
    CAMPAIGN_PARTITIONS_NAME,
    campaign_partitions,
)
from negotiation_pipeline.defs.negotiations.sensors import run_failure_slack_sensor
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.clickup import FieldMapping, parse_campaign_task
from negotiation_pipeline.store import AuditQuery, open_store
from tests.defs.conftest import VALID_LUMEN, sandbox_task
from tests.fakes.clickup_server import FakeClickUp

SECRET = "SECRETKEY0123"
PASSWD_FIRST_LINE = "root:x:0:0:root:/root:/bin/bash"


@dataclass
class InternalService:
    """An "internal admin export" on loopback that would hand out a roster-shaped CSV."""

    base_url: str
    requests: list[str] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def internal_service() -> Iterator[InternalService]:
    service = InternalService(base_url="")
    body = (
        b"name,email,platform,handle,average_views,engagement_rate\n"
        b"Mallory,mallory@attacker.test,instagram,@m,50000,5%\n"
    )

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            service.requests.append(self.path)
            payload = body if service.status == 200 else b"internal error"
            self.send_response(service.status)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


def task_with_roster_url(task_id: str, roster_url: str) -> dict[str, Any]:
    task = copy.deepcopy(sandbox_task(VALID_LUMEN))
    task["id"] = task_id
    task["url"] = f"https://app.clickup.com/t/{task_id}"
    for entry in task["custom_fields"]:
        if entry["name"] == "Influencer Roster URL":
            entry["value"] = roster_url
    return task


def everything_recorded(instance: dg.DagsterInstance, run_id: str) -> str:
    """Every event of the run as Dagster stores it (messages, errors with their causes)."""
    return "\n".join(dg.serialize_value(record) for record in instance.all_logs(run_id))


def post_run_failure(instance: dg.DagsterInstance, run_id: str, env: dict[str, str]) -> None:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    [failure] = [
        e.dagster_event
        for e in instance.all_logs(run_id)
        if e.dagster_event is not None and e.dagster_event.event_type_value == "PIPELINE_FAILURE"
    ]
    slack = build_resources(env)["slack"]
    with dg.build_run_status_sensor_context(
        sensor_name=run_failure_slack_sensor.name,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
        resources={"slack": slack},
    ).for_run_failure() as context:
        run_failure_slack_sensor(context)


def slack_messages(env: dict[str, str]) -> list[dict[str, Any]]:
    path = Path(env["NEGOTIATION_DATA_DIR"]) / "slack.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_form_roster_urls_to_server_files_or_internal_urls_fail_only_their_campaign(
    instance: dg.DagsterInstance,
    clickup_env: dict[str, str],
    fake_clickup: FakeClickUp,
    internal_service: InternalService,
) -> None:
    bad_tasks = {
        "86b1bad01": "/etc/passwd",
        "86b1bad02": f"{internal_service.base_url}/internal/admin-export?key={SECRET}",
        "86b1bad03": f"https://127.0.0.1:{internal_service.base_url.rsplit(':', 1)[1]}/x",
    }
    fake_clickup.put_tasks(task_with_roster_url(t, url) for t, url in bad_tasks.items())
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [*bad_tasks, VALID_LUMEN])
    job = build_definitions(clickup_env).resolve_job_def("campaign_ingestion_job")

    results = {
        task: job.execute_in_process(instance=instance, partition_key=task, raise_on_error=False)
        for task in [*bad_tasks, VALID_LUMEN]
    }

    assert results[VALID_LUMEN].success  # the others go on
    store = open_store(clickup_env["NEGOTIATION_DB"])
    for task_id in bad_tasks:
        result = results[task_id]
        assert not result.success
        [failure] = [e for e in result.all_events if e.is_step_failure]
        assert failure.step_key == "campaign"
        data = failure.step_failure_data
        assert data is not None and data.user_failure_data is not None
        message = data.user_failure_data.description or ""
        assert "Influencer Roster URL: must be an https:// URL" in message or (
            "Influencer Roster URL: must be a public host" in message
        )
        recorded = everything_recorded(instance, result.run_id)
        [comment] = fake_clickup.comments_for(task_id)
        [audit] = store.audit.query(AuditQuery(campaign=task_id, event_type=EventType.ERROR))
        for text in (recorded, comment["comment_text"], json.dumps(audit.metadata)):
            assert SECRET not in text and "root:x:0" not in text
        assert store.campaigns.get(task_id) is None  # nothing half-ingested
    assert internal_service.requests == []  # never fetched


def stored_campaign_asset(roster_url: str) -> dg.AssetsDefinition:
    """A campaign stored before roster URLs were checked at intake:
    `campaign_influencers` must refuse the URL on its own."""
    parsed = parse_campaign_task(sandbox_task(VALID_LUMEN), FieldMapping.load())
    old = parsed.model_copy(update={"roster_url": roster_url})

    @dg.asset(name="campaign", partitions_def=campaign_partitions, group_name="campaigns")
    def stored_campaign() -> Campaign:
        return old

    return stored_campaign


def test_a_stored_internal_roster_url_fails_campaign_influencers_with_a_redacted_message(
    instance: dg.DagsterInstance,
    clickup_env: dict[str, str],
    internal_service: InternalService,
) -> None:
    port = internal_service.base_url.rsplit(":", 1)[1]
    url = f"https://127.0.0.1:{port}/internal/admin-export?key={SECRET}"
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])

    result = dg.materialize(
        [stored_campaign_asset(url), campaign_influencers],
        instance=instance,
        partition_key=VALID_LUMEN,
        resources=build_resources(clickup_env),
        raise_on_error=False,
    )

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "campaign_influencers"
    data = failure.step_failure_data
    assert data is not None and data.user_failure_data is not None
    assert data.user_failure_data.description == (
        f"campaign {VALID_LUMEN}: campaign roster "
        f"https://127.0.0.1:{port}/internal/admin-export?key=*** refused: it must be a public "
        "host, not a loopback address"
    )
    assert internal_service.requests == []
    store = open_store(clickup_env["NEGOTIATION_DB"])
    [audit] = store.audit.query(AuditQuery(campaign=VALID_LUMEN, event_type=EventType.ERROR))
    assert audit.metadata is not None
    assert audit.metadata["roster"] == f"https://127.0.0.1:{port}/internal/admin-export?key=***"
    assert store.states.list_for_campaign(VALID_LUMEN) == []  # nobody was emailed
    post_run_failure(instance, result.run_id, clickup_env)
    [alert] = [m for m in slack_messages(clickup_env) if m["text"].startswith("Run failed")]
    assert "admin-export?key=***" in json.dumps(alert)
    for text in (everything_recorded(instance, result.run_id), json.dumps(alert)):
        assert SECRET not in text


def test_a_key_in_roster_url_never_reaches_slack_the_event_log_or_the_audit_log(
    instance: dg.DagsterInstance,
    clickup_env: dict[str, str],
    internal_service: InternalService,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The operator's ROSTER_URL (http to an internal host is allowed there) carries a key in
    its query and keeps failing with 500: retried, then an API-error alert and a run failure."""
    monkeypatch.setattr(resilience, "sleep", lambda seconds: None)
    internal_service.status = 500
    env = {**clickup_env, "ROSTER_URL": f"{internal_service.base_url}/roster.csv?key={SECRET}"}
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    caplog.set_level("DEBUG")

    result = (
        build_definitions(env)
        .resolve_job_def("campaign_ingestion_job")
        .execute_in_process(instance=instance, partition_key=VALID_LUMEN, raise_on_error=False)
    )

    assert not result.success
    assert len(internal_service.requests) == 3  # fetched by the operator's rules, retried
    post_run_failure(instance, result.run_id, env)
    messages = slack_messages(env)
    kinds = sorted(m["text"].split(":")[0] for m in messages)
    assert kinds == ["API error", "Run failed"], messages
    api_alert = next(m for m in messages if m["text"].startswith("API error"))
    assert "HTTP 500" in json.dumps(api_alert) and "failed after 3 attempts" in api_alert["text"]
    store = open_store(env["NEGOTIATION_DB"])
    [audit] = store.audit.query(AuditQuery(campaign=VALID_LUMEN, event_type=EventType.ERROR))
    assert "answered HTTP 500" in audit.metadata["error"] if audit.metadata else False
    for text in (
        everything_recorded(instance, result.run_id),
        json.dumps(messages),
        json.dumps(audit.metadata),
        caplog.text,
    ):
        assert SECRET not in text
