"""The campaign's approval mode applied to what the agent is about to send.

Every place the agent writes an email (the opening, an answer to a reply, a follow-up) passes
its outcome through `hold_if_required` before storing it. In a mode that wants this email
reviewed, the outcome comes back without an email: the negotiation holds it as an approval
draft (`DraftPurpose.APPROVAL`), nothing enters the outbox, and a `DraftAwaitingApproval` event
asks for a decision on Slack. Since the email is not in the outbox, no delivery (in this
process or any later one) can send it; only a person's `control send-draft` queues it, in
the transaction that clears the draft (workflow/resolution.py).

While a draft waits, the thread stays where the agent's send would have started from (see
domain/negotiation/approval.py): a new reply to a thread whose answer waits is recorded but not
answered (the person deciding sees it); a reply to a thread whose follow-up waits drops the
follow-up, which has nothing left to ask, and is answered as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import ApprovalMode
from negotiation_pipeline.domain.negotiation.approval import hold_for_approval, holds
from negotiation_pipeline.domain.negotiation.engine import Action, Negotiation, Outcome
from negotiation_pipeline.domain.negotiation.held import DraftPurpose
from negotiation_pipeline.domain.negotiation.policy import NegotiationPolicy
from negotiation_pipeline.workflow.events import DraftAwaitingApproval

AWAITING_APPROVAL = "awaiting_approval"  # how a thread whose email waits is shown


def campaign_mode(campaign: Campaign, policy: NegotiationPolicy) -> ApprovalMode:
    """The campaign's own mode, else the policy's default."""
    return campaign.approval_mode or policy.approval_mode


@dataclass(frozen=True)
class Gated:
    outcome: Outcome  # to store: the original, or the one holding the draft
    event: DraftAwaitingApproval | None  # set when the email was held

    @property
    def extra_audit(self) -> dict[str, str]:
        if self.event is None:
            return {}
        return {"approval": AWAITING_APPROVAL, "draft_kind": self.event.kind}


def hold_if_required(
    before: Negotiation | None,
    outcome: Outcome,
    campaign: Campaign,
    policy: NegotiationPolicy,
    now: datetime,
    *,
    subject: str | None = None,
) -> Gated:
    """`outcome` as the campaign's approval mode wants it stored (see module docstring).
    `before`: the stored record the outcome started from (None for a new negotiation);
    `subject`: the subject the email will carry when sent (a reply's "Re: ...")."""
    if not holds(outcome, campaign_mode(campaign, policy)):
        return Gated(outcome, None)
    email = outcome.email
    assert email is not None
    held = hold_for_approval(before, outcome, now)
    negotiation = held.negotiation
    rate = None if outcome.decision is None else outcome.decision.rate
    event = DraftAwaitingApproval(
        thread_id=negotiation.thread_id,
        campaign_id=negotiation.campaign_id,
        influencer_name=negotiation.terms.name,
        kind=email.kind.value,
        amount=rate,
        subject=subject or email.subject,
        body=email.body,
    )
    return Gated(held, event)


def waiting_draft_action(negotiation: Negotiation) -> str | None:
    """The action of the email this thread holds for approval; None when none waits."""
    held = negotiation.held
    if held is None or held.purpose is not DraftPurpose.APPROVAL:
        return None
    return held.action or ""


def reply_blocked_by_draft(negotiation: Negotiation) -> str | None:
    """Why a new reply is not answered: an answer of ours waits for approval. None when the
    thread holds no draft, or only a follow-up (which the reply makes moot)."""
    action = waiting_draft_action(negotiation)
    if action is None or action == Action.FOLLOW_UP:
        return None
    return f"our {action.replace('_', ' ')} email awaits approval: waiting for a human decision"


def without_moot_follow_up(negotiation: Negotiation) -> tuple[Negotiation, bool]:
    """The record without a waiting follow-up draft (a reply came); True when one was dropped."""
    if waiting_draft_action(negotiation) != Action.FOLLOW_UP:
        return negotiation, False
    return replace(negotiation, held=None), True


__all__ = [
    "AWAITING_APPROVAL",
    "Gated",
    "campaign_mode",
    "hold_if_required",
    "reply_blocked_by_draft",
    "waiting_draft_action",
    "without_moot_follow_up",
]
