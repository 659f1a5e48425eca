"""The stored record of a negotiation: the influencer's terms, what was offered and asked, the
package on the table and, once agreed, the agreed package. Plain data; to_dict / from_dict
go through the record codec (money as exact strings); the engine reads and returns these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from negotiation_pipeline.domain import record_codec
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
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InfluencerTerms:
        return record_codec.from_dict(cls, data)


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
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgreedPackage:
        return record_codec.from_dict(cls, data)


def machine_fields(machine: NegotiationStateMachine) -> dict[str, Any]:
    """The record's fields that hold the state machine's snapshot."""
    return {
        "state": machine.state,
        "history": tuple(machine.history),
        "pre_pause_state": machine.pre_pause_state,
    }


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
        return record_codec.to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Negotiation:
        return record_codec.from_dict(cls, data)


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
