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

Plain data with lossless to_dict / from_dict (money as exact strings).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from negotiation_pipeline.domain.enums import CounterpartyType, Platform, UsageRightsDuration
from negotiation_pipeline.domain.negotiation.emails import EmailDecision, EmailKind, OutgoingEmail
from negotiation_pipeline.domain.negotiation.policy import Lever, QuestionTopic

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
        return {
            "in_reply_to": self.in_reply_to,
            "references": self.references,
            "subject": self.subject,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplyThreading:
        return cls(data.get("in_reply_to"), data.get("references"), data.get("subject"))


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
        return {
            "reason": self.reason,
            "detail": self.detail,
            "suggested_action": self.suggested_action,
            "their_ask": None if self.their_ask is None else str(self.their_ask),
            "ask_currency": self.ask_currency,
            "our_offer": None if self.our_offer is None else str(self.our_offer),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EscalationNote:
        ask, offer = data.get("their_ask"), data.get("our_offer")
        return cls(
            reason=str(data["reason"]),
            detail=str(data.get("detail") or ""),
            suggested_action=str(data.get("suggested_action") or ""),
            their_ask=None if ask is None else Decimal(str(ask)),
            ask_currency=data.get("ask_currency"),
            our_offer=None if offer is None else Decimal(str(offer)),
        )


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
        return {
            "purpose": self.purpose.value,
            "action": self.action,
            "email": None if self.email is None else _email_out(self.email),
            "decision": None if self.decision is None else decision_to_dict(self.decision),
            "after": None if self.after is None else self.after.to_dict(),
            "reason": self.reason,
            "held_at": self.held_at.isoformat(),
            "threading": None if self.threading is None else self.threading.to_dict(),
            "escalation": None if self.escalation is None else self.escalation.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeldDraft:
        from negotiation_pipeline.domain.negotiation.record import Negotiation

        email, decision, after = data.get("email"), data.get("decision"), data.get("after")
        threading, escalation = data.get("threading"), data.get("escalation")
        return cls(
            purpose=DraftPurpose(data["purpose"]),
            action=data.get("action"),
            email=None if email is None else _email_in(email),
            decision=None if decision is None else decision_from_dict(decision),
            after=None if after is None else Negotiation.from_dict(after),
            reason=str(data.get("reason") or ""),
            held_at=datetime.fromisoformat(data["held_at"]),
            threading=None if threading is None else ReplyThreading.from_dict(threading),
            escalation=None if escalation is None else EscalationNote.from_dict(escalation),
        )


def _email_out(email: OutgoingEmail) -> dict[str, Any]:
    return {**email.to_dict(), "said": list(email.said)}


def _email_in(data: dict[str, Any]) -> OutgoingEmail:
    return OutgoingEmail(
        to=str(data["to"]),
        subject=str(data["subject"]),
        body=str(data["body"]),
        kind=EmailKind(data["kind"]),
        to_name=str(data.get("to_name") or ""),
        said=tuple(str(s) for s in data.get("said") or ()),
    )


# --- EmailDecision ---------------------------------------------------------------------------
_ENUMS: dict[str, type[Enum]] = {
    "kind": EmailKind,
    "platform": Platform,
    "usage_rights": UsageRightsDuration,
    "counterparty": CounterpartyType,
    "lever": Lever,
}
_MONEY = frozenset({"rate", "their_ask", "product_value", "rounding_step"})
_TEXT_TUPLES = frozenset({"deliverables", "earlier_deliverables"})


def decision_to_dict(decision: EmailDecision) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fields(decision):
        value = getattr(decision, item.name)
        if isinstance(value, Enum):
            out[item.name] = value.value
        elif value is None or isinstance(value, bool | int | str):
            out[item.name] = value
        elif isinstance(value, Decimal):
            out[item.name] = str(value)
        elif isinstance(value, date):
            out[item.name] = value.isoformat()
        elif item.name == "said":
            out[item.name] = sorted(value)
        else:
            out[item.name] = [v.value if isinstance(v, Enum) else v for v in value]
    return out


def _decision_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _ENUMS:
        return _ENUMS[name](value)
    if name in _MONEY:
        return Decimal(str(value))
    if name == "publish_date":
        return date.fromisoformat(value)
    if name in _TEXT_TUPLES:
        return tuple(str(v) for v in value)
    if name == "topics":
        return tuple(QuestionTopic(v) for v in value)
    if name == "said":
        return frozenset(str(v) for v in value)
    return value


def decision_from_dict(data: dict[str, Any]) -> EmailDecision:
    known = {item.name for item in fields(EmailDecision)}
    values = {name: _decision_value(name, value) for name, value in data.items() if name in known}
    return EmailDecision(**values)


__all__ = [
    "DraftPurpose",
    "EscalationNote",
    "HeldDraft",
    "ReplyThreading",
    "decision_from_dict",
    "decision_to_dict",
]
