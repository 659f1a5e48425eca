"""The negotiation engine: open, answer a reply, follow up. Pure and deterministic.

Entry points (each returns an `Outcome` holding the updated `Negotiation`; nothing is mutated):
- `open_negotiation(thread_id, campaign, terms, config, now)`
- `handle_reply(negotiation, reading, reply_text, sender, campaign, config, now)`
- `follow_up_due(negotiation, now, campaign, config)` → follow-up email, mark stale, or None
- `apply_event(negotiation, event, now)` for pause / resume / stop and human resolutions

Every state change goes through NegotiationStateMachine (rebuilt from the stored snapshot). A
reply is always first recorded with `receive_reply` (waiting state → counter_received), then
exactly one of send_counter / accept / reject / escalate follows, so the history shows both
that a reply came in and what we did about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from email.utils import parseaddr
from enum import StrEnum
from functools import lru_cache
from typing import Any

from negotiation_pipeline.domain.campaign import Campaign
from negotiation_pipeline.domain.cpm import FlexibilityRow
from negotiation_pipeline.domain.emails import (
    EmailDecision,
    EmailKind,
    EmailTemplates,
    OutgoingEmail,
    first_name,
    header_safe,
    split_deliverables,
)
from negotiation_pipeline.domain.gate import GateResult, validate_email
from negotiation_pipeline.domain.money import cpm_for_rate, format_usd, quantize_cents
from negotiation_pipeline.domain.policy import (
    EscalationTriggers,
    Lever,
    LeverState,
    NegotiationPolicy,
    PriceBounds,
    PriceMove,
    QuestionTopic,
    apply_lever,
    decide_price,
    hard_cap,
    next_lever,
    price_bounds,
)
from negotiation_pipeline.domain.quoting import own_text_of
from negotiation_pipeline.domain.reply_reader import ReplyReading
from negotiation_pipeline.domain.state_machine import (
    WAITING_STATES,
    HistoryEntry,
    NegotiationStateMachine,
)
from negotiation_pipeline.domain.types import (
    CounterpartyType,
    Intent,
    NegotiationEvent,
    NegotiationState,
    Platform,
)

E = NegotiationEvent
S = NegotiationState


# --- records -------------------------------------------------------------------------------------
def _dec(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"float {value!r} rejected: store money as a string")
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else _dec(value)


def _opt_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class InfluencerTerms:
    """One influencer on one campaign, with the price limits from the CPM flexibility table."""

    name: str
    email: str
    platform: Platform
    average_views: int
    engagement_rate: Decimal | None
    floor_rate: Decimal
    ceiling_rate: Decimal  # rate at max_allowed_cpm
    max_allowed_cpm: Decimal
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
            manager_emails=tuple(str(a) for a in data.get("manager_emails") or ()),
        )


@dataclass(frozen=True)
class Negotiation:
    """The stored state of one negotiation (one influencer, one campaign, one mail thread)."""

    thread_id: str
    campaign_id: str
    terms: InfluencerTerms
    state: NegotiationState = S.INITIAL_OFFER
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

    @property
    def is_waiting(self) -> bool:
        """True when a reply from the other side can be handled now."""
        return self.state in WAITING_STATES

    def machine(self) -> NegotiationStateMachine:
        return NegotiationStateMachine.from_snapshot(self.state, self.history, self.pre_pause_state)

    def with_machine(self, machine: NegotiationStateMachine) -> Negotiation:
        return replace(
            self,
            state=machine.state,
            history=tuple(machine.history),
            pre_pause_state=machine.pre_pause_state,
        )

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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Negotiation:
        try:
            pre_pause = data.get("pre_pause_state")
            last_activity = data.get("last_activity")
            return cls(
                thread_id=data["thread_id"],
                campaign_id=data["campaign_id"],
                terms=InfluencerTerms.from_dict(data["terms"]),
                state=S(data["state"]),
                history=tuple((S(f), str(e), S(t)) for f, e, t in data["history"]),
                pre_pause_state=None if pre_pause is None else S(pre_pause),
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
            )
        except KeyError as exc:
            raise ValueError(f"negotiation record is missing field {exc.args[0]!r}") from exc


# --- outcomes ------------------------------------------------------------------------------------
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
class Escalation:
    reason: EscalationReason
    detail: str  # one human sentence: what fired and why
    their_rate: Decimal | None
    our_rate: Decimal | None
    suggested_action: str
    draft: OutgoingEmail | None = None  # what we would have sent; a human may send it
    evidence: tuple[str, ...] = ()  # matched keywords or gate failures


@dataclass(frozen=True)
class Outcome:
    action: Action
    negotiation: Negotiation  # the updated record to store
    transitions: tuple[HistoryEntry, ...]  # applied by this call, in order
    reason: str  # why, for the audit trail
    email: OutgoingEmail | None = None  # to send now (never set together with escalation)
    escalation: Escalation | None = None
    gate: GateResult | None = None
    lever: Lever | None = None
    agreed_rate: Decimal | None = None
    agreed_cpm: Decimal | None = None


@dataclass(frozen=True)
class EngineConfig:
    """Everything editable the engine needs, already parsed (see engine_config.py)."""

    policy: NegotiationPolicy
    triggers: EscalationTriggers
    templates: EmailTemplates


class ReplyNotExpectedError(ValueError):
    """handle_reply was called for a negotiation that is not waiting for a reply."""


# --- counterparty --------------------------------------------------------------------------------
_PERSONAL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "icloud.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "live.com",
        "me.com",
        "msn.com",
        "mail.com",
    }
)
_MANAGER_TITLE = re.compile(
    r"\b(?:talent\s+)?(?:manager|agent|management|agency|representative)\b|\bon\s+behalf\s+of\b"
    r"|\brepresenting\b|\bbooking\b|\btalent\s+director\b|\bpartnerships\s+lead\b",
    re.IGNORECASE,
)
_AGENCY_LINE = re.compile(
    r"([A-Z][\w&.'-]*(?:[ \t]+[A-Z][\w&.'-]*)*[ \t]+"
    r"(?:Talent|Management|Agency|Media|Group|Partners|Collective))\b"
)


@dataclass(frozen=True)
class Counterparty:
    kind: CounterpartyType
    name: str | None
    email: str | None
    agency_name: str | None


@lru_cache(maxsize=4096)
def _parse_sender(sender: str) -> tuple[str, str]:
    """(display name, lowercased address). parseaddr, because comparing a raw "Name <addr>"
    header broke the earlier product; cached because the same senders write again and again."""
    display, address = parseaddr(header_safe(sender))
    return display, address.lower()


def classify_counterparty(sender: str, reply_text: str, terms: InfluencerTerms) -> Counterparty:
    """Direct influencer or talent manager, from the sender address and the signature."""
    display, address = _parse_sender(sender)
    own_text = own_text_of(reply_text)
    signature = "\n".join(own_text.strip().splitlines()[-8:])
    domain = address.rpartition("@")[2]
    from_influencer = not address or address == terms.email.lower()
    manager_signals = int(bool(_MANAGER_TITLE.search(signature)))
    if not from_influencer and domain and domain not in _PERSONAL_DOMAINS:
        manager_signals += 1
    if from_influencer or manager_signals == 0:
        return Counterparty(CounterpartyType.DIRECT_INFLUENCER, None, address or None, None)
    agency = _AGENCY_LINE.search(signature)
    agency_name = agency.group(1) if agency else None
    if agency_name is None and domain and domain not in _PERSONAL_DOMAINS:
        agency_name = domain.split(".")[0].capitalize()
    name = first_name(display) if display.strip() else None
    return Counterparty(CounterpartyType.TALENT_MANAGER, name, address, agency_name)


def _with_counterparty(negotiation: Negotiation, party: Counterparty) -> Negotiation:
    if party.kind is CounterpartyType.TALENT_MANAGER:
        return replace(
            negotiation,
            counterparty_type=party.kind,
            counterparty_name=party.name or negotiation.counterparty_name,
            counterparty_email=party.email,
            agency_name=party.agency_name or negotiation.agency_name,
        )
    # A manager thread stays a manager thread (never downgraded); we keep answering the sender.
    return replace(negotiation, counterparty_email=party.email or negotiation.counterparty_email)


# --- email decisions ----------------------------------------------------------------------------
def _package(campaign: Campaign, scenario: int) -> tuple[str, ...]:
    text = campaign.scenarios.package(scenario) if scenario > 1 else None
    return split_deliverables(text or campaign.opening_package())


def _product_description(campaign: Campaign) -> str:
    return campaign.product.description or f"{campaign.client_name} product"


def _email_decision(
    kind: EmailKind,
    negotiation: Negotiation,
    campaign: Campaign,
    policy: NegotiationPolicy,
    *,
    rate: Decimal | None,
    their_ask: Decimal | None = None,
    levers: LeverState | None = None,
    lever: Lever | None = None,
    topics: tuple[QuestionTopic, ...] = (),
    final_offer: bool = False,
) -> EmailDecision:
    levers = levers or negotiation.levers
    terms = negotiation.terms
    manager = negotiation.counterparty_type is CounterpartyType.TALENT_MANAGER
    show_product = levers.product_offered or QuestionTopic.PRODUCT in topics
    return EmailDecision(
        kind=kind,
        to=negotiation.counterparty_email or terms.email,
        greeting_name=(negotiation.counterparty_name if manager else None) or terms.first_name,
        influencer_name=terms.name,
        client_name=campaign.client_name,
        platform=terms.platform,
        rate=rate,
        their_ask=their_ask,
        deliverables=_package(campaign, levers.scenario),
        usage_rights=levers.usage(campaign),
        payment_terms=policy.payment_terms,
        sender_name=policy.sender.name,
        sender_title=policy.sender.title,
        sender_company=policy.sender.company,
        min_length=policy.min_email_length,
        counterparty=negotiation.counterparty_type,
        agency_name=negotiation.agency_name,
        lever=lever,
        product_description=_product_description(campaign) if show_product else None,
        product_value=campaign.product.value if show_product else None,
        exclusivity_required=campaign.requirements.exclusivity_required,
        content_approval_required=campaign.requirements.content_approval_required,
        revision_rounds=campaign.requirements.revision_rounds,
        publish_date=campaign.publish_date,
        timeline=campaign.timeline,
        topics=topics,
        final_offer=final_offer,
    )


def _answerable(topic: QuestionTopic, campaign: Campaign, policy: NegotiationPolicy) -> bool:
    """Whether the campaign (or policy) holds the fact that answers `topic`."""
    if topic is QuestionTopic.TIMELINE:
        return campaign.publish_date is not None or bool(campaign.timeline)
    if topic is QuestionTopic.PRODUCT:
        return campaign.product.available
    if topic is QuestionTopic.PAYMENT:
        return bool(policy.payment_terms.strip())
    return True  # usage rights, deliverables, exclusivity and approval always have a form value


# --- the plan for one reply ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """What we would do about a reply before escalation checks and the gate."""

    action: Action
    event: NegotiationEvent  # after receive_reply
    reason: str
    decision: EmailDecision | None = None
    offer: Decimal | None = None  # new offer when we send one
    levers: LeverState | None = None
    lever: Lever | None = None
    agreed_rate: Decimal | None = None
    escalation: EscalationReason | None = None  # the plan itself needs a human


def _plan_reply(
    negotiation: Negotiation,
    reading: ReplyReading,
    ask: Decimal | None,
    campaign: Campaign,
    policy: NegotiationPolicy,
) -> _Plan:
    last_offer = negotiation.our_last_offer
    assert last_offer is not None, "a waiting negotiation always has an offer"
    bounds = _bounds(negotiation.terms, campaign)
    intent = reading.intent
    if intent is Intent.REJECT:
        return _Plan(Action.REJECT, E.REJECT, "the influencer declined")
    if intent is Intent.ACCEPT and (ask is None or ask <= last_offer):
        agreed = last_offer if ask is None else min(ask, last_offer)
        return _agreement_plan(negotiation, campaign, policy, agreed, "the influencer accepted")
    topics = policy.topics_in(reading.new_text)
    if intent is Intent.QUESTION and ask is None:
        return _question_plan(negotiation, campaign, policy, topics, last_offer)
    # A counter (or an accept/question that names a higher amount).
    last_round = negotiation.round_count + 1 >= policy.max_rounds
    price = decide_price(
        their_ask=ask,
        our_last_offer=last_offer,
        bounds=bounds,
        policy=policy.concession,
        last_round=last_round,
    )
    if price.move is PriceMove.ACCEPT:
        return _agreement_plan(negotiation, campaign, policy, price.rate, price.reason)
    answered = tuple(t for t in topics if _answerable(t, campaign, policy))
    if price.move is PriceMove.COUNTER:
        decision = _email_decision(
            EmailKind.COUNTER,
            negotiation,
            campaign,
            policy,
            rate=price.rate,
            their_ask=ask,
            topics=answered,
            final_offer=price.rate >= bounds.ceiling,
        )
        return _Plan(Action.SEND_COUNTER, E.SEND_COUNTER, price.reason, decision, offer=price.rate)
    lever = next_lever(negotiation.levers, campaign)
    if lever is None and last_offer < bounds.ceiling:
        # Levers are spent but we still have room: one best-and-final offer at the ceiling.
        decision = _email_decision(
            EmailKind.COUNTER,
            negotiation,
            campaign,
            policy,
            rate=bounds.ceiling,
            their_ask=ask,
            topics=answered,
            final_offer=True,
        )
        reason = "ask above ceiling, levers used: best and final offer at the ceiling"
        return _Plan(Action.SEND_COUNTER, E.SEND_COUNTER, reason, decision, offer=bounds.ceiling)
    if lever is None:
        decision = _email_decision(EmailKind.EXIT, negotiation, campaign, policy, rate=last_offer)
        return _Plan(Action.EXIT, E.REJECT, "ask above ceiling and every lever used", decision)
    levers = apply_lever(negotiation.levers, lever, campaign)
    decision = _email_decision(
        EmailKind.LEVER,
        negotiation,
        campaign,
        policy,
        rate=price.rate,
        their_ask=ask,
        levers=levers,
        lever=lever,
    )
    reason = f"ask above ceiling: lever {lever.value}"
    return _Plan(Action.SEND_COUNTER, E.SEND_COUNTER, reason, decision, price.rate, levers, lever)


def _agreement_plan(
    negotiation: Negotiation,
    campaign: Campaign,
    policy: NegotiationPolicy,
    rate: Decimal,
    reason: str,
) -> _Plan:
    decision = _email_decision(EmailKind.AGREEMENT, negotiation, campaign, policy, rate=rate)
    return _Plan(Action.ACCEPT, E.ACCEPT, reason, decision, agreed_rate=rate)


def _question_plan(
    negotiation: Negotiation,
    campaign: Campaign,
    policy: NegotiationPolicy,
    topics: tuple[QuestionTopic, ...],
    last_offer: Decimal,
) -> _Plan:
    answered = tuple(t for t in topics if _answerable(t, campaign, policy))
    decision = _email_decision(
        EmailKind.ANSWER, negotiation, campaign, policy, rate=last_offer, topics=answered
    )
    if not topics or len(answered) < len(topics):
        missing = [t.value for t in topics if t not in answered] or ["(topic not recognised)"]
        reason = f"question we cannot answer from campaign facts: {', '.join(missing)}"
        return _Plan(
            Action.ESCALATE,
            E.ESCALATE,
            reason,
            decision if answered else None,
            escalation=EscalationReason.UNANSWERABLE_QUESTION,
        )
    reason = f"answer questions about {', '.join(t.value for t in topics)}"
    return _Plan(Action.ANSWER_QUESTION, E.SEND_COUNTER, reason, decision, offer=last_offer)


def _bounds(terms: InfluencerTerms, campaign: Campaign) -> PriceBounds:
    return price_bounds(terms.floor_rate, terms.ceiling_rate, campaign)


# --- escalation checks ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Trigger:
    reason: EscalationReason
    detail: str
    evidence: tuple[str, ...] = ()


def _pre_checks(
    negotiation: Negotiation,
    reading: ReplyReading,
    campaign: Campaign,
    config: EngineConfig,
) -> _Trigger | None:
    """Escalation triggers that do not depend on what we would answer, most serious first."""
    policy, triggers = config.policy, config.triggers
    for hit in triggers.keyword_hits(reading.new_text):
        reason = EscalationReason(hit.category.value)
        return _Trigger(
            reason, f"{hit.category.value.replace('_', ' ')}: {hit.matched!r}", (hit.matched,)
        )
    if (
        triggers.currency_mismatch.enabled
        and reading.currency is not None
        and reading.currency.upper() != policy.currency
    ):
        shown = f"{reading.proposed_rate} {reading.currency}"
        return _Trigger(EscalationReason.CURRENCY, f"amount in {reading.currency}: {shown}")
    unclear = reading.intent is Intent.UNCLEAR or reading.confidence < policy.confidence_threshold
    if unclear and (triggers.ambiguous_intent.enabled or reading.proposed_rate is None):
        detail = f"intent unclear (confidence {reading.confidence:.2f})"
        return _Trigger(EscalationReason.UNCLEAR_INTENT, detail)
    ask = reading.proposed_rate
    if ask is None:
        return None
    limit = campaign.budget_constraints.max_cost_without_approval
    if limit is not None and ask > limit:
        detail = f"ask {format_usd(ask)} is above max cost without approval {format_usd(limit)}"
        return _Trigger(EscalationReason.OVER_APPROVAL_LIMIT, detail)
    cap = hard_cap(_bounds(negotiation.terms, campaign), negotiation.terms.ceiling_rate, policy)
    if cap is not None and ask > cap:
        return _Trigger(
            EscalationReason.OVER_HARD_CAP,
            f"ask {format_usd(ask)} is above the hard cap {format_usd(cap)}",
        )
    return None


_SUGGESTIONS: dict[EscalationReason, str] = {
    EscalationReason.OVER_APPROVAL_LIMIT: "approve their ask, or send the draft counter",
    EscalationReason.OVER_HARD_CAP: "decide whether this creator is worth it, or send the draft",
    EscalationReason.UNCLEAR_INTENT: "read the reply and answer it yourself",
    EscalationReason.LEGAL_LANGUAGE: "review the legal points before anything is sent",
    EscalationReason.HOSTILE_TONE: "take over the thread personally",
    EscalationReason.UNUSUAL_DELIVERABLES: "check whether the client wants the extra deliverables",
    EscalationReason.CURRENCY: "convert their ask to USD and reply with a USD figure",
    EscalationReason.MAX_ROUNDS: "make the final call: accept their ask, send the draft, or exit",
    EscalationReason.UNANSWERABLE_QUESTION: "answer the question (the draft covers what we know)",
    EscalationReason.VALIDATION_FAILED: "fix the draft (see evidence) and send it by hand",
    EscalationReason.NO_FEASIBLE_PRICE: "raise the ceiling or lower the campaign's minimum cost",
}


def _escalate(
    negotiation: Negotiation,
    machine: NegotiationStateMachine,
    start: int,
    trigger: _Trigger,
    their_rate: Decimal | None,
    draft: OutgoingEmail | None,
    gate: GateResult | None = None,
) -> Outcome:
    machine.trigger(E.ESCALATE)
    updated = negotiation.with_machine(machine)
    escalation = Escalation(
        reason=trigger.reason,
        detail=trigger.detail,
        their_rate=their_rate,
        our_rate=negotiation.our_last_offer,
        suggested_action=_SUGGESTIONS[trigger.reason],
        draft=draft,
        evidence=trigger.evidence,
    )
    return Outcome(
        action=Action.ESCALATE,
        negotiation=updated,
        transitions=tuple(machine.history[start:]),
        reason=trigger.detail,
        escalation=escalation,
        gate=gate,
    )


# --- entry points --------------------------------------------------------------------------------
def open_negotiation(
    thread_id: str,
    campaign: Campaign,
    terms: InfluencerTerms,
    config: EngineConfig,
    now: datetime,
) -> Outcome:
    """Opening offer at the effective floor with scenario 1 deliverables (transition send_offer),
    or an escalation when no price fits (minimum cost above the ceiling) or the gate fails."""
    negotiation = Negotiation(
        thread_id=thread_id,
        campaign_id=campaign.campaign_id,
        terms=terms,
        counterparty_email=terms.email,
        last_activity=now,
    )
    machine = negotiation.machine()
    bounds = _bounds(terms, campaign)
    if not bounds.is_feasible:
        detail = (
            f"opening rate {format_usd(bounds.floor)} (floor or minimum cost) is above the "
            f"ceiling {format_usd(bounds.ceiling)}"
        )
        return _escalate(
            negotiation,
            machine,
            0,
            _Trigger(EscalationReason.NO_FEASIBLE_PRICE, detail),
            None,
            None,
        )
    decision = _email_decision(
        EmailKind.OPENING, negotiation, campaign, config.policy, rate=bounds.floor
    )
    email = config.templates.render(decision)
    gate = validate_email(email, decision)
    if not gate.passed:
        trigger = _Trigger(
            EscalationReason.VALIDATION_FAILED, "opening email failed the gate", gate.failures
        )
        return _escalate(negotiation, machine, 0, trigger, None, email, gate)
    machine.trigger(E.SEND_OFFER)
    updated = replace(
        negotiation.with_machine(machine), our_last_offer=bounds.floor, offers=(bounds.floor,)
    )
    return Outcome(
        action=Action.SEND_OFFER,
        negotiation=updated,
        transitions=tuple(machine.history),
        reason=f"open at the floor {format_usd(bounds.floor)} with scenario 1",
        email=email,
        gate=gate,
    )


def handle_reply(
    negotiation: Negotiation,
    reading: ReplyReading,
    reply_text: str,
    sender: str,
    campaign: Campaign,
    config: EngineConfig,
    now: datetime,
) -> Outcome:
    """Decide and render our answer to one reply. Raises ReplyNotExpectedError unless the
    negotiation waits for a reply (awaiting_reply, counter_sent, stale)."""
    if not negotiation.is_waiting:
        raise ReplyNotExpectedError(
            f"negotiation {negotiation.thread_id} is {negotiation.state.value}, "
            "not waiting for a reply"
        )
    policy = config.policy
    usd_ask = (
        reading.proposed_rate if (reading.currency or policy.currency) == policy.currency else None
    )
    ask = None if usd_ask is None else quantize_cents(usd_ask)
    party = classify_counterparty(sender, reply_text, negotiation.terms)
    negotiation = replace(
        _with_counterparty(negotiation, party),
        replies_received=negotiation.replies_received + 1,
        their_last_ask=ask if ask is not None else negotiation.their_last_ask,
        last_activity=now,
    )
    machine = negotiation.machine()
    start = len(machine.history)
    machine.trigger(E.RECEIVE_REPLY)

    trigger = _pre_checks(negotiation, reading, campaign, config)
    plan = None
    if trigger is None or trigger.reason is not EscalationReason.UNCLEAR_INTENT:
        plan = _plan_reply(negotiation, reading, ask, campaign, policy)
    email = (
        None if plan is None or plan.decision is None else config.templates.render(plan.decision)
    )
    if trigger is not None:
        return _escalate(negotiation, machine, start, trigger, reading.proposed_rate, email)
    assert plan is not None
    if plan.escalation is not None:
        return _escalate(
            negotiation, machine, start, _Trigger(plan.escalation, plan.reason), ask, email
        )
    sends_counter = plan.event is E.SEND_COUNTER
    if sends_counter and negotiation.round_count >= policy.max_rounds:
        detail = f"more than {policy.max_rounds} rounds: a human makes the final call"
        return _escalate(
            negotiation, machine, start, _Trigger(EscalationReason.MAX_ROUNDS, detail), ask, email
        )
    gate = None
    if email is not None and plan.decision is not None:
        gate = validate_email(email, plan.decision)
        if not gate.passed:
            trigger = _Trigger(
                EscalationReason.VALIDATION_FAILED,
                f"{plan.action.value} email failed the gate",
                gate.failures,
            )
            return _escalate(negotiation, machine, start, trigger, ask, email, gate)
    machine.trigger(plan.event)
    updated = negotiation.with_machine(machine)
    agreed_cpm = None
    if sends_counter:
        assert plan.offer is not None
        updated = replace(
            updated,
            round_count=updated.round_count + 1,
            our_last_offer=plan.offer,
            offers=(*updated.offers, plan.offer),
            levers=plan.levers or updated.levers,
            followups_sent=0,
        )
    elif plan.agreed_rate is not None:
        agreed_cpm = cpm_for_rate(plan.agreed_rate, negotiation.terms.average_views)
        updated = replace(updated, agreed_rate=plan.agreed_rate, agreed_cpm=agreed_cpm)
    return Outcome(
        action=plan.action,
        negotiation=updated,
        transitions=tuple(machine.history[start:]),
        reason=plan.reason,
        email=email,
        gate=gate,
        lever=plan.lever,
        agreed_rate=plan.agreed_rate,
        agreed_cpm=agreed_cpm,
    )


def follow_up_due(
    negotiation: Negotiation,
    now: datetime,
    campaign: Campaign,
    config: EngineConfig,
) -> Outcome | None:
    """After `first_after_days` of silence: one follow-up email (no state change). After a further
    `stale_after_days` of silence: transition timeout → stale (no email; the pipeline posts a Slack
    note). None when nothing is due."""
    if (
        negotiation.state not in (S.AWAITING_REPLY, S.COUNTER_SENT)
        or negotiation.last_activity is None
    ):
        return None
    silent = now - negotiation.last_activity
    timing = config.policy.follow_up
    machine = negotiation.machine()
    if negotiation.followups_sent == 0 and silent >= timedelta(days=timing.first_after_days):
        decision = _email_decision(
            EmailKind.FOLLOW_UP,
            negotiation,
            campaign,
            config.policy,
            rate=negotiation.our_last_offer,
        )
        email = config.templates.render(decision)
        gate = validate_email(email, decision)
        if not gate.passed:
            trigger = _Trigger(
                EscalationReason.VALIDATION_FAILED, "follow-up email failed the gate", gate.failures
            )
            return _escalate(negotiation, machine, len(machine.history), trigger, None, email, gate)
        updated = replace(negotiation, followups_sent=1, last_activity=now)
        days = silent.days
        return Outcome(Action.FOLLOW_UP, updated, (), f"no reply for {days} days", email, gate=gate)
    if negotiation.followups_sent >= 1 and silent >= timedelta(days=timing.stale_after_days):
        machine.trigger(E.TIMEOUT)
        updated = replace(negotiation.with_machine(machine), last_activity=now)
        reason = f"no reply for {silent.days} days after a follow-up"
        return Outcome(Action.MARK_STALE, updated, tuple(machine.history[-1:]), reason)
    return None


def apply_event(negotiation: Negotiation, event: NegotiationEvent, now: datetime) -> Negotiation:
    """Apply a control event (pause, resume, stop) or a human resolution of an escalation
    (resume_counter, accept, reject) through the state machine. Raises InvalidTransitionError."""
    machine = negotiation.machine()
    machine.trigger(event)
    return replace(negotiation.with_machine(machine), last_activity=now)
