"""The product as an operator runs it: `negotiation-pipeline dev` in the sandbox, observed only
through the webserver's GraphQL API and the CLI.

Proves: the instance is the copied dagster.yaml in DAGSTER_HOME; clickup_campaign_sensor is
RUNNING by default and turns the sandbox task files into `campaign` partitions; the daemon runs
one campaign_ingestion_job per task (run key = task id:date_updated), the valid campaigns
succeed and materialize cpm_flexibility, the invalid one fails; `negotiation-pipeline
backfill-cpm` launches a real asset backfill of cpm_flexibility that the daemon completes.
"""

from __future__ import annotations

import email
import json
import subprocess
import sys
import time
from contextlib import closing

import pytest

from negotiation_pipeline.store import Agreement, build_audit_query, open_store
from tests.e2e.conftest import REPO_ROOT, DevServer, listening_hosts
from tests.support.dagster_webserver import RunSummary

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SENSOR = "clickup_campaign_sensor"
VALID_CAMPAIGNS = ("86b1aa001", "86b1aa002")
INVALID_CAMPAIGN = "86b1aa003"  # the sandbox task whose form does not validate
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
INGESTION_TIMEOUT_S = 300.0  # three serialized runs, each a few step subprocesses
BACKFILL_TIMEOUT_S = 300.0


def sandbox_task_ids(server: DevServer) -> set[str]:
    return {path.stem for path in server.sandbox_tasks.glob("*.json")}


@pytest.fixture(scope="module")
def ingestion_runs(dev_server: DevServer) -> dict[str, RunSummary]:
    """The sensor's ingestion run of every sandbox task, once all of them have finished."""
    expected = sandbox_task_ids(dev_server)

    def finished_runs() -> dict[str, RunSummary] | None:
        runs = dev_server.client.runs(tags={"dagster/sensor_name": SENSOR})
        by_partition = {r.partition: r for r in runs if r.partition}
        done = {p: r for p, r in by_partition.items() if r.status in FINISHED}
        return done if set(done) >= expected else None

    return dev_server.wait_for(
        f"{SENSOR} runs of {sorted(expected)} to finish", finished_runs, INGESTION_TIMEOUT_S
    )


def test_the_unauthenticated_ui_listens_on_loopback_only(dev_server: DevServer) -> None:
    port = int(dev_server.url.rsplit(":", 1)[1])
    assert listening_hosts(port) == {"127.0.0.1"}


def test_instance_uses_the_copied_dagster_yaml(dev_server: DevServer) -> None:
    copied = dev_server.dagster_home / "dagster.yaml"
    assert copied.read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()
    data = dev_server.client.execute(
        "{ instance { runQueuingSupported runLauncher { name } runQueueConfig { maxConcurrentRuns "
        "tagConcurrencyLimitsYaml } } }"
    )
    instance = data["instance"]
    assert instance["runQueuingSupported"] is True
    assert instance["runLauncher"]["name"] == "DefaultRunLauncher"
    # Values only the project's dagster.yaml sets: the copy in DAGSTER_HOME is what runs.
    assert instance["runQueueConfig"]["maxConcurrentRuns"] == 4
    assert "negotiation/db" in instance["runQueueConfig"]["tagConcurrencyLimitsYaml"]


def test_sensor_runs_by_default_and_adds_a_partition_per_sandbox_task(
    dev_server: DevServer,
) -> None:
    state = dev_server.client.sensor_state(SENSOR)
    assert state.status == "RUNNING"
    expected = sorted(sandbox_task_ids(dev_server))
    assert expected == [*VALID_CAMPAIGNS, INVALID_CAMPAIGN]

    def partitions_added() -> list[str] | None:
        keys = sorted(dev_server.client.asset_partition_keys("campaign"))
        return keys if keys == expected else None

    dev_server.wait_for("campaign partitions from the sandbox", partitions_added, 120)

    # The sensor's tick that added them requested one run per task, keyed by content. The
    # partitions exist as soon as the tick applies them; its run keys are recorded when the
    # tick finishes, which can be a moment later on a busy machine.
    def recorded_run_keys() -> set[str] | None:
        ticks = dev_server.client.sensor_state(SENSOR, tick_limit=50).ticks
        keys = {key for tick in ticks for key in tick.run_keys}
        return keys if len(keys) >= len(expected) else None

    run_keys = dev_server.wait_for("the sensor tick's run keys", recorded_run_keys, 120)
    assert {key.split(":")[0] for key in run_keys} == set(expected)
    assert all(key.split(":")[1].isdigit() for key in run_keys)


def test_valid_campaigns_ingest_and_the_invalid_one_fails(
    dev_server: DevServer, ingestion_runs: dict[str, RunSummary]
) -> None:
    statuses = {partition: run.status for partition, run in ingestion_runs.items()}
    assert statuses == {
        VALID_CAMPAIGNS[0]: "SUCCESS",
        VALID_CAMPAIGNS[1]: "SUCCESS",
        INVALID_CAMPAIGN: "FAILURE",
    }
    for run in ingestion_runs.values():
        assert run.job_name == "campaign_ingestion_job"
        assert run.tags["dagster/run_key"].startswith(f"{run.partition}:")
    materialized = {
        m.partition for m in dev_server.client.asset_materializations("cpm_flexibility")
    }
    assert materialized == set(VALID_CAMPAIGNS)
    campaign_status = dev_server.client.asset_partition_statuses("campaign")
    assert campaign_status.materialized == set(VALID_CAMPAIGNS)
    assert INVALID_CAMPAIGN in campaign_status.failed


def run_backfill_cli(server: DevServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "negotiation_pipeline.cli", "backfill-cpm", "--url", server.url,
         *args],
        capture_output=True,
        text=True,
        env=server.env,
        timeout=BACKFILL_TIMEOUT_S + 60,
    )  # fmt: skip


def test_backfill_cpm_rejects_an_unknown_campaign_on_the_live_server(
    dev_server: DevServer, ingestion_runs: dict[str, RunSummary]
) -> None:
    done = run_backfill_cli(dev_server, "--campaign", "no-such-task")
    assert done.returncode == 2, done.stderr
    assert "unknown campaign id(s): no-such-task" in done.stderr
    assert VALID_CAMPAIGNS[0] in done.stderr  # the message lists the campaigns that exist


def test_backfill_cpm_recomputes_cpm_flexibility_through_an_asset_backfill(
    dev_server: DevServer, ingestion_runs: dict[str, RunSummary]
) -> None:
    client = dev_server.client
    launched_ms = time.time() * 1000
    done = run_backfill_cli(
        dev_server, "--timeout", str(BACKFILL_TIMEOUT_S), "--poll-interval", "1"
    )
    assert done.returncode == 0, f"{done.stderr}\n--- log ---\n{dev_server.log_tail()}"
    summary = json.loads(done.stdout)
    assert summary["status"] == "COMPLETED_SUCCESS"
    # Every campaign with an influencer list; the invalid one is reported as skipped.
    assert summary["partitions"] == list(VALID_CAMPAIGNS)
    assert summary["skipped"] == [INVALID_CAMPAIGN]

    status = client.backfill_status(summary["backfill_id"])
    assert status.status == "COMPLETED_SUCCESS" and status.is_asset_backfill
    progress = status.progress_for("cpm_flexibility")
    assert progress is not None
    assert (progress.targeted, progress.materialized, progress.failed) == (2, 2, 0)

    backfill_runs = client.runs(tags={"dagster/backfill": summary["backfill_id"]})
    assert {r.partition for r in backfill_runs} == set(VALID_CAMPAIGNS)
    assert {r.status for r in backfill_runs} == {"SUCCESS"}
    fresh = [
        m
        for m in client.asset_materializations("cpm_flexibility", list(VALID_CAMPAIGNS))
        if m.timestamp_ms >= launched_ms
    ]
    assert {m.partition for m in fresh} == set(VALID_CAMPAIGNS)
    assert {m.run_id for m in fresh} <= {r.run_id for r in backfill_runs}


# --- negotiation loop -----------------------------------------------------------------------------
# After ingestion the sandbox runs by itself: opening offers land in the Maildir next to the test's
# store, simulated influencers answer them (sandbox_influencer_sensor), inbox_sensor launches
# advance_negotiations_job, agreements are recorded, the report is materialized, and an agreement
# makes cpm_automation_sensor recompute that campaign's cpm_flexibility.
NEGOTIATION_TIMEOUT_S = 420.0
NEGOTIATION_SENSORS = ("inbox_sensor", "sandbox_influencer_sensor", "run_failure_slack_sensor")


def sent_message_ids(server: DevServer) -> list[str]:
    sent = server.db_path.parent / "maildir" / "sent"
    ids = []
    for folder in ("new", "cur"):
        for path in sorted((sent / folder).glob("*")) if (sent / folder).exists() else []:
            message = email.message_from_bytes(path.read_bytes())
            ids.append("".join(str(message["Message-ID"]).split()))  # unfold the header
    return ids


def stored_agreements(server: DevServer) -> list[Agreement]:
    with closing(open_store(server.db_path, create=False)) as store:
        return [a for c in VALID_CAMPAIGNS for a in store.agreements.for_campaign(c)]


@pytest.fixture(scope="module")
def first_agreement(
    dev_server: DevServer, ingestion_runs: dict[str, RunSummary]
) -> list[Agreement]:
    return dev_server.wait_for(
        "an agreement from the simulated influencers",
        lambda: stored_agreements(dev_server) or None,
        NEGOTIATION_TIMEOUT_S,
        poll_s=2.0,
    )


def test_negotiation_sensors_run_by_default(dev_server: DevServer) -> None:
    for name in NEGOTIATION_SENSORS:
        assert dev_server.client.sensor_state(name).status == "RUNNING", name


def test_ingestion_sends_one_opening_offer_per_influencer_of_the_valid_campaigns(
    dev_server: DevServer, ingestion_runs: dict[str, RunSummary]
) -> None:
    assert ingestion_runs[INVALID_CAMPAIGN].status == "FAILURE"
    with closing(open_store(dev_server.db_path, create=False)) as store:
        opened = {c: store.states.list_for_campaign(c) for c in VALID_CAMPAIGNS}
        assert store.states.list_for_campaign(INVALID_CAMPAIGN) == []
        # The first email of each thread is its opening offer (a thread whose price cannot work
        # is escalated at opening and has none).
        openings = [
            emails[0].message_id
            for negotiations in opened.values()
            for negotiation in negotiations
            if (emails := store.outbox.for_thread(negotiation.thread_id))
        ]
    assert all(opened.values()), opened
    assert openings, "no opening offer was queued"
    ids = sent_message_ids(dev_server)
    assert len(ids) == len(set(ids)), "an email was sent twice"
    assert set(openings) <= set(ids), "an opening offer was not sent"


def test_replies_are_read_by_advance_negotiations_and_reach_agreements(
    dev_server: DevServer, first_agreement: list[Agreement]
) -> None:
    runs = dev_server.client.runs(job_name="advance_negotiations_job")
    assert any(r.status == "SUCCESS" for r in runs), [r.status for r in runs]
    assert {r.tags.get("dagster/sensor_name") for r in runs} == {"inbox_sensor"}
    agreement = first_agreement[0]
    assert agreement.rate > 0 and agreement.cpm > 0
    with closing(open_store(dev_server.db_path, create=False)) as store:
        trail = store.audit.query(
            build_audit_query(campaign=agreement.campaign_id, event_type="agreement")
        )
        negotiation = store.states.load(agreement.thread_id)
    assert trail, "the agreement is in the audit trail"
    assert negotiation is not None and negotiation.state.value == "agreed"
    slack = (dev_server.db_path.parent / "slack.jsonl").read_text(encoding="utf-8")
    assert agreement.influencer_name in slack  # the sandbox Slack heard about it


def test_reports_materialize_and_an_agreement_recomputes_cpm_flexibility(
    dev_server: DevServer, first_agreement: list[Agreement]
) -> None:
    campaign_id = first_agreement[0].campaign_id
    reports = dev_server.client.asset_materializations("campaign_report", [campaign_id])
    assert reports, "campaign_report was materialized for the campaign"

    # Agreements keep coming while the loop runs; wait until the automation sensor has
    # recomputed cpm_flexibility of a campaign with an agreement (the first agreement's campaign
    # may already have been recomputed by the backfill test, which then needs no new run).
    def automation_run() -> RunSummary | None:
        agreed = {a.campaign_id for a in stored_agreements(dev_server)}
        runs = dev_server.client.runs(tags={"dagster/sensor_name": "cpm_automation_sensor"})
        return next(
            (r for r in runs if r.status == "SUCCESS" and r.partition in agreed),
            None,
        )

    run = dev_server.wait_for(
        "cpm_automation_sensor to recompute cpm_flexibility of a campaign with an agreement",
        automation_run,
        NEGOTIATION_TIMEOUT_S,
        poll_s=2.0,
    )
    assert run.partition is not None
    fresh = dev_server.client.asset_materializations("cpm_flexibility", [run.partition])
    assert run.run_id in {m.run_id for m in fresh}
