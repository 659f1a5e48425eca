"""What a run tells people after a workflow service committed: the Slack alerts waiting in the
notification outbox (this run's, and any an earlier run could not deliver), and the ClickUp
task comments for the service's events."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from negotiation_pipeline.defs.shared.resources import CampaignTaskSourceResource, SlackResource
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.events import PipelineEvent
from negotiation_pipeline.workflow.notify import CommentsResult, post_comments
from negotiation_pipeline.workflow.slack_outbox import SlackDelivery


@dataclass(frozen=True)
class NotifyResult:
    slack: SlackDelivery
    comments: CommentsResult


def deliver_slack(
    log: logging.Logger | Any, db: NegotiationStore, slack: SlackResource
) -> SlackDelivery:
    """Deliver the outbox within the run's Slack budget and say in the run's log what could not
    be delivered. Never raises: the business work is committed, and what is not delivered stays
    queued for the next run."""
    delivery = slack.deliver(db)
    for error in delivery.errors:
        log.warning(f"Slack: {error}")
    if delivery.pending > 0:  # negative: unknown, the store failed (logged above)
        log.warning(
            f"Slack: {delivery.pending} message(s) still pending; a later run delivers them"
        )
    return delivery


def notify_events(
    log: logging.Logger | Any,
    events: Sequence[PipelineEvent],
    db: NegotiationStore,
    slack: SlackResource,
    clickup: CampaignTaskSourceResource,
) -> NotifyResult:
    """Deliver pending Slack alerts and post the events' ClickUp comments. Failures are logged
    and counted, never raised (see `deliver_slack`)."""
    delivery = deliver_slack(log, db, slack)
    if not events:
        return NotifyResult(delivery, CommentsResult(0, 0, ()))
    with clickup.open() as source:
        comments = post_comments(events, source.post_comment)
    for error in comments.errors:
        log.error(f"ClickUp comment not posted: {error}")
    return NotifyResult(delivery, comments)


def notify_metadata(result: NotifyResult) -> dict[str, int]:
    return {
        "slack_posted": result.slack.sent,
        "slack_pending": result.slack.pending,
        "slack_refused": result.slack.refused,
        "clickup_comments": result.comments.posted,
        "clickup_comments_failed": result.comments.failed,
    }
