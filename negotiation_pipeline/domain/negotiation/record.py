"""The stored record of a negotiation: the influencer's terms, what was offered and asked, the
package on the table and, once agreed, the agreed package. Plain data with lossless to_dict /
from_dict (money as exact strings); the engine in negotiation.py reads and returns these.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from negotiation_pipeline.domain.campaigns.cpm import FlexibilityRow
from negotiation_pipeline.domain.enums import (
    CounterpartyType,
    NegotiationState,
    Platform,
    UsageRightsDuration,
)
from negotiation_pipeline.domain.negotiation.emails import first_name
from negotiation_pipeline.domain.negotiation.held import HeldDraft
from negotiation_pipeline.domain.negotiation.policy import LeverState
from negotiation_pipeline.domain.negotiation.pricing import ScenarioPrice
from negotiation_pipeline.domain.negotiation.state_machine import (
    WAITING_STATES,
    HistoryEntry,
    NegotiationStateMachine,
)


def _dec(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"float {value!r} rejected: store money as a string")
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else _dec(value)


def _opt_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class Action(StrEnum):
    SEND_OFFER = "send_offer"
    SEND_COUNTER = "send_counter"
    ANSWER_QUESTION = "answer_question"
    ACCEPT = "accept"
    REJECT = "reject"
    EXIT = "exit"
    ESCALATE = "escalate"
    FOLLOW_UP = "follow_up"
    MARK_STALE = "mark_stale"


class EscalationReason(StrEnum):
    OVER_APPROVAL_LIMIT = "over_approval_limit"
    OVER_HARD_CAP = "over_hard_cap"
    UNCLEAR_INTENT = "unclear_intent"
    LEGAL_LANGUAGE = "legal_language"
    HOSTILE_TONE = "hostile_tone"
    UNUSUAL_DELIVERABLES = "unusual_deliverables"
    CURRENCY = "currency"
    MAX_ROUNDS = "max_rounds"
    UNANSWERABLE_QUESTION = "unanswerable_question"
    VALIDATION_FAILED = "validation_failed"
    NO_FEASIBLE_PRICE = "no_feasible_price"


@dataclass(frozen=True)
class InfluencerTerms:
    """One influencer on one campaign, with the price limits from the CPM flexibility table.
    `floor_rate` / `ceiling_rate` are scenario 1's; `scenarios` holds every scenario's expected
    views and rates (empty for records written before the table had them)."""

    name: str
    email: str
    platform: Platform
    average_views: int
    engagement_rate: Decimal | None
    floor_rate: Decimal
    ceiling_rate: Decimal  # rate at max_allowed_cpm
    max_allowed_cpm: Decimal
    scenarios: tuple[ScenarioPrice, ...] = ()
    # Who else may answer for the influencer (roster `manager_email`); others are held.
    manager_emails: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("influencer name is empty")
        if "@" not in self.email:
            raise ValueError(f"influencer email {self.email!r} is not an address")
        if self.average_views <= 0:
            raise ValueError(f"average_views must be positive, got {self.average_views}")
        for label, value in (
            ("floor_rate", self.floor_rate),
            ("ceiling_rate", self.ceiling_rate),
            ("max_allowed_cpm", self.max_allowed_cpm),
        ):
            if not isinstance(value, Decimal):
                raise ValueError(f"{label} must be a Decimal, got {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{label} must be positive, got {value}")
        if self.floor_rate > self.ceiling_rate:
            raise ValueError(
                f"floor_rate {self.floor_rate} is above ceiling_rate {self.ceiling_rate}"
            )
        for price in self.scenarios:
            if price.expected_views <= 0 or price.opening_rate <= 0 or price.ceiling_rate <= 0:
                raise ValueError(f"scenario {price.scenario}: views and rates must be positive")

    @property
    def first_name(self) -> str:
        return first_name(self.name)

    @classmethod
    def from_flexibility_row(cls, row: FlexibilityRow) -> InfluencerTerms:
        """Terms from one `cpm_flexibility` row: the opening rate is the floor (already raised
        to the campaign's minimum cost), the ceiling is the rate at max_allowed_cpm."""
        return cls(
            name=row.name,
            email=row.email,
            platform=row.platform,
            average_views=row.average_views,
            engagement_rate=row.engagement_rate,
            floor_rate=row.opening_rate,
            ceiling_rate=row.ceiling_rate,
            max_allowed_cpm=row.max_allowed_cpm,
            scenarios=row.scenario_prices(),
            manager_emails=tuple(row.manager_emails),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "platform": self.platform.value,
            "average_views": self.average_views,
            "engagement_rate": _opt_str(self.engagement_rate),
            "floor_rate": str(self.floor_rate),
            "ceiling_rate": str(self.ceiling_rate),
            "max_allowed_cpm": str(self.max_allowed_cpm),
            "scenarios": [price.to_dict() for price in self.scenarios],
            "manager_emails": list(self.manager_emails),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InfluencerTerms:
        return cls(
            name=data["name"],
            email=data["email"],
            platform=Platform(data["platform"]),
            average_views=int(data["average_views"]),
            engagement_rate=_opt_dec(data.get("engagement_rate")),
            floor_rate=_dec(data["floor_rate"]),
            ceiling_rate=_dec(data["ceiling_rate"]),
            max_allowed_cpm=_dec(data["max_allowed_cpm"]),
            scenarios=tuple(ScenarioPrice.from_dict(p) for p in data.get("scenarios") or ()),
            manager_emails=tuple(str(a) for a in data.get("manager_emails") or ()),
        )


@dataclass(frozen=True)
class AgreedPackage:
    """What the agreed rate buys: stored with the agreement and shown in the report."""

    scenario: int
    deliverables: tuple[str, ...]
    usage_rights: UsageRightsDuration
    product: bool
    expected_views: int

    def describe(self) -> str:
        product = " + product" if self.product else ""
        return f"{', '.join(self.deliverables)}; usage {self.usage_rights.value}{product}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "deliverables": list(self.deliverables),
            "usage_rights": self.usage_rights.value,
            "product": self.product,
            "expected_views": self.expected_views,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgreedPackage:
        try:
            return cls(
                scenario=int(data["scenario"]),
                deliverables=tuple(str(d) for d in data["deliverables"]),
                usage_rights=UsageRightsDuration(data["usage_rights"]),
                product=bool(data["product"]),
                expected_views=int(data["expected_views"]),
            )
        except KeyError as exc:
            raise ValueError(f"agreed package is missing field {exc.args[0]!r}") from exc


def machine_fields(machine: NegotiationStateMachine) -> dict[str, Any]:
    """The record's fields that hold the state machine's snapshot."""
    return {
        "state": machine.state,
        "history": tuple(machine.history),
        "pre_pause_state": machine.pre_pause_state,
    }


def _asks_out(values: tuple[tuple[Decimal, Decimal, int], ...]) -> list[list[str | int]]:
    return [[str(a), str(b), n] for a, b, n in values]


def _asks_in(values: Any) -> tuple[tuple[Decimal, Decimal, int], ...]:
    return tuple((_dec(v[0]), _dec(v[1]), int(v[2]) if len(v) > 2 else 0) for v in values or ())


@dataclass(frozen=True)
class Negotiation:
    """The stored state of one negotiation (one influencer, one campaign, one mail thread)."""

    thread_id: str
    campaign_id: str
    terms: InfluencerTerms
    state: NegotiationState = NegotiationState.INITIAL_OFFER
    history: tuple[HistoryEntry, ...] = ()
    pre_pause_state: NegotiationState | None = None
    round_count: int = 0  # emails we sent after the opening (counters, levers, answers)
    replies_received: int = 0
    our_last_offer: Decimal | None = None
    their_last_ask: Decimal | None = None
    offers: tuple[Decimal, ...] = ()  # every rate we offered, in order
    levers: LeverState = field(default_factory=LeverState)
    counterparty_type: CounterpartyType = CounterpartyType.DIRECT_INFLUENCER
    counterparty_name: str | None = None  # a manager's name, used in the greeting
    counterparty_email: str | None = None  # who we answer (influencer or manager)
    agency_name: str | None = None
    followups_sent: int = 0
    last_activity: datetime | None = None
    agreed_rate: Decimal | None = None
    agreed_cpm: Decimal | None = None
    # Their asks as (amount, price per 1,000 value-weighted views of the package it answered,
    # levers used by then: asks with the same count answered the same package).
    asks: tuple[tuple[Decimal, Decimal, int], ...] = ()
    recipient_name: str | None = None  # display name for To: (the person we answer)
    said: tuple[str, ...] = ()  # fingerprints of the paragraphs our emails already used
    agreed_package: AgreedPackage | None = None
    # The draft waiting for a human (an escalation's answer, or an email to approve).
    held: HeldDraft | None = None
    # Idempotency keys of the human resolutions already carried out on this thread.
    resolutions: tuple[str, ...] = ()

    @property
    def is_waiting(self) -> bool:
        """True when a reply from the other side can be handled now."""
        return self.state in WAITING_STATES

    def machine(self) -> NegotiationStateMachine:
        return NegotiationStateMachine.from_snapshot(self.state, self.history, self.pre_pause_state)

    def with_machine(self, machine: NegotiationStateMachine) -> Negotiation:
        return revised(self, **machine_fields(machine))

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "campaign_id": self.campaign_id,
            "terms": self.terms.to_dict(),
            "state": self.state.value,
            "history": [[f.value, e, t.value] for f, e, t in self.history],
            "pre_pause_state": None if self.pre_pause_state is None else self.pre_pause_state.value,
            "round_count": self.round_count,
            "replies_received": self.replies_received,
            "our_last_offer": _opt_str(self.our_last_offer),
            "their_last_ask": _opt_str(self.their_last_ask),
            "offers": [str(o) for o in self.offers],
            "levers": self.levers.to_dict(),
            "counterparty_type": self.counterparty_type.value,
            "counterparty_name": self.counterparty_name,
            "counterparty_email": self.counterparty_email,
            "agency_name": self.agency_name,
            "followups_sent": self.followups_sent,
            "last_activity": None if self.last_activity is None else self.last_activity.isoformat(),
            "agreed_rate": _opt_str(self.agreed_rate),
            "agreed_cpm": _opt_str(self.agreed_cpm),
            "asks": _asks_out(self.asks),
            "recipient_name": self.recipient_name,
            "said": list(self.said),
            "agreed_package": None
            if self.agreed_package is None
            else self.agreed_package.to_dict(),
            "held": None if self.held is None else self.held.to_dict(),
            "resolutions": list(self.resolutions),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Negotiation:
        try:
            pre_pause = data.get("pre_pause_state")
            last_activity = data.get("last_activity")
            package = data.get("agreed_package")
            held = data.get("held")
            return cls(
                thread_id=data["thread_id"],
                campaign_id=data["campaign_id"],
                terms=InfluencerTerms.from_dict(data["terms"]),
                state=NegotiationState(data["state"]),
                history=tuple(
                    (NegotiationState(f), str(e), NegotiationState(t))
                    for f, e, t in data["history"]
                ),
                pre_pause_state=None if pre_pause is None else NegotiationState(pre_pause),
                round_count=int(data["round_count"]),
                replies_received=int(data.get("replies_received", 0)),
                our_last_offer=_opt_dec(data.get("our_last_offer")),
                their_last_ask=_opt_dec(data.get("their_last_ask")),
                offers=tuple(_dec(o) for o in data.get("offers", ())),
                levers=LeverState.from_dict(data["levers"]),
                counterparty_type=CounterpartyType(data["counterparty_type"]),
                counterparty_name=data.get("counterparty_name"),
                counterparty_email=data.get("counterparty_email"),
                agency_name=data.get("agency_name"),
                followups_sent=int(data.get("followups_sent", 0)),
                last_activity=None
                if last_activity is None
                else datetime.fromisoformat(last_activity),
                agreed_rate=_opt_dec(data.get("agreed_rate")),
                agreed_cpm=_opt_dec(data.get("agreed_cpm")),
                asks=_asks_in(data.get("asks")),
                recipient_name=data.get("recipient_name"),
                said=tuple(str(s) for s in data.get("said") or ()),
                agreed_package=None if package is None else AgreedPackage.from_dict(package),
                held=None if held is None else HeldDraft.from_dict(held),
                resolutions=tuple(str(k) for k in data.get("resolutions") or ()),
            )
        except KeyError as exc:
            raise ValueError(f"negotiation record is missing field {exc.args[0]!r}") from exc


_RECORD_FIELDS = frozenset(item.name for item in fields(Negotiation))


def revised(negotiation: Negotiation, **changes: Any) -> Negotiation:
    """`dataclasses.replace` for the record, at a fifth of its cost. The record is a plain frozen
    dataclass (no __post_init__, every field set by __init__, no derived attributes), so its
    instance dict holds exactly its fields: the copy gets that dict with `changes` applied, in
    one step instead of one frozen-attribute write per field."""
    if not changes.keys() <= _RECORD_FIELDS:
        unknown = ", ".join(sorted(changes.keys() - _RECORD_FIELDS))
        raise TypeError(f"Negotiation has no field {unknown}")
    copy = object.__new__(Negotiation)
    object.__setattr__(copy, "__dict__", {**negotiation.__dict__, **changes})
    return copy
