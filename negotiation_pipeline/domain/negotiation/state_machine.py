"""Negotiation state machine.

Unlike the earlier product, a reply can be accepted, rejected, countered or escalated from every
state that waits for one (awaiting_reply, counter_sent, stale), so "yes" and "no" never crash.
"""

from __future__ import annotations

from collections.abc import Iterable

from negotiation_pipeline.domain.enums import TERMINAL_STATES, NegotiationEvent, NegotiationState

S = NegotiationState
E = NegotiationEvent

HistoryEntry = tuple[NegotiationState, str, NegotiationState]

# States in which we have spoken and wait for the other side.
WAITING_STATES: frozenset[NegotiationState] = frozenset({S.AWAITING_REPLY, S.COUNTER_SENT, S.STALE})

_REPLY_OUTCOMES: dict[NegotiationEvent, NegotiationState] = {
    E.RECEIVE_REPLY: S.COUNTER_RECEIVED,
    E.ACCEPT: S.AGREED,
    E.REJECT: S.REJECTED,
    E.ESCALATE: S.ESCALATED,
}


def _build_transitions() -> dict[tuple[NegotiationState, NegotiationEvent], NegotiationState]:
    table: dict[tuple[NegotiationState, NegotiationEvent], NegotiationState] = {
        (S.INITIAL_OFFER, E.SEND_OFFER): S.AWAITING_REPLY,
        (S.INITIAL_OFFER, E.ESCALATE): S.ESCALATED,
        (S.AWAITING_REPLY, E.TIMEOUT): S.STALE,
        (S.COUNTER_SENT, E.TIMEOUT): S.STALE,
        # A reply has arrived and we decide what to answer.
        (S.COUNTER_RECEIVED, E.SEND_COUNTER): S.COUNTER_SENT,
        (S.COUNTER_RECEIVED, E.ACCEPT): S.AGREED,
        (S.COUNTER_RECEIVED, E.REJECT): S.REJECTED,
        (S.COUNTER_RECEIVED, E.ESCALATE): S.ESCALATED,
        # A human resolves an escalation: send our counter, accept their ask, or walk away.
        (S.ESCALATED, E.RESUME_COUNTER): S.COUNTER_SENT,
        (S.ESCALATED, E.ACCEPT): S.AGREED,
        (S.ESCALATED, E.REJECT): S.REJECTED,
    }
    for waiting in WAITING_STATES:
        for event, target in _REPLY_OUTCOMES.items():
            table[(waiting, event)] = target
    for state in S:
        if state not in TERMINAL_STATES and state is not S.PAUSED:
            table[(state, E.PAUSE)] = S.PAUSED
        if state not in TERMINAL_STATES:
            table[(state, E.STOP)] = S.STOPPED
    return table


TRANSITIONS = _build_transitions()


class InvalidTransitionError(ValueError):
    def __init__(self, state: NegotiationState, event: NegotiationEvent | str) -> None:
        self.state = state
        self.event = str(event)
        super().__init__(f"Cannot apply event '{self.event}' in state '{state.value}'")


class NegotiationStateMachine:
    """Tracks one negotiation's state and its (from, event, to) history."""

    def __init__(self, initial_state: NegotiationState = S.INITIAL_OFFER) -> None:
        self._state = initial_state
        self._history: list[HistoryEntry] = []
        self._pre_pause_state: NegotiationState | None = None

    @classmethod
    def from_snapshot(
        cls,
        state: NegotiationState,
        history: Iterable[HistoryEntry],
        pre_pause_state: NegotiationState | None = None,
    ) -> NegotiationStateMachine:
        """Rebuild a machine from stored state without replaying events."""
        if state is S.PAUSED and pre_pause_state is None:
            raise ValueError("a paused negotiation needs the state it was paused in")
        machine = cls(initial_state=state)
        machine._history = [(S(f), str(e), S(t)) for f, e, t in history]
        machine._pre_pause_state = pre_pause_state if state is S.PAUSED else None
        return machine

    @property
    def state(self) -> NegotiationState:
        return self._state

    @property
    def pre_pause_state(self) -> NegotiationState | None:
        return self._pre_pause_state

    @property
    def history(self) -> list[HistoryEntry]:
        return list(self._history)

    @property
    def is_terminal(self) -> bool:
        return self._state in TERMINAL_STATES

    def can(self, event: NegotiationEvent) -> bool:
        if event is E.RESUME:
            return self._state is S.PAUSED
        return (self._state, event) in TRANSITIONS

    def valid_events(self) -> list[NegotiationEvent]:
        return sorted((e for e in E if self.can(e)), key=lambda e: e.value)

    def trigger(self, event: NegotiationEvent | str) -> NegotiationState:
        try:
            event = E(event)
        except ValueError:
            raise InvalidTransitionError(self._state, event) from None
        if event is E.RESUME:
            return self.resume()
        target = TRANSITIONS.get((self._state, event))
        if target is None:
            raise InvalidTransitionError(self._state, event)
        if event is E.PAUSE:
            self._pre_pause_state = self._state
        self._record(event, target)
        return target

    def pause(self) -> NegotiationState:
        return self.trigger(E.PAUSE)

    def resume(self) -> NegotiationState:
        if self._state is not S.PAUSED or self._pre_pause_state is None:
            raise InvalidTransitionError(self._state, E.RESUME)
        restored = self._pre_pause_state
        self._pre_pause_state = None
        self._record(E.RESUME, restored)
        return restored

    def stop(self) -> NegotiationState:
        target = self.trigger(E.STOP)
        self._pre_pause_state = None
        return target

    def _record(self, event: NegotiationEvent, target: NegotiationState) -> None:
        self._history.append((self._state, event.value, target))
        self._state = target
