"""Approval modes through the real definitions: a sandbox campaign whose ClickUp form says
"Review every email" is ingested by campaign_ingestion_job on a real Dagster instance, SQLite
store and sandbox Maildir; nothing is sent, each draft is announced on Slack once, and the
resolve_escalation job's send_draft sends exactly the approved one, exactly once."""

from __future__ import annotations

import email.utils
import json
from pathlib import Path
from typing import Any

import dagster as dg

from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox, SenderIdentity
from negotiation_pipeline.workflow.escalations import list_drafts
from negotiation_pipeline.workflow.persistence import thread_id_for
from tests.defs.conftest import ON_BOTH_STORES, VALID_LUMEN
from tests.integrations.clickup.test_approval_mode_field import approval_field
from tests.store.conftest import StoreLocation

MAYA = "maya.chen@example.test"
REVIEW_EVERY_EMAIL = 2  # the option's orderindex, as ClickUp sends a drop-down's value


def _review_mode_task(env: dict[str, str]) -> None:
    path = Path(env["NEGOTIATION_SANDBOX_DIR"]) / f"{VALID_LUMEN}.json"
    task = json.loads(path.read_text())
    task["custom_fields"].append(approval_field(REVIEW_EVERY_EMAIL))
    path.write_text(json.dumps(task))


def _home(env: dict[str, str]) -> Path:
    return Path(env["NEGOTIATION_DATA_DIR"])  # the sandbox files, whichever store is used


def _sent_to(env: dict[str, str]) -> list[str]:
    box = MaildirMailbox(_home(env) / "maildir", SenderIdentity("partnerships@northbeam.test"))
    found = []
    for raw in box.sent_messages():
        found.append(email.utils.parseaddr(email.message_from_bytes(raw).get("To", ""))[1])
    return found


def _slack(env: dict[str, str]) -> list[dict[str, Any]]:
    path = _home(env) / "slack.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def _send_draft(defs: dg.Definitions, instance: dg.DagsterInstance, thread: str) -> bool:
    job = defs.resolve_job_def("resolve_escalation")
    config = {"thread": thread, "action": "send_draft", "note": "looks right"}
    result = job.execute_in_process(
        run_config={"ops": {"resolve": {"config": config}}}, instance=instance
    )
    return result.success


@ON_BOTH_STORES
def test_review_mode_campaign_sends_only_what_a_person_approved(
    sandbox_env: dict[str, str], instance: dg.DagsterInstance, store_location: StoreLocation
) -> None:
    _review_mode_task(sandbox_env)
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    defs = build_definitions(sandbox_env)
    ingest = defs.resolve_job_def("campaign_ingestion_job")
    result = ingest.execute_in_process(instance=instance, partition_key=VALID_LUMEN)
    assert result.success
    opened: dict[str, Any] = next(
        {name: value.value for name, value in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey("negotiations")
    )
    assert opened["awaiting_approval"] == opened["opened"] > 0
    assert opened["emails_sent"] == 0 and _sent_to(sandbox_env) == []

    store = store_location.open()
    drafts = list_drafts(store, VALID_LUMEN)
    assert len(drafts) == opened["opened"]
    assert {d.draft_kind for d in drafts} == {"opening_offer"}
    alerts = [m for m in _slack(sandbox_env) if m["text"].startswith("Draft awaiting approval")]
    assert len(alerts) == len(drafts)
    maya = thread_id_for(VALID_LUMEN, MAYA)
    assert any(maya in json.dumps(m) and "control send-draft" in json.dumps(m) for m in alerts)

    # Ingesting again (an edited task) neither sends nor drafts anything twice.
    assert ingest.execute_in_process(instance=instance, partition_key=VALID_LUMEN).success
    assert _sent_to(sandbox_env) == [] and len(list_drafts(store, VALID_LUMEN)) == len(drafts)

    assert _send_draft(defs, instance, maya)
    assert _send_draft(defs, instance, maya)  # launched twice: nothing is repeated
    assert _sent_to(sandbox_env) == [MAYA]
    stored = store.states.load(maya)
    assert stored is not None and stored.state is NegotiationState.AWAITING_REPLY
    assert len(list_drafts(store, VALID_LUMEN)) == len(drafts) - 1
    store.close()
