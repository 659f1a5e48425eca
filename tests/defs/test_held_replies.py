"""Held replies through Dagster, in the sandbox: the real test instance, inbox_sensor, the real
advance_negotiations_job, the SQLite store, the sandbox Maildir and the LogSlack JSONL file;
then the operator's `control allow-sender` and the next scheduled run that sends the answer."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest

from negotiation_pipeline.cli import main
from negotiation_pipeline.defs.negotiations.jobs import ADVANCE_OP
from negotiation_pipeline.defs.negotiations.sensors import inbox_sensor
from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.integrations.mail import reply_subject
from negotiation_pipeline.store import InboundStatus
from negotiation_pipeline.workflow.persistence import thread_id_for
from tests.defs.conftest import ON_BOTH_STORES, VALID_LUMEN
from tests.defs.test_negotiation_loop import (  # noqa: F401 (the sandbox fixture)
    MAYA,
    Sandbox,
    sandbox,
)

MAYA_THREAD = thread_id_for(VALID_LUMEN, MAYA)
MANAGER = "riley@brightline.test"  # answers for Maya, but the roster does not list them


def _manager_reply(box: Sandbox, text: str) -> bytes:
    ours = box.store().outbox.for_thread(MAYA_THREAD)[-1]
    message = EmailMessage()
    message["From"] = email.utils.formataddr(("Riley Miles", MANAGER))
    message["To"] = "partnerships@northbeam.test"
    message["Subject"] = reply_subject(ours.subject)
    message["Message-ID"] = "<riley-1@brightline.test>"
    message["In-Reply-To"] = ours.message_id
    message["References"] = ours.message_id
    message["Date"] = email.utils.formatdate()
    message.set_content(text)
    return message.as_bytes(policy=SMTP_POLICY)


@ON_BOTH_STORES
def test_a_reply_from_an_unlisted_sender_is_held_alerted_and_released_once(
    sandbox: Sandbox,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The CLI reads the same environment the code location was built from.
    for name in ("NEGOTIATION_DB", "NEGOTIATION_SANDBOX_DIR"):
        monkeypatch.setenv(name, sandbox.env[name])
    sandbox.ingest()
    maildir = sandbox.maildir()
    maildir.append_to_inbox(_manager_reply(sandbox, "That works for Maya, let's do it!"))
    sent_before = len(maildir.sent_messages())
    [request] = sandbox.tick(inbox_sensor.name, cursor=None).run_requests or []

    held_run = sandbox.advance(request)

    assert held_run.success
    store = sandbox.store()
    maya = store.states.load(MAYA_THREAD)
    assert maya is not None and maya.state is NegotiationState.AWAITING_REPLY
    assert store.agreements.for_campaign(VALID_LUMEN) == []
    assert len(maildir.sent_messages()) == sent_before  # nobody was answered
    row = store.inbound.get("<riley-1@brightline.test>", MANAGER)
    assert row is not None and row.status is InboundStatus.QUARANTINED
    held_alerts = [m for m in sandbox.slack_messages() if m["text"].startswith("Reply held")]
    assert [m["text"] for m in held_alerts] == [
        f"Reply held: Maya Chen (Lumen Skincare), from {MANAGER}: not processed"
    ]
    assert "control allow-sender" in str(held_alerts[0]["blocks"])
    [output] = [
        event.step_output_data
        for event in held_run.all_node_events
        if event.is_successful_output and event.node_name == ADVANCE_OP
    ]
    metadata = {key: value.value for key, value in output.metadata.items()}
    assert metadata["quarantined"] == 1 and metadata["replies_processed"] == 0

    # The operator vouches for Riley; the held reply is processed now, once.
    assert main(["control", "allow-sender", MAYA_THREAD, MANAGER, "--actor", "ops"]) == 0
    maya = sandbox.store().states.load(MAYA_THREAD)
    assert maya is not None and maya.state is NegotiationState.AGREED
    deals = [m for m in sandbox.slack_messages() if m["text"].startswith("Deal agreed: Maya")]
    assert len(deals) == 1

    # The next scheduled run sends the confirmation (to Riley), and only once.
    followups = sandbox.defs.resolve_job_def("followup_job")
    assert followups.execute_in_process(instance=sandbox.instance).success
    assert followups.execute_in_process(instance=sandbox.instance).success
    new_mail = maildir.sent_messages()[sent_before:]
    assert [email.utils.parseaddr(_to(raw))[1] for raw in new_mail] == [MANAGER]
    assert sandbox.advance(request).success  # the same batch again: nothing twice
    assert len(sandbox.store().agreements.for_campaign(VALID_LUMEN)) == 1
    assert len(maildir.sent_messages()) == sent_before + 1


def _to(raw: bytes) -> str:
    return str(email.message_from_bytes(raw).get("To", ""))


def test_the_runs_metadata_reports_released_replies(sandbox: Sandbox) -> None:  # noqa: F811
    """An allowance whose processing never happened (recorded directly here) is finished by
    the next advance run, which reports it."""
    sandbox.ingest()
    maildir = sandbox.maildir()
    maildir.append_to_inbox(_manager_reply(sandbox, "Maya's rate would be $1,600."))
    [request] = sandbox.tick(inbox_sensor.name, cursor=None).run_requests or []
    assert sandbox.advance(request).success
    store = sandbox.store()
    store.allowed_senders.allow(MAYA_THREAD, MANAGER, MANAGER, allowed_by="cli:ops")

    again = sandbox.advance(request)

    assert again.success
    [output] = [
        event.step_output_data
        for event in again.all_node_events
        if event.is_successful_output and event.node_name == ADVANCE_OP
    ]
    metadata = {key: value.value for key, value in output.metadata.items()}
    assert metadata["released"] == 1 and metadata["emails_sent"] == 1
    maya = sandbox.store().states.load(MAYA_THREAD)
    assert maya is not None and maya.state is NegotiationState.COUNTER_SENT
