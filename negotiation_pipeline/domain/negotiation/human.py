"""A person decides a negotiation the agent handed over: accept, counter, send the held draft,
or decline. Pure and deterministic, like the engine.

Each move returns a `HumanMove`: the updated record (the held draft cleared), the transitions
applied, the email to send and the gate's verdict on it. Every move goes through the state
machine (`apply_event`) and every email through the validation gate, including a draft a person
edited: the gate checks the edited text against what the draft was decided to say. A move that
cannot be made raises `ResolutionError` with the reason in one sentence; nothing changes then.

A thread waits for a person when it is `escalated`, or when it holds a draft for approval (the
campaign's approval mode), in whichever state the agent left it then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import NegotiationEvent, NegotiationState
from negotiation_pipeline.domain.money import MoneyError, format_usd, parse_decimal, quantize_cents
from negotiation_pipeline.domain.negotiation.decisions import email_decision
from negotiation_pipeline.domain.negotiation.email_gate import GateResult, validate_email
from negotiation_pipeline.domain.negotiation.emails import (
    EmailKind,
    OutgoingEmail,
    paragraph_fingerprints,
)
from negotiation_pipeline.domain.negotiation.engine import apply_event
from negotiation_pipeline.domain.negotiation.held import DraftPurpose, HeldDraft
from negotiation_pipeline.domain.negotiation.outcome import EngineConfig
from negotiation_pipeline.domain.negotiation.planning import agreed_terms, bounds_for
from negotiation_pipeline.domain.negotiation.policy import Lever, LeverState
from negotiation_pipeline.domain.negotiation.record import Action, AgreedPackage, Negotiation
from negotiation_pipeline.domain.negotiation.state_machine import (
    HistoryEntry,
    InvalidTransitionError,
)

# Human cents, not the agent's rounding grid: a person may name any amount.
_HUMAN_STEP = Decimal("0.01")


class ResolutionError(ValueError):
    """The move cannot be made; the message says why (the negotiation is unchanged)."""


@dataclass(frozen=True)
class HumanMove:
    action: Action
    negotiation: Negotiation  # the record to store
    transitions: tuple[HistoryEntry, ...]
    email: OutgoingEmail | None  # None: nothing to send (an opening never sent is dropped)
    gate: GateResult | None
    reason: str  # what was done, for the audit trail
    agreed_rate: Decimal | None = None
    agreed_cpm: Decimal | None = None
    agreed_package: AgreedPackage | None = None
    override: str | None = None  # set when a person went past a limit the agent keeps


def waiting_for_human(negotiation: Negotiation) -> bool:
    if negotiation.state is NegotiationState.ESCALATED:
        return True
    held = negotiation.held
    return held is not None and held.purpose is DraftPurpose.APPROVAL and not _final(negotiation)


def _final(negotiation: Negotiation) -> bool:
    return negotiation.state in (
        NegotiationState.AGREED,
        NegotiationState.REJECTED,
        NegotiationState.STOPPED,
    )


def parse_amount(text: str | Decimal | None, what: str) -> Decimal:
    """A positive amount of money from a person ("$1,500", "1500.50"), in cents."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ResolutionError(f"{what} is missing")
    try:
        amount = parse_decimal(text)
    except MoneyError as exc:
        raise ResolutionError(f"{what} is not money: {exc}") from None
    if amount <= 0:
        raise ResolutionError(f"{what} must be more than zero, got {text!r}")
    if amount != quantize_cents(amount):
        raise ResolutionError(f"{what} has more than two decimals: {text!r}")
    return quantize_cents(amount)


def _check_waiting(negotiation: Negotiation) -> None:
    if not waiting_for_human(negotiation):
        raise ResolutionError(
            f"{negotiation.thread_id} is not waiting for a human decision "
            f"(state {negotiation.state.value}, no draft awaiting approval)"
        )


def _apply(negotiation: Negotiation, event: NegotiationEvent, now: datetime) -> Negotiation:
    try:
        return apply_event(negotiation, event, now)
    except InvalidTransitionError as exc:
        raise ResolutionError(str(exc)) from None


def _gated(email: OutgoingEmail, gate: GateResult) -> None:
    if not gate.passed:
        raise ResolutionError(
            f"the {email.kind.value} email failed the validation gate: " + "; ".join(gate.failures)
        )


def _transitions(before: Negotiation, after: Negotiation) -> tuple[HistoryEntry, ...]:
    return tuple(after.history[len(before.history) :])


def _counter_event(state: NegotiationState) -> NegotiationEvent:
    if state is NegotiationState.ESCALATED:
        return NegotiationEvent.RESUME_COUNTER
    if state is NegotiationState.COUNTER_RECEIVED:
        return NegotiationEvent.SEND_COUNTER
    if state is NegotiationState.INITIAL_OFFER:
        return NegotiationEvent.SEND_OFFER
    raise ResolutionError(f"a counter cannot be sent while the thread is {state.value}")


def _draft_event(action: str | None, state: NegotiationState) -> NegotiationEvent | None:
    """The transition that sends a held draft from the state the thread waits in."""
    if action in (Action.ACCEPT, Action.REJECT, Action.EXIT):
        return NegotiationEvent.ACCEPT if action == Action.ACCEPT else NegotiationEvent.REJECT
    if action == Action.FOLLOW_UP and state is not NegotiationState.ESCALATED:
        return None  # a follow-up changes no state
    return _counter_event(state)


def _their_ask(negotiation: Negotiation, currency: str) -> Decimal:
    note = negotiation.held.escalation if negotiation.held else None
    if note is not None and note.ask_currency and note.ask_currency.upper() != currency:
        shown = "an amount" if note.their_ask is None else f"{note.their_ask}"
        raise ResolutionError(
            f"their ask is {shown} {note.ask_currency}: pass --rate with the amount in {currency}"
        )
    ask = negotiation.their_last_ask
    if note is not None and note.their_ask is not None and ask is None:
        ask = note.their_ask
    if ask is None:
        raise ResolutionError("no ask of theirs is on record: pass --rate with the amount")
    return ask


def accept(
    negotiation: Negotiation,
    campaign: Campaign,
    config: EngineConfig,
    rate: Decimal | None,
    now: datetime,
) -> HumanMove:
    """Agree at their ask (or at `rate`): the agreement email, the agreed package and CPM."""
    _check_waiting(negotiation)
    policy = config.policy
    agreed = rate if rate is not None else _their_ask(negotiation, policy.currency)
    decision = email_decision(EmailKind.AGREEMENT, negotiation, campaign, policy, rate=agreed)
    email = config.templates.render(decision)
    gate = validate_email(email, decision)
    _gated(email, gate)
    after = _apply(negotiation, NegotiationEvent.ACCEPT, now)
    package, cpm = agreed_terms(negotiation, campaign, policy, agreed)
    ceiling = bounds_for(negotiation, negotiation.levers, campaign, policy).ceiling
    override = None
    if agreed > ceiling:
        override = f"agreed at {format_usd(agreed)}, above the ceiling {format_usd(ceiling)}"
    updated = replace(
        after,
        agreed_rate=agreed,
        agreed_cpm=cpm,
        agreed_package=package,
        said=negotiation.said + email.said,
        held=None,
    )
    return HumanMove(
        Action.ACCEPT,
        updated,
        _transitions(negotiation, updated),
        email,
        gate,
        f"a human accepted at {format_usd(agreed)}",
        agreed_rate=agreed,
        agreed_cpm=cpm,
        agreed_package=package,
        override=override,
    )


def _levers_for(
    negotiation: Negotiation, campaign: Campaign, scenario: int | None
) -> tuple[LeverState, Lever | None]:
    levers = negotiation.levers
    if scenario is None or scenario == levers.scenario:
        return levers, None
    if scenario not in (1, 2, 3) or not campaign.scenarios.package(scenario):
        offered = [n for n in (1, 2, 3) if campaign.scenarios.package(n)]
        raise ResolutionError(
            f"scenario {scenario} is not one this campaign offers (it has {offered})"
        )
    lever = {2: Lever.SCENARIO_2, 3: Lever.SCENARIO_3}.get(scenario)
    used = levers.used if lever is None or lever in levers.used else (*levers.used, lever)
    return replace(levers, scenario=scenario, used=used), lever


def counter(
    negotiation: Negotiation,
    campaign: Campaign,
    config: EngineConfig,
    amount: Decimal,
    now: datetime,
    *,
    scenario: int | None = None,
    allow_above_ceiling: bool = False,
) -> HumanMove:
    """Offer `amount` (for scenario N's deliverables when given). Above the ceiling only with
    `allow_above_ceiling`, recorded as an override."""
    _check_waiting(negotiation)
    policy = config.policy
    event = _counter_event(negotiation.state)
    levers, lever = _levers_for(negotiation, campaign, scenario)
    ceiling = bounds_for(negotiation, levers, campaign, policy).ceiling
    override = None
    if amount > ceiling:
        if not allow_above_ceiling:
            raise ResolutionError(
                f"{format_usd(amount)} is above the ceiling {format_usd(ceiling)} for scenario "
                f"{levers.scenario}: pass --allow-above-ceiling to offer it anyway"
            )
        override = f"counter {format_usd(amount)} above the ceiling {format_usd(ceiling)}"
    ask = negotiation.their_last_ask
    if ask is not None and amount >= ask and event is not NegotiationEvent.SEND_OFFER:
        raise ResolutionError(
            f"{format_usd(amount)} is at or above their ask {format_usd(ask)}: use accept"
        )
    kind = EmailKind.OPENING if event is NegotiationEvent.SEND_OFFER else EmailKind.COUNTER
    if lever is not None and kind is EmailKind.COUNTER:
        kind = EmailKind.LEVER
    last = negotiation.our_last_offer
    decision = email_decision(
        kind,
        negotiation,
        campaign,
        policy,
        rate=amount,
        their_ask=ask if kind is not EmailKind.OPENING else None,
        levers=levers,
        lever=lever,
        offer_moved=last is None or amount > last,
        rounding_step=_HUMAN_STEP,
    )
    email = config.templates.render(decision)
    gate = validate_email(email, decision)
    _gated(email, gate)
    after = _apply(negotiation, event, now)
    opening = event is NegotiationEvent.SEND_OFFER
    updated = replace(
        after,
        round_count=after.round_count if opening else after.round_count + 1,
        our_last_offer=amount,
        offers=(*negotiation.offers, amount),
        levers=levers,
        followups_sent=0,
        said=negotiation.said + email.said,
        held=None,
    )
    action = Action.SEND_OFFER if opening else Action.SEND_COUNTER
    reason = f"a human countered at {format_usd(amount)} (scenario {levers.scenario})"
    return HumanMove(
        action, updated, _transitions(negotiation, updated), email, gate, reason, override=override
    )


def send_draft(negotiation: Negotiation, edited_body: str | None, now: datetime) -> HumanMove:
    """Send the held draft, as it is or with `edited_body` (checked by the gate either way)."""
    _check_waiting(negotiation)
    held = negotiation.held
    if held is None or not held.has_email:
        raise ResolutionError(
            f"{negotiation.thread_id} holds no draft to send: use accept, counter or decline"
        )
    assert held.email is not None and held.decision is not None and held.after is not None
    email = held.email
    said = held.after.said
    if edited_body is not None:
        body = edited_body.replace("\r\n", "\n").strip() + "\n"
        if not body.strip():
            raise ResolutionError("the edited draft is empty")
        email = replace(email, body=body)
        said = negotiation.said + paragraph_fingerprints(body)
    gate = validate_email(email, held.decision)
    if not gate.passed and edited_body is None:
        raise ResolutionError(
            "the held draft fails the validation gate ("
            + "; ".join(gate.failures)
            + "): send it edited (--edit FILE), or use accept, counter or decline"
        )
    _gated(email, gate)
    event = _draft_event(held.action, negotiation.state)
    moved = negotiation if event is None else _apply(negotiation, event, now)
    updated = _carry(moved, held, said, now)
    action = Action(held.action) if held.action else Action.SEND_COUNTER
    edited = " (edited)" if edited_body is not None else ""
    return HumanMove(
        action,
        updated,
        _transitions(negotiation, updated),
        email,
        gate,
        f"a human sent the held {email.kind.value} draft{edited}",
        agreed_rate=updated.agreed_rate if action is Action.ACCEPT else None,
        agreed_cpm=updated.agreed_cpm if action is Action.ACCEPT else None,
        agreed_package=updated.agreed_package if action is Action.ACCEPT else None,
    )


def _carry(
    moved: Negotiation, held: HeldDraft, said: tuple[str, ...], now: datetime
) -> Negotiation:
    """The draft's effects on the record, in the state the transition just reached."""
    after = held.after
    assert after is not None
    return replace(
        after,
        state=moved.state,
        history=moved.history,
        pre_pause_state=moved.pre_pause_state,
        last_activity=now,
        said=said,
        held=None,
        resolutions=moved.resolutions,
        # What happened since the draft was made stays as it is now.
        replies_received=moved.replies_received,
        their_last_ask=moved.their_last_ask,
        asks=after.asks if len(after.asks) >= len(moved.asks) else moved.asks,
    )


def decline(
    negotiation: Negotiation, campaign: Campaign, config: EngineConfig, now: datetime
) -> HumanMove:
    """End the negotiation with a courteous closing email (thread `rejected`). An opening offer
    that was never sent is simply dropped: the thread is stopped and nobody is written to."""
    _check_waiting(negotiation)
    if negotiation.state is NegotiationState.INITIAL_OFFER:
        after = replace(_apply(negotiation, NegotiationEvent.STOP, now), held=None)
        reason = "a human dropped the opening offer before it was sent"
        return HumanMove(Action.REJECT, after, _transitions(negotiation, after), None, None, reason)
    policy = config.policy
    decision = email_decision(
        EmailKind.EXIT, negotiation, campaign, policy, rate=negotiation.our_last_offer
    )
    email = config.templates.render(decision)
    gate = validate_email(email, decision)
    _gated(email, gate)
    after = _apply(negotiation, NegotiationEvent.REJECT, now)
    updated = replace(after, said=negotiation.said + email.said, held=None)
    return HumanMove(
        Action.EXIT,
        updated,
        _transitions(negotiation, updated),
        email,
        gate,
        "a human declined and closed the negotiation",
    )


__all__ = [
    "HumanMove",
    "ResolutionError",
    "accept",
    "counter",
    "decline",
    "parse_amount",
    "send_draft",
    "waiting_for_human",
]
