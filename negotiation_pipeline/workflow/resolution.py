"""Carry out a person's decision on a negotiation waiting for one (an escalation, or a draft
held for approval): accept, counter, send the held draft, or decline. The CLI and the Dagster
job `resolve_escalation` both call `resolve`, so they do exactly the same thing.

One transaction per resolution holds everything it implies: the negotiation row (held draft
cleared), the email in the outbox, the agreement with the campaign's CPM tracker (as for an
agreement the agent made), the `state_transition` audit entry naming who decided and their
note, a Slack confirmation, and the campaign marked for a view refresh. Sending happens after
the commit through the outbox (`deliver_resolution`), so the email goes out at most once.

Exactly once: each resolution has an idempotency key (the thread, the draft or escalation it
answers, the action and its arguments), kept on the negotiation with the Message-ID it queued.
The same command again finds its key and reports what was done instead of doing it again;
after a crash between commit and sending, that repeat (or any later run) delivers the queued
email, which the outbox sends once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.negotiation import human
from negotiation_pipeline.domain.negotiation.engine import EngineConfig, Negotiation, Outcome
from negotiation_pipeline.domain.negotiation.human import HumanMove, ResolutionError
from negotiation_pipeline.integrations.mail.base import Mailbox
from negotiation_pipeline.integrations.mail.thread_headers import reply_subject
from negotiation_pipeline.integrations.slack.messages import resolution_notice
from negotiation_pipeline.store.base import NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import (
    Controller,
    OutboxEmail,
    OutboxStatus,
    StoredNegotiation,
)
from negotiation_pipeline.workflow.answering import (
    agreement_event,
    message_id_domain,
    record_agreement,
)
from negotiation_pipeline.workflow.audit_entries import (
    transition_audit,
)
from negotiation_pipeline.workflow.escalations import find_waiting_thread
from negotiation_pipeline.workflow.notify import queue_alerts
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import (
    load_negotiation,
    next_message_id,
    save_negotiation,
)
from negotiation_pipeline.workflow.resolution_keys import prior_resolution, resolution_key
from negotiation_pipeline.workflow.slack_outbox import queue_message


class ResolveAction(StrEnum):
    ACCEPT = "accept"
    COUNTER = "counter"
    SEND_DRAFT = "send_draft"
    DECLINE = "decline"


@dataclass(frozen=True)
class ResolutionRequest:
    target: str  # thread id, influencer email or influencer name
    action: ResolveAction
    amount: str | None = None  # accept: the rate (default their ask); counter: required
    scenario: int | None = None  # counter: the deliverables of this scenario
    allow_above_ceiling: bool = False
    text: str | None = None  # send_draft: the edited body
    note: str = ""


_OUTPUT_KEYS = {"influencer_name": "influencer", "override": "human_override"}


@dataclass(frozen=True)
class ResolutionResult:
    key: str
    thread_id: str
    campaign_id: str
    influencer_name: str
    action: ResolveAction
    state_before: str
    state_after: str
    message_id: str | None  # the email queued (None: nothing to send)
    amount: str | None
    decided_by: str
    note: str
    override: str | None
    repeated: bool  # this resolution had already been carried out: nothing was done again

    def to_dict(self) -> dict[str, Any]:
        """What the CLI prints and the job reports; its readers know two fields by these names."""
        return record_codec.to_dict(self, keys=_OUTPUT_KEYS)

    def line(self) -> str:
        amount = f" at {format_usd(_dec(self.amount))}" if self.amount else ""
        email = f"; email {self.message_id}" if self.message_id else "; no email"
        again = " (already done earlier: nothing repeated)" if self.repeated else ""
        override = f"; human override: {self.override}" if self.override else ""
        return (
            f"{self.thread_id} ({self.influencer_name}): {self.action.value}{amount}, "
            f"{self.state_before} -> {self.state_after}{email}{override}{again}"
        )


def _dec(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def _move(
    negotiation: Negotiation,
    stored: StoredNegotiation,
    request: ResolutionRequest,
    config: EngineConfig,
    now: datetime,
) -> HumanMove:
    campaign = stored.campaign
    if request.action is ResolveAction.ACCEPT:
        rate = None if request.amount is None else human.parse_amount(request.amount, "--rate")
        return human.accept(negotiation, campaign, config, rate, now)
    if request.action is ResolveAction.COUNTER:
        amount = human.parse_amount(request.amount, "the counter amount")
        return human.counter(
            negotiation,
            campaign,
            config,
            amount,
            now,
            scenario=request.scenario,
            allow_above_ceiling=request.allow_above_ceiling,
        )
    if request.action is ResolveAction.SEND_DRAFT:
        return human.send_draft(negotiation, request.text, now)
    return human.decline(negotiation, campaign, config, now)


def _threading(
    uow: UnitOfWork, negotiation: Negotiation, subject: str
) -> tuple[str | None, str | None, str]:
    """(In-Reply-To, References, Subject) for an email answering this thread now: the held
    reply when the draft answers one, else our last email of the thread."""
    held = negotiation.held
    if held is not None and held.threading is not None and held.threading.in_reply_to:
        t = held.threading
        return t.in_reply_to, t.references, reply_subject(t.subject or subject)
    earlier = uow.outbox.for_thread(negotiation.thread_id)
    if not earlier:
        return None, None, subject
    last = earlier[-1]
    references = " ".join(part for part in ((last.references or ""), last.message_id) if part)
    return last.message_id, references or None, reply_subject(last.subject)


def _queue_email(
    uow: UnitOfWork, before: Negotiation, move: HumanMove, campaign_id: str, domain: str
) -> str | None:
    if move.email is None:
        return None
    message_id = next_message_id(uow, before.thread_id, domain)
    in_reply_to, references, subject = _threading(uow, before, move.email.subject)
    uow.outbox.add(
        OutboxEmail(
            message_id=message_id,
            to_addr=move.email.to,
            to_name=move.email.to_name,
            subject=subject,
            body=move.email.body,
            thread_id=before.thread_id,
            campaign_id=campaign_id,
            in_reply_to=in_reply_to,
            references=references,
        )
    )
    return message_id


def _as_outcome(move: HumanMove) -> Outcome:
    return Outcome(
        action=move.action,
        negotiation=move.negotiation,
        transitions=move.transitions,
        reason=move.reason,
        email=move.email,
        gate=move.gate,
        agreed_rate=move.agreed_rate,
        agreed_cpm=move.agreed_cpm,
        agreed_package=move.agreed_package,
    )


def _record_agreement(
    uow: UnitOfWork, stored: StoredNegotiation, outcome: Outcome, now: datetime
) -> dict[str, Any]:
    """The agreement a human decided, recorded as an agent's is, and its Slack alert queued in
    the same transaction; a repeat keeps the row's tracker snapshot and alerts nobody."""
    recorded, tracker = record_agreement(uow, outcome, stored.campaign, now)
    if not recorded:
        return dict(stored.cpm_tracker_data)
    queue_alerts(uow, [agreement_event(outcome, stored.campaign)])
    return tracker


def _amount_of(move: HumanMove) -> str | None:
    if move.agreed_rate is not None:
        return str(move.agreed_rate)
    if move.action in (human.Action.SEND_COUNTER, human.Action.SEND_OFFER):
        offer = move.negotiation.our_last_offer
        return None if offer is None else str(offer)
    return None


def _carry_out(
    uow: UnitOfWork,
    stored: StoredNegotiation,
    request: ResolutionRequest,
    config: EngineConfig,
    actor: str,
    domain: str,
    now: datetime,
) -> ResolutionResult:
    before = load_negotiation(stored)
    key = resolution_key(before, request)
    common: dict[str, Any] = {
        "key": key,
        "thread_id": before.thread_id,
        "campaign_id": before.campaign_id,
        "influencer_name": before.terms.name,
        "action": request.action,
        "decided_by": actor,
        "note": request.note,
    }
    earlier = None if human.waiting_for_human(before) else prior_resolution(before, request)
    if earlier is not None:
        common["key"] = before.resolutions[-1].split(" ", 1)[0]
        state = before.state.value
        message_id = None if earlier == "-" else earlier
        return ResolutionResult(
            **common,
            state_before=state,
            state_after=state,
            message_id=message_id,
            amount=None,
            override=None,
            repeated=True,
        )
    if stored.controlled_by is Controller.HUMAN:
        raise ResolutionError(
            f"{before.thread_id} is taken over by a human: write to them yourself, or hand it "
            "back with `control resume` first"
        )
    move = _move(before, stored, request, config, now)
    outcome = _as_outcome(move)
    tracker = dict(stored.cpm_tracker_data)
    if move.agreed_rate is not None and move.agreed_cpm is not None:
        tracker = _record_agreement(uow, stored, outcome, now)
    message_id = _queue_email(uow, before, move, stored.campaign_id, domain)
    done = f"{key} {message_id or '-'} {actor}"
    after = replace(move.negotiation, resolutions=(*before.resolutions, done))
    save_negotiation(uow, after, stored.campaign, tracker)
    extra: dict[str, Any] = {
        "source": "resolution",
        "resolution": request.action.value,
        "resolution_key": key,
        "actor": actor,
        "note": request.note,
    }
    if move.override:
        extra["human_override"] = move.override
    uow.audit.insert(transition_audit(replace(outcome, negotiation=after), message_id, extra))
    result = ResolutionResult(
        **common,
        state_before=before.state.value,
        state_after=after.state.value,
        message_id=message_id,
        amount=_amount_of(move),
        override=move.override,
        repeated=False,
    )
    notice = resolution_notice(
        influencer_name=before.terms.name,
        client_name=stored.campaign.client_name,
        summary=result.line(),
        decided_by=actor,
        note=request.note,
        thread_id=before.thread_id,
    )
    queue_message(uow, notice, key=f"slack-{key}")
    uow.view_refresh.request(before.campaign_id, f"{request.action.value} by {actor}")
    return result


def resolve(
    store: NegotiationStore,
    request: ResolutionRequest,
    *,
    config: EngineConfig,
    actor: str,
    agent_addresses: list[str] | tuple[str, ...],
    now: datetime,
) -> ResolutionResult:
    """Carry out `request` on the one negotiation its target names (see module docstring).
    Raises ResolutionError (a subclass names a target problem) when it cannot be done."""
    actor = actor.strip()
    if not actor:
        raise ResolutionError("who decided (the actor) is required for the audit trail")
    domain = message_id_domain(agent_addresses)
    thread_id = find_waiting_thread(store, request.target)
    with store.transaction() as uow:
        stored = uow.states.load(thread_id)
        if stored is None:
            raise ResolutionError(f"{thread_id} is no longer in the store")
        return _carry_out(uow, stored, request, config, actor, domain, now)


def deliver_resolution(
    store: NegotiationStore, mailbox: Mailbox, result: ResolutionResult, *, now: datetime
) -> str:
    """Send what the resolution queued (the outbox sends it once, also when a repeat of the
    command or a later run gets here first); returns the email's status in words."""
    if result.message_id is None:
        return "no email to send"
    delivery = deliver_pending(store, mailbox, now=now)
    row = store.outbox.get(result.message_id)
    if row is None:
        return "not in the outbox"
    if row.status is OutboxStatus.SENT:
        return "sent"
    if row.status is OutboxStatus.FAILED:
        return f"failed: {row.last_error or 'refused by the mail server'}"
    if delivery.transport_error:
        return f"queued; the mail server is unavailable ({delivery.transport_error})"
    return f"queued ({row.last_error or 'waiting for the next delivery'})"


__all__ = [
    "ResolutionError",
    "ResolutionRequest",
    "ResolutionResult",
    "ResolveAction",
    "deliver_resolution",
    "resolution_key",
    "resolve",
]
