"""Turn workflow events into Slack messages and ClickUp task comments, and post them.

Called AFTER the transaction that produced the events committed (workflow/events.py), so a
rolled-back change never notifies anyone. Posting is best effort per message: one failing post
(Slack down, ClickUp 4xx) is counted and reported in the result, and the others still go out.
ClickUp calls are already retried by `resilient_api_call`, whose error notifier reports the
final failure; Slack posts retry inside the Slack client.

Events carry ids and numbers only; the Slack alerts also want the influencer's email, the
client and the deliverables. Those come from the store when one is given (`details_from_store`),
otherwise the alert says "n/a" rather than guessing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.emails import split_deliverables
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.types import NegotiationState
from negotiation_pipeline.integrations.slack.client import SlackNotifier
from negotiation_pipeline.integrations.slack.messages import (
    SlackMessage,
    agreement_alert,
    campaign_started,
    escalation_alert,
    stale_notice,
)
from negotiation_pipeline.store.base import UnitOfWork
from negotiation_pipeline.workflow.events import (
    AgreementReached,
    Escalated,
    FinalState,
    MarkedStale,
    NegotiationsStarted,
    PipelineEvent,
)

log = logging.getLogger(__name__)

UNKNOWN = "n/a"

CommentPoster = Callable[[str, str], None]  # (ClickUp task id = campaign id, comment text)

# Wording of a final state in a ClickUp comment ("Jane Doe: agreed").
_STATE_WORDS: dict[NegotiationState, str] = {
    NegotiationState.AGREED: "agreed",
    NegotiationState.REJECTED: "ended without a deal (rejected or polite exit)",
    NegotiationState.STOPPED: "stopped by an operator",
    NegotiationState.STALE: "stale (no reply after a follow-up)",
    NegotiationState.ESCALATED: "escalated to a human",
    NegotiationState.PAUSED: "paused",
}


@dataclass(frozen=True)
class ThreadDetails:
    """What the alerts show about one negotiation beyond the event itself."""

    influencer_email: str
    client_name: str
    platform: str | None
    deliverables: tuple[str, ...]


@dataclass(frozen=True)
class CampaignDetails:
    client_name: str
    platform: str
    budget: Decimal | None


@dataclass(frozen=True)
class Details:
    threads: Mapping[str, ThreadDetails]
    campaigns: Mapping[str, CampaignDetails]


NO_DETAILS = Details({}, {})


@dataclass(frozen=True)
class NotifyResult:
    slack_posted: int
    slack_failed: int
    comments_posted: int
    comments_failed: int
    errors: tuple[str, ...]  # one line per failed post: what failed and why

    @property
    def ok(self) -> bool:
        return not self.errors


def _reason_with_detail(reason: str, detail: str | None) -> str:
    """'legal language: the reply mentions a lawyer' (the engine's detail often starts with the
    reason already: then the detail alone, never the reason twice)."""
    if not detail:
        return reason
    if detail.casefold().startswith(reason.casefold()):
        return detail
    return f"{reason}: {detail}"


# --- details -----------------------------------------------------------------------------------
def _scenario(lever_state: Mapping[str, object]) -> int:
    value = lever_state.get("scenario", 1)
    return value if isinstance(value, int) and value in (1, 2, 3) else 1


def details_from_store(store: UnitOfWork, events: Iterable[PipelineEvent]) -> Details:
    """Look up, once each, the negotiations and campaigns the events mention."""
    threads: dict[str, ThreadDetails] = {}
    campaigns: dict[str, CampaignDetails] = {}
    for event in events:
        if isinstance(event, NegotiationsStarted):
            if event.campaign_id not in campaigns:
                record = store.campaigns.get(event.campaign_id)
                if record is not None and record.campaign is not None:
                    campaign = record.campaign
                    campaigns[event.campaign_id] = CampaignDetails(
                        campaign.client_name, campaign.platform.value, campaign.budget
                    )
            continue
        if event.thread_id in threads:
            continue
        stored = store.states.load(event.thread_id)
        if stored is None:
            continue
        campaign = stored.campaign
        package = campaign.scenarios.package(_scenario(stored.lever_state))
        threads[event.thread_id] = ThreadDetails(
            influencer_email=stored.influencer_email or UNKNOWN,
            client_name=campaign.client_name,
            platform=campaign.platform.value,
            deliverables=split_deliverables(package or campaign.opening_package()),
        )
    return Details(threads, campaigns)


# --- Slack -------------------------------------------------------------------------------------
def _thread(details: Details, thread_id: str) -> ThreadDetails:
    return details.threads.get(thread_id) or ThreadDetails(UNKNOWN, UNKNOWN, None, ())


def _slack_message(event: PipelineEvent, details: Details) -> SlackMessage | None:
    if isinstance(event, AgreementReached):
        thread = _thread(details, event.thread_id)
        return agreement_alert(
            influencer_name=event.influencer_name,
            influencer_email=thread.influencer_email,
            client_name=thread.client_name,
            agreed_rate=event.rate,
            cpm_achieved=event.cpm,
            deliverables=event.deliverables or thread.deliverables,
            platform=thread.platform,
            thread_id=event.thread_id,
        )
    if isinstance(event, Escalated):
        thread = _thread(details, event.thread_id)
        reason = event.reason.replace("_", " ")
        return escalation_alert(
            influencer_name=event.influencer_name,
            influencer_email=thread.influencer_email,
            client_name=thread.client_name,
            reason=_reason_with_detail(reason, event.detail),
            their_rate=event.their_rate,
            our_rate=event.our_rate,
            draft_email=event.draft_body,
            thread_id=event.thread_id,
        )
    if isinstance(event, MarkedStale):
        thread = _thread(details, event.thread_id)
        return stale_notice(
            influencer_name=event.influencer_name,
            client_name=thread.client_name,
            days_without_reply=event.days_silent,
            follow_up_sent=True,  # the engine marks stale only after one follow-up
            thread_id=event.thread_id,
        )
    if isinstance(event, NegotiationsStarted):
        campaign = details.campaigns.get(event.campaign_id)
        return campaign_started(
            client_name=event.client_name,
            campaign_name=f"{event.client_name} ({event.campaign_id})",
            platform=campaign.platform if campaign else UNKNOWN,
            budget=campaign.budget if campaign else None,
            influencers_found=event.influencer_count,
        )
    return None  # FinalState: the agreement/escalation/stale alert already told people


def slack_messages_for(
    events: Iterable[PipelineEvent], details: Details = NO_DETAILS
) -> list[SlackMessage]:
    """One Slack message per agreement, escalation, stale mark and campaign start, in order."""
    messages = (_slack_message(event, details) for event in events)
    return [message for message in messages if message is not None]


# --- ClickUp comments --------------------------------------------------------------------------
def _cpm_text(cpm: Decimal, target: Decimal | None) -> str:
    achieved = f"CPM {format_usd(cpm)}"
    return f"{achieved} (target up to {format_usd(target)})" if target is not None else achieved


def _comment(event: PipelineEvent) -> str | None:
    if isinstance(event, NegotiationsStarted):
        count = event.influencer_count
        noun = "influencer" if count == 1 else "influencers"
        return f"Negotiations started with {count} {noun} for {event.client_name}."
    if isinstance(event, AgreementReached):
        return (
            f"{event.influencer_name}: agreed at {format_usd(event.rate)}, "
            f"{_cpm_text(event.cpm, event.target_cpm)}."
        )
    if isinstance(event, Escalated):
        reason = event.reason.replace("_", " ")
        return f"{event.influencer_name}: escalated to a human ({reason})."
    if isinstance(event, MarkedStale):
        return (
            f"{event.influencer_name}: stale, no reply for {event.days_silent} days "
            "after a follow-up."
        )
    words = _STATE_WORDS.get(event.state, event.state.value)
    return f"{event.influencer_name}: {words}."


def clickup_comments_for(events: Sequence[PipelineEvent]) -> list[tuple[str, str]]:
    """(campaign id = ClickUp task id, comment text): one when negotiations start and one when
    an influencer reaches a final state. A FinalState for a thread that also has a more telling
    event in the same batch (agreement, escalation, stale) is not commented twice."""
    explained = {
        event.thread_id
        for event in events
        if isinstance(event, AgreementReached | Escalated | MarkedStale)
    }
    comments: list[tuple[str, str]] = []
    for event in events:
        if isinstance(event, FinalState) and event.thread_id in explained:
            continue
        text = _comment(event)
        if text is not None:
            comments.append((event.campaign_id, text))
    return comments


# --- posting -----------------------------------------------------------------------------------
def post_notifications(
    events: Sequence[PipelineEvent],
    slack: SlackNotifier,
    comment: CommentPoster,
    *,
    details: Details = NO_DETAILS,
) -> NotifyResult:
    """Post every Slack message and ClickUp comment for `events`; a failure is logged, counted
    and listed in the result, and never stops the remaining posts."""
    errors: list[str] = []
    slack_posted = slack_failed = comments_posted = comments_failed = 0
    for message in slack_messages_for(events, details):
        try:
            slack.post(message)
        except Exception as exc:  # any failure of one post must not stop the others
            log.warning("Slack post failed (%s): %s", message.text[:80], exc)
            errors.append(f"slack {message.channel.value}: {message.text[:80]}: {exc}")
            slack_failed += 1
        else:
            slack_posted += 1
    for task_id, text in clickup_comments_for(events):
        try:
            comment(task_id, text)
        except Exception as exc:
            log.warning("ClickUp comment on %s failed: %s", task_id, exc)
            errors.append(f"clickup comment on task {task_id}: {exc}")
            comments_failed += 1
        else:
            comments_posted += 1
    return NotifyResult(
        slack_posted=slack_posted,
        slack_failed=slack_failed,
        comments_posted=comments_posted,
        comments_failed=comments_failed,
        errors=tuple(errors),
    )
