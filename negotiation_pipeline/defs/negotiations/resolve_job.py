"""The `resolve_escalation` job: a person's decision on a waiting negotiation, launched from
the Launchpad with typed config. It calls the same workflow function as the CLI commands,
sends the email through the outbox, posts the Slack confirmation and re-materializes the
campaign's `negotiation_snapshots` and `campaign_report` (and those of any campaign a change
outside Dagster marked stale).
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import Enum

import dagster as dg
from pydantic import Field

from negotiation_pipeline.defs.campaigns.assets import STORE_WRITER_POOL
from negotiation_pipeline.defs.campaigns.jobs import SQLITE_RUN_TAGS
from negotiation_pipeline.defs.negotiations.assets import touched_campaign_materializations
from negotiation_pipeline.defs.shared.resources import (
    MailboxResource,
    NegotiationStoreResource,
    SlackResource,
)
from negotiation_pipeline.defs.shared.run_tags import tag_run_with_single_campaign
from negotiation_pipeline.settings.engine import load_engine_config
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.resolution import (
    ResolutionError,
    ResolutionRequest,
    ResolveAction,
    deliver_resolution,
    resolve,
)

RESOLVE_JOB = "resolve_escalation"


class ResolveChoice(Enum):
    accept = "accept"
    counter = "counter"
    send_draft = "send_draft"
    decline = "decline"


class ResolveEscalationConfig(dg.Config):
    """What the person decided, for which negotiation."""

    thread: str = Field(description="thread id, influencer email or influencer name")
    action: ResolveChoice = Field(description="accept | counter | send_draft | decline")
    amount: str | None = Field(
        default=None, description="accept: the rate (default their ask); counter: the amount"
    )
    scenario: int | None = Field(default=None, description="counter: deliverables of scenario N")
    allow_above_ceiling: bool = Field(
        default=False, description="counter: allow an amount above the ceiling (an override)"
    )
    text: str | None = Field(default=None, description="send_draft: the edited email body")
    note: str = Field(default="", description="why: kept in the audit trail and the Slack note")


def refresh_views(
    db: NegotiationStore, campaign_ids: list[str], *, run_id: str, location: str
) -> list[dg.AssetMaterialization]:
    """Materializations of the given campaigns' views and of every campaign marked stale; the
    marks are cleared once the materializations exist."""
    pending = db.view_refresh.pending()
    campaigns = list(dict.fromkeys([*campaign_ids, *pending]))
    events = touched_campaign_materializations(db, campaigns, run_id=run_id, location=location)
    db.view_refresh.clear(campaigns)
    return events


@dg.op(
    name="resolve",
    pool=STORE_WRITER_POOL,
    description="Carries out the decision, sends its email once, confirms in Slack.",
)
def resolve_op(
    context: dg.OpExecutionContext,
    config: ResolveEscalationConfig,
    store: NegotiationStoreResource,
    mailbox: MailboxResource,
    slack: SlackResource,
) -> Iterator[dg.AssetMaterialization | dg.Output[str]]:
    request = ResolutionRequest(
        target=config.thread,
        action=ResolveAction(config.action.value),
        amount=config.amount,
        scenario=config.scenario,
        allow_above_ceiling=config.allow_above_ceiling,
        text=config.text,
        note=config.note,
    )
    now = datetime.now(UTC)
    with store.open() as db:
        try:
            result = resolve(
                db,
                request,
                config=load_engine_config(),
                actor=f"dagster:{context.run_id}",
                agent_addresses=[mailbox.agent_email],
                now=now,
            )
        except ResolutionError as exc:
            raise dg.Failure(description=f"{config.action.value} {config.thread}: {exc}") from exc
        tag_run_with_single_campaign(context, db, [result.campaign_id])
        with mailbox.open() as box:
            email_status = deliver_resolution(db, box, result, now=now)
        slack_delivery = slack.deliver(db)
        context.log.info(f"{result.line()}; email {email_status}")
        yield from refresh_views(
            db, [result.campaign_id], run_id=context.run_id, location=store.db_path
        )
    yield dg.Output(
        result.line(),
        metadata={
            **{k: str(v) for k, v in result.to_dict().items() if v is not None},
            "email": email_status,
            "slack_pending": slack_delivery.pending,
        },
    )


@dg.job(
    name=RESOLVE_JOB,
    tags=SQLITE_RUN_TAGS,
    executor_def=dg.in_process_executor,
    description=(
        "A person's decision on an escalated negotiation or a draft awaiting approval: accept, "
        "counter, send the draft (optionally edited) or decline. Safe to launch twice: the "
        "same decision is carried out and emailed once."
    ),
)
def resolve_escalation_job() -> None:
    resolve_op()
