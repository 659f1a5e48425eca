"""A permanently undeliverable email, through Dagster in the sandbox: the advance run succeeds,
says so in its metadata, escalates that thread once with one Slack alert, and the other
influencers' replies are answered, in this run and the next."""

from __future__ import annotations

from typing import Any

import dagster as dg

from negotiation_pipeline.defs.negotiations.jobs import ADVANCE_OP
from negotiation_pipeline.defs.negotiations.sensors import inbox_sensor
from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.store import OutboxEmail, OutboxStatus
from negotiation_pipeline.workflow.persistence import thread_id_for
from tests.defs.conftest import ON_BOTH_STORES, VALID_LUMEN
from tests.defs.test_negotiation_loop import (  # noqa: F401 (the fixture)
    MAYA,
    THEO,
    Sandbox,
    influencer_reply,
    sandbox,
)

UNSENDABLE = "theo@exä..mple.test"  # a domain no server can take
PRIYA = "priya.nair@example.test"


def _output_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = output.event_specific_data.metadata  # type: ignore[union-attr]
    return {name: value.value for name, value in metadata.items()}


@ON_BOTH_STORES
def test_an_undeliverable_email_escalates_once_and_the_runs_go_on(
    sandbox: Sandbox,  # noqa: F811 (the fixture)
) -> None:
    sandbox.ingest()
    theo_thread = thread_id_for(VALID_LUMEN, THEO)
    store = sandbox.store()
    assert store.outbox.add(
        OutboxEmail(
            message_id="<undeliverable.1@northbeam.test>",
            to_addr=UNSENDABLE,
            subject="Re: our offer",
            body="A follow-up the mail server will never take.",
            thread_id=theo_thread,
            campaign_id=VALID_LUMEN,
        )
    )
    maildir = sandbox.maildir()
    maildir.append_to_inbox(
        influencer_reply(sandbox, MAYA, "That works for me, let's do it!", "Maya Chen")
    )
    first_tick = sandbox.tick(inbox_sensor.name, cursor=None)
    [request] = first_tick.run_requests or []

    first = sandbox.advance(request)

    assert first.success and first.output_for_node(ADVANCE_OP) == 1
    metadata = _output_metadata(first)
    assert (metadata["emails_failed"], metadata["emails_sent"]) == (1, 1)
    failed = store.outbox.get("<undeliverable.1@northbeam.test>")
    assert failed is not None and failed.status is OutboxStatus.FAILED
    theo = store.states.load(theo_thread)
    assert theo is not None and theo.state is NegotiationState.ESCALATED
    maya = store.states.load(thread_id_for(VALID_LUMEN, MAYA))
    assert maya is not None and maya.state is NegotiationState.AGREED
    alerts = [m["text"] for m in sandbox.slack_messages() if "could not be delivered" in m["text"]]
    assert len(alerts) == 1 and "Theo" in alerts[0]

    maildir.append_to_inbox(
        influencer_reply(sandbox, PRIYA, "My rate for this would be $900.", "Priya Nair")
    )
    [later] = sandbox.tick(inbox_sensor.name, cursor=first_tick.cursor).run_requests or []
    second = sandbox.advance(later)
    assert second.success and second.output_for_node(ADVANCE_OP) == 1
    assert _output_metadata(second)["emails_sent"] == 1  # Priya's answer went out
    again = [m["text"] for m in sandbox.slack_messages() if "could not be delivered" in m["text"]]
    assert again == alerts  # Slack heard it once
