"""Approval modes: which of the agent's emails wait for a person, and the record of a thread
while its email waits.

An email held for approval has not happened yet, so the thread stays where it was before the
agent's send: what it received is recorded (a reply's receipt moves the thread to
`counter_received`; a new negotiation stays `initial_offer`; a silent thread keeps its state),
and the send itself (its transition, the offer, the round, the agreed terms, what the email
said, a follow-up's count) happens only when a person approves the draft (`human.send_draft`).
The held draft keeps the record as it will be once sent (`HeldDraft.after`), so approving has
exactly the effect the agent's own send would have had.
"""

from __future__ import annotations

from dataclasses import MISSING, fields, replace
from datetime import datetime
from typing import Any

from negotiation_pipeline.domain.enums import ApprovalMode
from negotiation_pipeline.domain.negotiation.emails import EmailKind
from negotiation_pipeline.domain.negotiation.held import DraftPurpose, HeldDraft, ReplyThreading
from negotiation_pipeline.domain.negotiation.outcome import Outcome
from negotiation_pipeline.domain.negotiation.record import Negotiation

# What an email's send changes on the record (see engine `_applied`, `_opened`, follow-ups);
# while the email waits, these keep the values they had before it was written.
_SEND_EFFECTS = (
    "round_count",
    "our_last_offer",
    "offers",
    "levers",
    "followups_sent",
    "said",
    "agreed_rate",
    "agreed_cpm",
    "agreed_package",
)


def needs_approval(mode: ApprovalMode, kind: EmailKind) -> bool:
    """Whether an email of `kind` waits for a person in `mode`."""
    if mode is ApprovalMode.REVIEW_EVERY_EMAIL:
        return True
    if mode is ApprovalMode.APPROVE_AGREEMENTS:
        return kind is EmailKind.AGREEMENT
    return False


def holds(outcome: Outcome, mode: ApprovalMode) -> bool:
    """The outcome sends an email (not an escalation) that `mode` wants a person to approve."""
    return (
        outcome.email is not None
        and outcome.escalation is None
        and needs_approval(mode, outcome.email.kind)
    )


def _unsent_values() -> dict[str, Any]:
    """The send effects' values of a negotiation that has sent nothing yet."""
    values: dict[str, Any] = {}
    for item in fields(Negotiation):
        if item.name not in _SEND_EFFECTS:
            continue
        if item.default is not MISSING:
            values[item.name] = item.default
        elif item.default_factory is not MISSING:
            values[item.name] = item.default_factory()
    return values


def _waiting_record(before: Negotiation | None, outcome: Outcome) -> Negotiation:
    """The record as it stands while the email waits (see module docstring). `before` is the
    stored record the outcome started from; None for a negotiation the outcome opened."""
    sent = outcome.negotiation
    if not outcome.transitions:  # a follow-up: nothing happened yet at all
        if before is None:
            raise ValueError("an outcome without transitions needs the record it started from")
        return before
    last_from, last_event, _ = outcome.transitions[-1]
    history = tuple(sent.history)
    if history and history[-1] == outcome.transitions[-1]:
        history = history[:-1]
    else:  # pragma: no cover - the engine always ends on the send transition
        raise ValueError(f"the outcome does not end on its send transition ({last_event})")
    rolled_back = (
        _unsent_values()
        if before is None
        else {name: getattr(before, name) for name in _SEND_EFFECTS}
    )
    return replace(sent, state=last_from, history=history, **rolled_back)


def hold_for_approval(
    before: Negotiation | None,
    outcome: Outcome,
    now: datetime,
    threading: ReplyThreading | None = None,
) -> Outcome:
    """`outcome` with its email held as an approval draft instead of sent: the outcome's
    record becomes the waiting record holding the draft, its email and transitions go (the
    receipt of a reply stays), and its agreed terms wait with the draft."""
    email = outcome.email
    decision = outcome.decision
    if email is None or decision is None:
        raise ValueError("only an email that passed the gate can be held for approval")
    waiting = _waiting_record(before, outcome)
    draft = HeldDraft(
        purpose=DraftPurpose.APPROVAL,
        action=outcome.action.value,
        email=email,
        decision=decision,
        after=replace(outcome.negotiation, held=None),
        reason=outcome.reason,
        held_at=now,
        threading=threading,
    )
    held = replace(waiting, held=draft)
    earlier = 0 if before is None else len(before.history)
    kept = outcome.transitions[: len(held.history) - earlier]
    return replace(
        outcome,
        negotiation=held,
        transitions=kept,
        email=None,
        agreed_rate=None,
        agreed_cpm=None,
        agreed_package=None,
        reason=f"{outcome.reason}; the {email.kind.value} email waits for approval",
    )


__all__ = ["ApprovalMode", "hold_for_approval", "holds", "needs_approval"]
