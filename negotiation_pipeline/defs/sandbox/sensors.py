"""Sandbox sensor: simulated influencers answer the emails the agent sent."""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import json
from datetime import UTC, datetime

import dagster as dg

from negotiation_pipeline.defs.shared.resources import (
    MailboxResource,
    MaildirMailboxResource,
    NegotiationStoreResource,
)
from negotiation_pipeline.sandbox.influencer_replies import answer_sent_mail

SANDBOX_INTERVAL_SECONDS = 30


@dg.sensor(
    name="sandbox_influencer_sensor",
    minimum_interval_seconds=SANDBOX_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Sandbox only: simulated influencers answer the emails we sent into the sandbox "
        "mailbox; inbox_sensor then picks their replies up like real mail."
    ),
)
def sandbox_influencer_sensor(
    context: dg.SensorEvaluationContext,
    store: NegotiationStoreResource,
    mailbox: MailboxResource,
) -> dg.SensorResult:
    if not isinstance(mailbox, MaildirMailboxResource):
        return dg.SensorResult(skip_reason="not the sandbox mailbox", cursor=context.cursor)
    seen = int(json.loads(context.cursor)["seen_sent"]) if context.cursor else 0
    with store.open() as db:
        answers = answer_sent_mail(
            db, mailbox.open_maildir(), seen_sent=seen, now=datetime.now(UTC)
        )
    cursor = json.dumps({"seen_sent": answers.seen_sent})
    if not answers.answered:
        return dg.SensorResult(skip_reason="no email to answer", cursor=cursor)
    context.log.info(
        f"simulated replies to {len(answers.answered)} thread(s); "
        f"{len(answers.silent)} stayed silent"
    )
    return dg.SensorResult(cursor=cursor)
