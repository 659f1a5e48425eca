"""A draft waiting for a human: what the agent would send, and what sending it would change.

A negotiation holds at most one draft. It is held when the engine escalates with an answer in
mind (the human may send it as is or edited), or when the campaign's approval mode wants a
person to see the agent's email before it goes out. The draft keeps everything needed to carry
it out later, in another process, without deciding again:
- the rendered email and the `EmailDecision` it was rendered from (an edited text is checked
  by the gate against the same decision);
- `after`: the negotiation record as it is once the draft is sent (offers, levers, rounds,
  agreed terms), so approving it has exactly the effect the agent's own send would have had;
- the threading of the message it answers (so a reply days later still lands in the thread);
- for an escalation: why, their ask with its currency, our offer then, the suggested action.

Plain data; to_dict / from_dict go through the record codec (money as exact strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.negotiation.emails import EmailDecision, OutgoingEmail

if TYPE_CHECKING:
    from negotiation_pipeline.domain.negotiation.record import Negotiation


class DraftPurpose(StrEnum):
    ESCALATION = "escalation"  # the agent could not finish; a human decides
    APPROVAL = "approval"  # the campaign's approval mode wants this email reviewed


@dataclass(frozen=True)
class ReplyThreading:
    """The message a held answer replies to (absent for openings and follow-ups)."""

    in_reply_to: str | None
    references: str | None  # space-separated Message-IDs
    subject: str | None

    def to_dict(self) -> dict[str, Any]:
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplyThreading:
        return record_codec.from_dict(cls, data)


@dataclass(frozen=True)
class EscalationNote:
    """Why a human is needed, as the escalation said it."""

    reason: str  # EscalationReason value
    detail: str
    suggested_action: str
    their_ask: Decimal | None
    ask_currency: str | None  # None: the campaign's currency
    our_offer: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EscalationNote:
        return record_codec.from_dict(cls, data)


@dataclass(frozen=True)
class HeldDraft:
    purpose: DraftPurpose
    action: str | None  # the engine's Action the draft carries out; None: no draft, only a note
    email: OutgoingEmail | None
    decision: EmailDecision | None
    after: Negotiation | None  # the record once the draft is sent
    reason: str  # why the agent wanted to do this (its own reason, or the escalation's detail)
    held_at: datetime
    threading: ReplyThreading | None = None
    escalation: EscalationNote | None = None

    @property
    def has_email(self) -> bool:
        return self.email is not None and self.decision is not None and self.after is not None

    def with_threading(self, threading: ReplyThreading | None) -> HeldDraft:
        return HeldDraft(
            self.purpose,
            self.action,
            self.email,
            self.decision,
            self.after,
            self.reason,
            self.held_at,
            threading,
            self.escalation,
        )

    def to_dict(self) -> dict[str, Any]:
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeldDraft:
        return record_codec.from_dict(cls, data)


def decision_to_dict(decision: EmailDecision) -> dict[str, Any]:
    return record_codec.to_dict(decision)


def decision_from_dict(data: Mapping[str, Any]) -> EmailDecision:
    return record_codec.from_dict(EmailDecision, data)


__all__ = [
    "DraftPurpose",
    "EscalationNote",
    "HeldDraft",
    "ReplyThreading",
    "decision_from_dict",
    "decision_to_dict",
]
