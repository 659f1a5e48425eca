"""Humans stay in control: pause, resume, stop or take over negotiations; stop a whole agency.

A target is a thread id or an influencer email (thread ids never contain "@", see
persistence.thread_id_for). An email can match several negotiations (one per campaign): the
action applies to every one that is still active, and the result says which changed and why
the others did not.

Everything is persisted in the store, one transaction per thread (state row + controlled_by +
audit entry together), and the row is re-read inside that transaction, so a concurrent reply
run never has its change overwritten. State changes go through the domain state machine
(`apply_event`): pause remembers the state it paused, resume restores exactly that state, also
from a fresh process. Take-over is not a state change: the thread stays where it is with
`controlled_by = human`, and the agent neither answers replies nor sends follow-ups on it until
`resume` hands it back.
Letting one more address answer in a negotiation is in allowed_senders.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import (
    TERMINAL_STATES,
    EventType,
    NegotiationEvent,
    NegotiationState,
)
from negotiation_pipeline.domain.negotiation.engine import Negotiation, apply_event
from negotiation_pipeline.domain.negotiation.state_machine import InvalidTransitionError
from negotiation_pipeline.store.base import NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import Controller, StoredNegotiation
from negotiation_pipeline.workflow.persistence import load_negotiation, save_negotiation


class ControlAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    TAKEOVER = "takeover"


class ControlError(ValueError):
    """A control command could not be carried out; the message says why, per thread."""


class UnknownTargetError(ControlError):
    """No negotiation has this thread id, influencer email or agency name."""


class NothingChangedError(ControlError):
    """The target exists but no negotiation of it could take the action (each reason listed)."""

    def __init__(self, message: str, result: ControlResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class ControlResult:
    action: ControlAction
    target: str
    changed: tuple[str, ...]  # thread ids the action applied to
    unchanged: tuple[tuple[str, str], ...]  # (thread id, why it was left as it was)
    lines: tuple[str, ...] = ()  # one readable line per thread, for the CLI and logs


# A step decides on one freshly loaded row inside its transaction: returns what it did
# ("awaiting_reply -> paused"), or raises ControlError with the reason the row was left alone.
_Step = Callable[[UnitOfWork, StoredNegotiation, str, datetime], str]


def is_email_target(target: str) -> bool:
    return "@" in target


# --- one thread --------------------------------------------------------------------------------
def _transition_audit(
    before: Negotiation,
    after: Negotiation,
    event: NegotiationEvent,
    actor: str,
) -> AuditEntry:
    # "transitions" in the same shape as the workflow's other state_transition entries.
    return AuditEntry(
        event_type=EventType.STATE_TRANSITION,
        campaign_id=after.campaign_id,
        influencer_name=after.terms.name,
        thread_id=after.thread_id,
        negotiation_state=after.state,
        metadata={
            "event": event.value,
            "from": before.state.value,
            "to": after.state.value,
            "transitions": [[before.state.value, event.value, after.state.value]],
            "actor": actor,
            "source": "control",
        },
    )


def _controller_audit(negotiation: Negotiation, controller: Controller, actor: str) -> AuditEntry:
    return AuditEntry(
        event_type=EventType.TAKEOVER,
        campaign_id=negotiation.campaign_id,
        influencer_name=negotiation.terms.name,
        thread_id=negotiation.thread_id,
        negotiation_state=negotiation.state,
        metadata={"controlled_by": controller.value, "actor": actor, "source": "control"},
    )


def _save(
    uow: UnitOfWork,
    stored: StoredNegotiation,
    negotiation: Negotiation,
    controlled_by: Controller | None = None,
) -> None:
    save_negotiation(
        uow,
        negotiation,
        stored.campaign,
        dict(stored.cpm_tracker_data),
        controlled_by=controlled_by,
    )


def _refuse_final(negotiation: Negotiation, action: ControlAction) -> None:
    if negotiation.state in TERMINAL_STATES:
        raise ControlError(
            f"cannot {action.value}: the negotiation is {negotiation.state.value} (final)"
        )


def _apply(before: Negotiation, event: NegotiationEvent, now: datetime) -> Negotiation:
    try:
        return apply_event(before, event, now)
    except InvalidTransitionError as exc:
        raise ControlError(f"invalid transition: {exc}") from None


def _pause(uow: UnitOfWork, stored: StoredNegotiation, actor: str, now: datetime) -> str:
    current = load_negotiation(stored)
    _refuse_final(current, ControlAction.PAUSE)
    if current.state is NegotiationState.PAUSED:
        raise ControlError(f"already paused (in {_paused_from(current)})")
    after = _apply(current, NegotiationEvent.PAUSE, now)
    _save(uow, stored, after)
    uow.audit.insert(_transition_audit(current, after, NegotiationEvent.PAUSE, actor))
    return f"{current.state.value} -> paused"


def _paused_from(negotiation: Negotiation) -> str:
    state = negotiation.pre_pause_state
    return state.value if state is not None else "an unknown state"


def _resume(uow: UnitOfWork, stored: StoredNegotiation, actor: str, now: datetime) -> str:
    current = load_negotiation(stored)
    _refuse_final(current, ControlAction.RESUME)
    human = stored.controlled_by is Controller.HUMAN
    if current.state is not NegotiationState.PAUSED and not human:
        raise ControlError(
            f"not paused and not taken over: nothing to resume (state {current.state.value})"
        )
    parts: list[str] = []
    after = current
    if current.state is NegotiationState.PAUSED:
        after = _apply(current, NegotiationEvent.RESUME, now)
        uow.audit.insert(_transition_audit(current, after, NegotiationEvent.RESUME, actor))
        parts.append(f"paused -> {after.state.value}")
    if human:
        # The human may have written meanwhile: follow-up timing restarts from now.
        after = replace(after, last_activity=now)
        uow.audit.insert(_controller_audit(after, Controller.AGENT, actor))
        parts.append("handed back to the agent")
    _save(uow, stored, after, Controller.AGENT if human else None)
    return ", ".join(parts)


def _stop(uow: UnitOfWork, stored: StoredNegotiation, actor: str, now: datetime) -> str:
    current = load_negotiation(stored)
    _refuse_final(current, ControlAction.STOP)
    after = _apply(current, NegotiationEvent.STOP, now)
    _save(uow, stored, after)
    uow.audit.insert(_transition_audit(current, after, NegotiationEvent.STOP, actor))
    return f"{current.state.value} -> stopped"


def _takeover(uow: UnitOfWork, stored: StoredNegotiation, actor: str, now: datetime) -> str:
    current = load_negotiation(stored)
    _refuse_final(current, ControlAction.TAKEOVER)
    if stored.controlled_by is Controller.HUMAN:
        raise ControlError("already taken over by a human")
    _save(uow, stored, current, Controller.HUMAN)
    uow.audit.insert(_controller_audit(current, Controller.HUMAN, actor))
    return f"taken over by {actor} (state stays {current.state.value})"


_STEPS: dict[ControlAction, _Step] = {
    ControlAction.PAUSE: _pause,
    ControlAction.RESUME: _resume,
    ControlAction.STOP: _stop,
    ControlAction.TAKEOVER: _takeover,
}


# --- targets -----------------------------------------------------------------------------------
def thread_ids_for(store: NegotiationStore, target: str) -> list[str]:
    """The thread ids `target` names (a thread id, or every negotiation of an influencer
    email); raises UnknownTargetError when it names none."""
    cleaned = target.strip()
    if not cleaned:
        raise UnknownTargetError("no target given: pass a thread id or an influencer email")
    if is_email_target(cleaned):
        found = store.states.load_by_email(cleaned)
        if not found:
            raise UnknownTargetError(f"no negotiation with influencer email {cleaned!r}")
        return [stored.thread_id for stored in found]
    if store.states.load(cleaned) is None:
        raise UnknownTargetError(f"no negotiation with thread id {cleaned!r}")
    return [cleaned]


def _run(
    store: NegotiationStore,
    action: ControlAction,
    target: str,
    thread_ids: list[str],
    actor: str,
    now: datetime,
) -> ControlResult:
    if not actor.strip():
        raise ControlError("an actor (who is doing this) is required for the audit trail")
    step = _STEPS[action]
    changed: list[str] = []
    unchanged: list[tuple[str, str]] = []
    lines: list[str] = []
    for thread_id in thread_ids:
        try:
            with store.transaction() as uow:
                stored = uow.states.load(thread_id)
                if stored is None:  # deleted since the lookup
                    raise ControlError("no longer in the store")
                applied = step(uow, stored, actor.strip(), now)
                # The campaign's snapshots and report now show an old state: the next run
                # that can report materializations refreshes them.
                uow.view_refresh.request(stored.campaign_id, f"{action.value} by {actor.strip()}")
        except ControlError as exc:
            unchanged.append((thread_id, str(exc)))
            lines.append(f"{thread_id}: unchanged: {exc}")
            continue
        changed.append(thread_id)
        lines.append(f"{thread_id}: {applied}")
    result = ControlResult(action, target, tuple(changed), tuple(unchanged), tuple(lines))
    if not changed:
        raise NothingChangedError(
            f"{action.value} {target}: nothing changed; " + "; ".join(lines), result
        )
    return result


def control(
    store: NegotiationStore,
    action: ControlAction | str,
    target: str,
    *,
    actor: str,
    now: datetime,
) -> ControlResult:
    """Apply `action` to the negotiation(s) named by `target` (thread id or influencer email).

    Raises UnknownTargetError when nothing matches, NothingChangedError (with the per-thread
    reasons and the result) when no matching negotiation could take the action.
    """
    try:
        kind = ControlAction(action)
    except ValueError:
        choices = ", ".join(a.value for a in ControlAction)
        raise ControlError(f"unknown control action {action!r} (one of {choices})") from None
    return _run(store, kind, target, thread_ids_for(store, target), actor, now)


def pause(store: NegotiationStore, target: str, *, actor: str, now: datetime) -> ControlResult:
    return control(store, ControlAction.PAUSE, target, actor=actor, now=now)


def resume(store: NegotiationStore, target: str, *, actor: str, now: datetime) -> ControlResult:
    """Un-pause (restores the exact state it was paused in) and/or hand a taken-over thread
    back to the agent."""
    return control(store, ControlAction.RESUME, target, actor=actor, now=now)


def stop(store: NegotiationStore, target: str, *, actor: str, now: datetime) -> ControlResult:
    return control(store, ControlAction.STOP, target, actor=actor, now=now)


def takeover(store: NegotiationStore, target: str, *, actor: str, now: datetime) -> ControlResult:
    return control(store, ControlAction.TAKEOVER, target, actor=actor, now=now)


def stop_agency(
    store: NegotiationStore, agency_name: str, *, actor: str, now: datetime
) -> ControlResult:
    """Stop every active negotiation handled by this talent agency (name, case-insensitive)."""
    name = agency_name.strip()
    if not name:
        raise UnknownTargetError("no agency name given")
    found = store.states.load_by_agency(name)
    if not found:
        raise UnknownTargetError(f"no negotiation with agency {name!r}")
    thread_ids = [stored.thread_id for stored in found]
    return _run(store, ControlAction.STOP, f"agency {name}", thread_ids, actor, now)


__all__ = [
    "ControlAction",
    "ControlError",
    "ControlResult",
    "NothingChangedError",
    "UnknownTargetError",
    "control",
    "is_email_target",
    "pause",
    "resume",
    "stop",
    "stop_agency",
    "takeover",
    "thread_ids_for",
]
