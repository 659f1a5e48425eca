"""The resolve_escalation job on a real Dagster instance, SQLite store and sandbox Maildir:
the decision's email goes out once, the run names who decided, the views re-materialize."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import NegotiationStore
from negotiation_pipeline.store.audit_filters import AuditQuery
from tests.defs.conftest import ON_BOTH_STORES
from tests.store.conftest import StoreLocation
from tests.workflow.escalated import JANE, JANE_THREAD, escalate_jane
from tests.workflow.support import open_mailbox, sent_by_recipient


def _escalated_store(env: dict[str, str], location: StoreLocation) -> tuple[NegotiationStore, Path]:
    maildir = Path(env["NEGOTIATION_DATA_DIR"]) / "maildir"  # where the sandbox mailbox looks
    store = location.open()
    escalate_jane(store, open_mailbox(maildir))
    return store, maildir


def _run(
    defs: dg.Definitions, instance: dg.DagsterInstance, **config: Any
) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("resolve_escalation")
    return job.execute_in_process(
        run_config={"ops": {"resolve": {"config": config}}},
        instance=instance,
        raise_on_error=False,
    )


@ON_BOTH_STORES
def test_counter_from_the_job_sends_once_and_refreshes_the_views(
    sandbox_env: dict[str, str], instance: dg.DagsterInstance, store_location: StoreLocation
) -> None:
    store, maildir = _escalated_store(sandbox_env, store_location)
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, ["cmp-1"])
    defs = build_definitions(sandbox_env)
    result = _run(defs, instance, thread="Jane Doe", action="counter", amount="1500", note="ok")
    assert result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None  # the run names the campaign it decided on, for the Runs page
    assert run.tags["campaign_name"] == "Glow Labs" and run.tags["clickup/task_id"] == "cmp-1"
    emails = sent_by_recipient(open_mailbox(maildir))[JANE]
    assert len(emails) == 2 and "$1,500.00" in emails[-1].get_content()
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.state is NegotiationState.COUNTER_SENT
    audit = store.audit.query(
        AuditQuery(thread_id=JANE_THREAD, event_type=EventType.STATE_TRANSITION)
    )[0]
    assert audit.metadata is not None
    assert audit.metadata["actor"] == f"dagster:{result.run_id}"
    assert audit.metadata["note"] == "ok"
    keys = {m.asset_key.to_user_string() for m in result.asset_materializations_for_node("resolve")}
    assert keys == {"negotiation_snapshots", "negotiation_conversations", "campaign_report"}
    assert store.view_refresh.pending() == []
    slack_log = (Path(sandbox_env["NEGOTIATION_DATA_DIR"]) / "slack.jsonl").read_text()
    assert "Resolved: Jane Doe" in slack_log

    # Launched again with the same config: nothing is sent twice, the run still succeeds.
    again = _run(defs, instance, thread="Jane Doe", action="counter", amount="1500", note="ok")
    assert again.success
    assert len(sent_by_recipient(open_mailbox(maildir))[JANE]) == 2


def test_a_refused_decision_fails_the_run_with_the_reason(
    sandbox_env: dict[str, str], instance: dg.DagsterInstance, store_location: StoreLocation
) -> None:
    store, maildir = _escalated_store(sandbox_env, store_location)
    defs = build_definitions(sandbox_env)
    result = _run(defs, instance, thread=JANE_THREAD, action="counter", amount="a lot")
    assert not result.success
    failure = result.failure_data_for_node("resolve")
    assert failure is not None and "not money" in str(failure.error)
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.state is NegotiationState.ESCALATED
    assert len(sent_by_recipient(open_mailbox(maildir))[JANE]) == 1
