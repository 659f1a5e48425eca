"""Campaign intake: a ClickUp task becomes a stored campaign, and the campaign's influencer list
is joined with the roster.

`accept_campaign_task` validates the task against the form-field mapping and stores the campaign
with its `campaign_start` audit entry in one transaction. A task that does not validate leaves
an `error` audit entry first (so the reason is never lost), then a comment on the task naming
every bad field, and raises `CampaignTaskRejected`; nothing of the campaign is stored.

`select_campaign_influencers` reads the campaign's roster (its own URL, else the default) and
keeps the listed influencers the roster can serve; each one it cannot is recorded with a
`campaign_influencer_skip` audit entry. A roster that cannot be read is recorded and raised as
`RosterUnavailable`, its source named with secrets redacted and its content never quoted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.roster import (
    InfluencerProfile,
    RosterSkip,
    select_influencers,
)
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.redaction import redact_text, redact_url
from negotiation_pipeline.integrations.clickup.client import CampaignTaskSource
from negotiation_pipeline.integrations.clickup.fields import (
    CampaignValidationError,
    FieldError,
    FieldMapping,
    parse_campaign_task,
)
from negotiation_pipeline.integrations.roster.reader import RosterReadError, RosterRow
from negotiation_pipeline.store.base import NegotiationStore

CAMPAIGN_ACTIVE_STATUS = "active"

OpenTaskSource = Callable[[], AbstractContextManager[CampaignTaskSource]]
ReadRoster = Callable[[str | None], list[RosterRow]]


@dataclass(frozen=True)
class AcceptedCampaign:
    campaign: Campaign
    updated_campaign: bool  # the task was ingested before (the form was edited since)


class CampaignTaskRejected(Exception):
    """The task is not a valid campaign; the audit entry is written and the task commented on
    (unless `comment_error` says why the comment could not be posted)."""

    def __init__(
        self, task_id: str, errors: Sequence[FieldError], comment_error: str | None
    ) -> None:
        self.task_id = task_id
        self.errors = list(errors)
        self.comment_error = comment_error
        super().__init__(self.description)

    @property
    def bad_labels(self) -> str:
        return ", ".join(dict.fromkeys(label for label, _ in self.errors))

    @property
    def description(self) -> str:
        """Every bad field by its form label, with whatever the form held redacted."""
        details = "; ".join(f"{label}: {message}" for label, message in self.errors)
        return redact_text(
            f"ClickUp task {self.task_id} is not a valid campaign; bad fields: "
            f"{self.bad_labels}. {details}"
        )


class RosterUnavailable(Exception):
    """The campaign's roster could not be read; the `error` audit entry is written."""

    def __init__(self, campaign_id: str, error: RosterReadError) -> None:
        self.campaign_id = campaign_id
        super().__init__(f"campaign {campaign_id}: {error}")


@dataclass(frozen=True)
class InfluencerSelection:
    selected: list[InfluencerProfile]
    skipped: list[RosterSkip]
    roster: str  # where the roster came from, secrets redacted
    roster_rows: int


def task_date_updated(task: dict[str, Any]) -> int | None:
    """The task's `date_updated` (ms epoch), or None when it is missing or not a number."""
    try:
        return int(str(task.get("date_updated")))
    except ValueError:
        return None


def rejection_comment(errors: Sequence[FieldError]) -> str:
    """The comment posted on a task that does not validate: one line per bad form field."""
    lines = "\n".join(f"- {label}: {message}" for label, message in errors)
    return (
        "This campaign could not be started because some form fields are not valid:\n"
        f"{lines}\n"
        "Please correct them in the task; the campaign is picked up again once it is saved."
    )


def accept_campaign_task(
    store: NegotiationStore,
    task_id: str,
    task: dict[str, Any],
    mapping: FieldMapping,
    *,
    open_tasks: OpenTaskSource,
    run_id: str,
) -> AcceptedCampaign:
    """Validate `task` and store it as campaign `task_id` (see the module docstring). Raises
    CampaignTaskRejected when it does not validate."""
    date_updated = task_date_updated(task)
    try:
        parsed = parse_campaign_task(task, mapping)
    except CampaignValidationError as exc:
        comment_error = _record_rejection(
            store, task_id, date_updated, exc.errors, open_tasks, run_id
        )
        raise CampaignTaskRejected(task_id, exc.errors, comment_error) from exc

    with store.transaction() as uow:
        seen_before = uow.campaigns.get(task_id) is not None
        uow.campaigns.upsert(
            task_id,
            client_name=parsed.client_name,
            status=CAMPAIGN_ACTIVE_STATUS,
            task_date_updated=date_updated,
            campaign=parsed,
        )
        uow.audit.insert(
            AuditEntry(
                event_type=EventType.CAMPAIGN_START,
                campaign_id=task_id,
                metadata={
                    "client_name": parsed.client_name,
                    "task_date_updated": date_updated,
                    "updated_campaign": seen_before,
                    "run_id": run_id,
                },
            )
        )
    return AcceptedCampaign(parsed, updated_campaign=seen_before)


def _record_rejection(
    store: NegotiationStore,
    task_id: str,
    date_updated: int | None,
    errors: Sequence[FieldError],
    open_tasks: OpenTaskSource,
    run_id: str,
) -> str | None:
    """Audit first (it must never be lost), then the comment; returns why the comment failed."""
    store.audit.insert(
        AuditEntry(
            event_type=EventType.ERROR,
            campaign_id=task_id,
            metadata={
                "stage": "campaign_validation",
                "task_date_updated": date_updated,
                "errors": [{"field": label, "message": msg} for label, msg in errors],
                "run_id": run_id,
            },
        )
    )
    try:
        with open_tasks() as source:
            source.post_comment(task_id, rejection_comment(errors))
    except Exception as exc:  # the validation failure stays the reported cause
        return str(exc)
    return None


def select_campaign_influencers(
    store: NegotiationStore,
    campaign: Campaign,
    *,
    read_roster: ReadRoster,
    default_source: str,
) -> InfluencerSelection:
    """The campaign's influencers found in its roster (see the module docstring). Raises
    RosterUnavailable when the roster cannot be read."""
    source = redact_url(campaign.roster_url or default_source)
    try:
        rows = read_roster(campaign.roster_url)
    except RosterReadError as exc:
        store.audit.insert(
            AuditEntry(
                event_type=EventType.ERROR,
                campaign_id=campaign.campaign_id,
                metadata={"stage": "roster", "roster": source, "error": str(exc)},
            )
        )
        raise RosterUnavailable(campaign.campaign_id, exc) from None

    selection = select_influencers(rows, list(campaign.influencers), campaign.platform)
    store.audit.insert_many(_skip_entry(campaign.campaign_id, skip) for skip in selection.skipped)
    return InfluencerSelection(
        selected=list(selection.selected),
        skipped=list(selection.skipped),
        roster=source,
        roster_rows=len(rows),
    )


def _skip_entry(campaign_id: str, skip: RosterSkip) -> AuditEntry:
    return AuditEntry(
        event_type=EventType.CAMPAIGN_INFLUENCER_SKIP,
        campaign_id=campaign_id,
        influencer_name=skip.identifier,
        metadata={"reason": skip.reason},
    )
