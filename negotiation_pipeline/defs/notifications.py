"""Posting what a workflow service reported (Slack alerts, ClickUp task comments) from the
Dagster layer, after the service's transactions committed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from negotiation_pipeline.defs.resources import CampaignTaskSourceResource, SlackResource
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.workflow.events import PipelineEvent
from negotiation_pipeline.workflow.notify import (
    NotifyResult,
    details_from_store,
    post_notifications,
)


def notify_events(
    log: logging.Logger | Any,
    events: Sequence[PipelineEvent],
    db: NegotiationStore,
    slack: SlackResource,
    clickup: CampaignTaskSourceResource,
) -> NotifyResult:
    """Post every alert and comment the events call for. Failures are logged and counted, never
    raised: the negotiation work they describe is already committed, and re-running the step
    would not bring the events back."""
    if not events:
        return NotifyResult(0, 0, 0, 0, ())
    details = details_from_store(db, events)
    with slack.open() as notifier, clickup.open() as source:
        result = post_notifications(events, notifier, source.post_comment, details=details)
    for error in result.errors:
        log.error(f"notification not delivered: {error}")
    return result


def notify_metadata(result: NotifyResult) -> dict[str, int]:
    return {
        "slack_posted": result.slack_posted,
        "slack_failed": result.slack_failed,
        "clickup_comments": result.comments_posted,
        "clickup_comments_failed": result.comments_failed,
    }
