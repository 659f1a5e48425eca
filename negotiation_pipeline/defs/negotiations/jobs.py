"""Op jobs of the negotiation loop: answering a batch of replies, and the hourly follow-ups.

Each job is one op: the workflow service does the work in its own transactions (queueing the
Slack alerts with each change); the op then delivers the pending Slack alerts, posts the ClickUp
comments for what happened, and reports asset materializations (agreements, negotiation
snapshots, campaign reports, also of campaigns a CLI command changed meanwhile) so the UI
shows the campaign's current state and `cpm_flexibility`
recomputes through automation after an agreement.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import dagster as dg

from negotiation_pipeline.defs.campaigns.assets import STORE_WRITER_POOL
from negotiation_pipeline.defs.campaigns.jobs import SQLITE_RUN_TAGS
from negotiation_pipeline.defs.negotiations.agreements import agreement_materialization
from negotiation_pipeline.defs.negotiations.assets import (
    delivery_metadata,
    raise_on_delivery_failures,
)
from negotiation_pipeline.defs.negotiations.decision_log import reply_log_line
from negotiation_pipeline.defs.negotiations.notifications import notify_events, notify_metadata
from negotiation_pipeline.defs.negotiations.resolve_job import refresh_views
from negotiation_pipeline.defs.shared.resources import (
    BusinessRulesResource,
    CampaignTaskSourceResource,
    MailboxResource,
    NegotiationStoreResource,
    SecondOpinionResource,
    SlackResource,
)
from negotiation_pipeline.defs.shared.run_tags import tag_run_with_single_campaign
from negotiation_pipeline.workflow.events import AgreementReached, PipelineEvent
from negotiation_pipeline.workflow.followups import run_followups
from negotiation_pipeline.workflow.replies import advance_negotiations

ADVANCE_OP = "advance_negotiations"
FOLLOWUP_OP = "run_followups"


class AdvanceConfig(dg.Config):
    """One batch of new mail, as listed by inbox_sensor."""

    uidvalidity: int
    uids: list[int]


def _agreement_materializations(
    events: Sequence[PipelineEvent],
) -> list[dg.AssetMaterialization]:
    return [
        agreement_materialization(
            event.campaign_id, influencer_name=event.influencer_name, rate=event.rate, cpm=event.cpm
        )
        for event in events
        if isinstance(event, AgreementReached)
    ]


def _campaigns_of(events: Sequence[PipelineEvent]) -> list[str]:
    return list(dict.fromkeys(event.campaign_id for event in events))


@dg.op(
    name=ADVANCE_OP,
    pool=STORE_WRITER_POOL,
    description=(
        "Reads each reply of the batch, decides our answer and sends it, then alerts Slack and "
        "refreshes the agreements, snapshots and reports of the campaigns concerned."
    ),
)
def advance_negotiations_op(
    context: dg.OpExecutionContext,
    config: AdvanceConfig,
    store: NegotiationStoreResource,
    mailbox: MailboxResource,
    slack: SlackResource,
    clickup: CampaignTaskSourceResource,
    second_opinion: SecondOpinionResource,
    rules: BusinessRulesResource,
) -> Iterator[dg.AssetMaterialization | dg.Output[int]]:
    with store.open() as db:
        with mailbox.open() as box, second_opinion.open() as ask:
            result = advance_negotiations(
                db,
                box,
                rules.engine_config(),
                mailbox_name=mailbox.mailbox_name,
                agent_addresses=[mailbox.agent_email],
                now=datetime.now(UTC),
                uids=config.uids,
                uidvalidity=config.uidvalidity,
                second_opinion=ask,
            )
        for decision in result.replies:
            context.log.info(reply_log_line(decision))
        events = [*result.events, *result.delivery.events]
        notified = notify_events(context.log, events, db, slack, clickup)
        yield from _agreement_materializations(result.events)
        touched = dict.fromkeys([*result.touched_campaigns, *_campaigns_of(result.delivery.events)])
        tag_run_with_single_campaign(context, db, touched)
        yield from refresh_views(
            db, [c for c in touched if c], run_id=context.run_id, location=store.db_path
        )
    if result.failed_uids:
        raise dg.Failure(
            f"database failure on uid(s) {list(result.failed_uids)}: they stay unhandled and "
            "are retried on the next run",
        )
    raise_on_delivery_failures(result.delivery)
    yield dg.Output(
        result.processed,
        metadata={
            "replies_processed": result.processed,
            "unmatched": result.unmatched,
            "skipped": result.skipped,
            "duplicates": result.duplicates,
            "unreadable": result.unreadable,
            "quarantined": result.quarantined,
            "released": result.released,
            "handled_by_other_runs": result.handled_elsewhere,
            "waiting_for_earlier_mail": len(result.waiting_uids),
            **delivery_metadata(result.delivery),
            "touched_campaigns": ", ".join(result.touched_campaigns) or "none",
            "mail_cursor": result.cursor.to_string() if result.cursor else "",
            **notify_metadata(notified),
        },
    )


@dg.job(
    name="advance_negotiations_job",
    tags=SQLITE_RUN_TAGS,
    executor_def=dg.in_process_executor,
    description=(
        "Answers every negotiation that got a reply in one batch of new mail (launched by "
        "inbox_sensor). Safe to re-run: each reply is handled once and each email sent once."
    ),
)
def advance_negotiations_job() -> None:
    advance_negotiations_op()


@dg.op(
    name=FOLLOWUP_OP,
    pool=STORE_WRITER_POOL,
    description=(
        "Sends one follow-up to each negotiation silent for the configured days, marks it stale "
        "after that, and posts a Slack note for each stale one."
    ),
)
def run_followups_op(
    context: dg.OpExecutionContext,
    store: NegotiationStoreResource,
    mailbox: MailboxResource,
    slack: SlackResource,
    clickup: CampaignTaskSourceResource,
    rules: BusinessRulesResource,
) -> Iterator[dg.AssetMaterialization | dg.Output[int]]:
    with store.open() as db:
        with mailbox.open() as box:
            result = run_followups(
                db, box, rules.engine_config(), sender=mailbox.sender, now=datetime.now(UTC)
            )
        delivery = result.delivery
        events = [*result.events, *delivery.events]
        notified = notify_events(context.log, events, db, slack, clickup)
        tag_run_with_single_campaign(context, db, _campaigns_of(events))
        yield from refresh_views(
            db, _campaigns_of(events), run_id=context.run_id, location=store.db_path
        )
    raise_on_delivery_failures(delivery)
    yield dg.Output(
        len(events),
        metadata={
            "negotiations_checked": result.checked,
            "followed_up": len(result.followed_up),
            "marked_stale": len(result.marked_stale),
            "escalated": len(result.escalated),
            "held_for_absence": len(result.held),
            **delivery_metadata(delivery),
            **notify_metadata(notified),
        },
    )


@dg.job(
    name="followup_job",
    tags=SQLITE_RUN_TAGS,
    executor_def=dg.in_process_executor,
    description="Follow-ups for silent negotiations, then stale marks (hourly schedule).",
)
def followup_job() -> None:
    run_followups_op()


followup_schedule = dg.ScheduleDefinition(
    name="followup_schedule",
    job=followup_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Hourly: follow up on negotiations silent for the days the negotiation policy sets, "
        "then mark them stale."
    ),
)
