"""Turn workflow events into Slack messages and ClickUp task comments.

Slack: the workflow services call `queue_alerts(uow, events)` inside the transaction that
produced the events, so each alert is in the notification outbox exactly when its change
committed (workflow/slack_outbox.py delivers it, now or in a later run). Adding an event kind
means one more branch in `_slack_message` (and `_comment` if it is worth a task comment).

ClickUp comments are posted after the commit, best effort per comment (`post_comments`): one
failing comment is counted and reported, and the others still go out. ClickUp calls are
retried by the client, whose error notifier (given it by its resource) reports the final failure.

Events carry ids and numbers only; the Slack alerts also want the influencer's email, the
client and the deliverables. Those come from the store (`details_from_store`), otherwise the
alert says "n/a" rather than guessing.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.negotiation.emails import split_deliverables
from negotiation_pipeline.integrations.slack.approval_messages import draft_approval_alert
from negotiation_pipeline.integrations.slack.blocks import SlackMessage
from negotiation_pipeline.integrations.slack.messages import (
    agreement_alert,
    campaign_started,
    escalation_alert,
    held_reply_alert,
    stale_notice,
    takeover_notice,
)
from negotiation_pipeline.store.base import UnitOfWork
from negotiation_pipeline.workflow.events import (
    AgreementReached,
    DeliveryFailed,
    DraftAwaitingApproval,
    Escalated,
    FinalState,
    HumanTookOver,
    MarkedStale,
    NegotiationsStarted,
    PipelineEvent,
    ReplyHeld,
)
from negotiation_pipeline.workflow.slack_outbox import queue_message

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
class CommentsResult:
    posted: int
    failed: int
    errors: tuple[str, ...]  # one line per failed comment: which task and why

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
            commands=resolution_commands(event.thread_id, has_draft=event.draft_body is not None),
            launchpad_url=launchpad_url(),
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
            campaign_id=event.campaign_id,
            platform=campaign.platform if campaign else UNKNOWN,
            budget=campaign.budget if campaign else None,
            listed=max(event.listed, event.found, event.influencer_count),
            found=max(event.found, event.influencer_count),
            opened=event.influencer_count,
            skipped=event.skipped,
        )
    if isinstance(event, ReplyHeld):
        return _held_alert(event, _thread(details, event.thread_id))
    if isinstance(event, HumanTookOver):
        return takeover_notice(
            influencer_name=event.influencer_name,
            client_name=_thread(details, event.thread_id).client_name,
            actor=event.actor,
            thread_id=event.thread_id,
        )
    if isinstance(event, DeliveryFailed):
        return _delivery_failed_alert(event, _thread(details, event.thread_id))
    if isinstance(event, DraftAwaitingApproval):
        thread = _thread(details, event.thread_id)
        return draft_approval_alert(
            event, thread.influencer_email, thread.client_name, launchpad_url()
        )
    return None  # FinalState: the agreement/escalation/stale alert already told people


def resolution_commands(thread_id: str, *, has_draft: bool) -> list[str]:
    """The exact commands that resolve this thread (shell-quoted: ids may hold anything)."""
    thread = shlex.quote(thread_id)
    commands = [
        f"negotiation-pipeline control accept {thread} [--rate AMOUNT]",
        f"negotiation-pipeline control counter {thread} AMOUNT [--scenario N]",
    ]
    if has_draft:
        commands.append(f"negotiation-pipeline control send-draft {thread} [--edit FILE]")
    commands.append(f"negotiation-pipeline control decline {thread}")
    return commands


RESOLVE_JOB = "resolve_escalation"
CODE_LOCATION = "negotiation_pipeline"


def launchpad_url(env: Mapping[str, str] | None = None) -> str | None:
    """The resolve job's Launchpad in the Dagster UI, when DAGSTER_WEBSERVER_URL is set."""
    base = (env if env is not None else os.environ).get("DAGSTER_WEBSERVER_URL", "").strip()
    if not base:
        return None
    return f"{base.rstrip('/')}/locations/{CODE_LOCATION}/jobs/{RESOLVE_JOB}/playground"


def _held_alert(event: ReplyHeld, thread: ThreadDetails) -> SlackMessage:
    # Shell-quoted: the sender address comes from the message and the operator may paste this.
    thread_arg = shlex.quote(event.thread_id)
    if event.from_our_address:
        next_step = (
            "If a colleague really wrote it (check our sent mail), take the thread over; "
            "otherwise ignore it: the thread goes on as before."
        )
        command = f"negotiation-pipeline control takeover {thread_arg}"
    else:
        next_step = (
            "If this sender may negotiate for the influencer, allow them: their held "
            "replies are then processed once. Otherwise ignore it: the thread goes on as before."
        )
        command = (
            f"negotiation-pipeline control allow-sender {thread_arg} {shlex.quote(event.sender)}"
        )
    return held_reply_alert(
        influencer_name=event.influencer_name,
        client_name=thread.client_name,
        sender=event.sender,
        reason=event.reason,
        subject=event.subject,
        held_count=event.held_count,
        next_step=next_step,
        command=command,
        thread_id=event.thread_id,
    )


def _delivery_failed_alert(event: DeliveryFailed, thread: ThreadDetails) -> SlackMessage:
    after = "escalated to a human" if event.escalated else "its negotiation state is unchanged"
    return escalation_alert(
        influencer_name=event.influencer_name,
        influencer_email=event.to_addr,
        client_name=thread.client_name,
        reason=f"email could not be delivered ({after}): {event.error}",
        their_rate=None,
        our_rate=None,
        suggested_action=(
            "check the address with the influencer or their manager by another channel, then "
            "send the email by hand or stop the negotiation"
        ),
        thread_id=event.thread_id or None,
    )


def slack_messages_for(
    events: Iterable[PipelineEvent], details: Details = NO_DETAILS
) -> list[SlackMessage]:
    """One Slack message per agreement, escalation, stale mark, campaign start, held reply and
    takeover, in order."""
    messages = (_slack_message(event, details) for event in events)
    return [message for message in messages if message is not None]


def queue_alerts(uow: UnitOfWork, events: Sequence[PipelineEvent]) -> int:
    """Queue the Slack alerts `events` call for in the open transaction; returns how many."""
    if not events:
        return 0
    messages = slack_messages_for(events, details_from_store(uow, events))
    for message in messages:
        queue_message(uow, message)
    return len(messages)


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
    if isinstance(event, ReplyHeld | HumanTookOver | DraftAwaitingApproval):
        return None  # who may write in a thread, and our drafts, are not the client task's
    if isinstance(event, DeliveryFailed):
        if not event.campaign_id:
            return None
        return f"{event.influencer_name}: our email could not be delivered; a human follows up."
    words = _STATE_WORDS.get(event.state, event.state.value)
    return f"{event.influencer_name}: {words}."


def clickup_comments_for(events: Sequence[PipelineEvent]) -> list[tuple[str, str]]:
    """(campaign id = ClickUp task id, comment text): one when negotiations start and one when
    an influencer reaches a final state. A FinalState for a thread that also has a more telling
    event in the same batch (agreement, escalation, stale) is not commented twice."""
    explained = {
        event.thread_id
        for event in events
        if isinstance(event, AgreementReached | Escalated | MarkedStale | DeliveryFailed)
    }
    comments: list[tuple[str, str]] = []
    for event in events:
        if isinstance(event, FinalState) and event.thread_id in explained:
            continue
        text = _comment(event)
        if text is not None:
            comments.append((event.campaign_id, text))
    return comments


# --- posting comments -------------------------------------------------------------------------
def post_comments(events: Sequence[PipelineEvent], comment: CommentPoster) -> CommentsResult:
    """Post every ClickUp comment for `events`; a failure is logged, counted and listed in the
    result, and never stops the remaining comments."""
    errors: list[str] = []
    posted = 0
    for task_id, text in clickup_comments_for(events):
        try:
            comment(task_id, text)
        except Exception as exc:  # any failure of one comment must not stop the others
            log.warning("ClickUp comment on %s failed: %s", task_id, exc)
            errors.append(f"clickup comment on task {task_id}: {exc}")
        else:
            posted += 1
    return CommentsResult(posted=posted, failed=len(errors), errors=tuple(errors))
