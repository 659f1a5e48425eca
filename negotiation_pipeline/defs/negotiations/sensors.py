"""Sensors of the negotiation loop: new mail and failed runs.

inbox_sensor stays cheap: it lists uids only (no bodies) and requests one
advance_negotiations_job run per batch; the run fetches, reads and answers.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
import time
from collections.abc import Sequence

import dagster as dg

from negotiation_pipeline.defs.negotiations.jobs import (
    ADVANCE_OP,
    AdvanceConfig,
    advance_negotiations_job,
)
from negotiation_pipeline.defs.shared.resources import (
    MailboxResource,
    NegotiationStoreResource,
    SlackResource,
)
from negotiation_pipeline.domain.redaction import redact_text
from negotiation_pipeline.integrations.mail import MailCursor
from negotiation_pipeline.integrations.slack import run_failure
from negotiation_pipeline.workflow.replies import NewMailBatch, list_new_mail

INBOX_INTERVAL_SECONDS = 30
MAIL_BATCH_TAG = "negotiation/mail_batch"
RETRY_SECONDS = 600  # a batch that keeps failing is re-requested at most this often
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def requested_cursor(text: str | None) -> MailCursor | None:
    """The inbox_sensor cursor: the newest uid already requested (as 'v1:UIDVALIDITY:UID')."""
    if not text:
        return None
    try:
        return MailCursor.from_string(text)
    except ValueError as exc:
        raise ValueError(f"inbox_sensor cursor is {exc}; reset it or set 'v1:0:0'") from exc


def not_yet_requested(batch: NewMailBatch, requested: MailCursor | None) -> tuple[int, ...]:
    """Uids of the listing a previous tick has not requested yet (all of them after a
    UIDVALIDITY change: the run dedupes by Message-ID)."""
    if requested is None or requested.uidvalidity != batch.uidvalidity:
        return batch.uids
    return tuple(uid for uid in batch.uids if uid > requested.last_uid)


def _listing_limit(
    db_cursor: MailCursor | None, requested: MailCursor | None, batch_limit: int
) -> int:
    """The listing starts at the store's cursor, which lags while a requested run is queued or
    running; list far enough to see `batch_limit` uids past what was requested already."""
    if db_cursor is None or requested is None or db_cursor.uidvalidity != requested.uidvalidity:
        return batch_limit
    return batch_limit + max(0, requested.last_uid - db_cursor.last_uid)


@dg.sensor(
    name="inbox_sensor",
    job=advance_negotiations_job,
    minimum_interval_seconds=INBOX_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the mailbox for new mail and launches one advance_negotiations_job run per "
        "batch. Each email is requested once; mail still unhandled when no advance run is "
        "queued or running is requested again (at most every 10 minutes), and every later run "
        "picks it up too."
    ),
)
def inbox_sensor(
    context: dg.SensorEvaluationContext,
    store: NegotiationStoreResource,
    mailbox: MailboxResource,
) -> dg.SensorResult:
    requested = requested_cursor(context.cursor)
    name = mailbox.mailbox_name
    with store.open() as db, mailbox.open() as box:
        stored = db.mail_cursors.get(name)
        db_cursor = None if stored is None else MailCursor(stored.uidvalidity, stored.last_uid)
        limit = _listing_limit(db_cursor, requested, mailbox.batch_limit)
        batch = list_new_mail(db, box, name, limit)
    fresh = not_yet_requested(batch, requested)[: mailbox.batch_limit]
    if fresh:
        run_key = batch_run_key(name, batch, fresh)
        cursor: str | None = MailCursor(batch.uidvalidity, fresh[-1]).to_string()
        context.log.info(f"{len(fresh)} new message(s): {run_key}")
    else:
        # Everything listed was requested already, yet the store has not handled it, advance
        # runs have ended and none is queued or running that could (the one given it failed,
        # or left it to a parallel run that failed): request it again, at most once per
        # RETRY_SECONDS.
        fresh = batch.uids[: mailbox.batch_limit]
        if not fresh or not _advance_runs_all_ended(context.instance):
            return dg.SensorResult(skip_reason="no new mail", cursor=context.cursor)
        bucket = int(time.time() // RETRY_SECONDS)
        run_key = f"{batch_run_key(name, batch, fresh)}:retry-{bucket}"
        cursor = context.cursor  # already past every listed uid
        context.log.warning(f"{len(fresh)} requested message(s) still unhandled: {run_key}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                run_config=dg.RunConfig(
                    ops={ADVANCE_OP: AdvanceConfig(uidvalidity=batch.uidvalidity, uids=list(fresh))}
                ),
                tags={MAIL_BATCH_TAG: run_key},
            )
        ],
        cursor=cursor,
    )


def _advance_runs_all_ended(instance: dg.DagsterInstance) -> bool:
    """True when advance_negotiations runs have run and none is queued, starting or running:
    mail the store has not handled yet is then in nobody's hands."""
    job = advance_negotiations_job.name
    if not instance.get_runs(filters=dg.RunsFilter(job_name=job), limit=1):
        return False  # none yet: the requested one has not been created
    in_flight = instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=IN_FLIGHT), limit=1)
    return not in_flight


def batch_run_key(mailbox_name: str, batch: NewMailBatch, uids: Sequence[int]) -> str:
    """The batch's own key when every listed uid is requested, else the same shape for the
    requested part: it names the content, so a rewound cursor never launches a batch twice."""
    if tuple(uids) == batch.uids:
        return batch.batch_key
    return f"{mailbox_name}:{batch.uidvalidity}:{uids[0]}-{uids[-1]}"


@dg.run_failure_sensor(
    name="run_failure_slack_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=INBOX_INTERVAL_SECONDS,
    description=(
        "Posts each failed run of this code location to the Slack errors channel, once per "
        "run, and sends any Slack alert still waiting from an earlier outage."
    ),
)
def run_failure_slack_sensor(context: dg.RunFailureSensorContext, slack: SlackResource) -> None:
    run = context.dagster_run
    message = run_failure(
        job_name=run.job_name,
        run_id=run.run_id,
        error=redact_text(failure_text(context)),  # step errors may quote URLs with keys
        run_url=slack.run_url(run.run_id),
    )
    delivery = slack.send([message], key=f"run-failure:{run.run_id}")
    for error in delivery.errors:
        context.log.warning(f"Slack: {error}")
    if delivery.pending:
        context.log.warning(
            f"the failure of run {run.run_id} is queued: {delivery.pending} Slack message(s) "
            "pending, delivered by a later run or tick"
        )


def failure_text(context: dg.RunFailureSensorContext) -> str:
    """The run's failure message, then each failed step with its root cause (the step error
    itself only says "Error occurred while executing op ...")."""
    lines = [context.failure_event.message or "the run failed"]
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        error = None if data is None else data.error
        while error is not None and error.cause is not None:
            error = error.cause
        cause = error.message.strip() if error is not None else "no error recorded"
        lines.append(f"{event.step_key}: {cause}")
    return "\n".join(lines)
