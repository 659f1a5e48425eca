"""Negotiation state machine.

A reply can be accepted, rejected, countered or escalated from every
state that waits for one (awaiting_reply, counter_sent, stale), so "yes" and "no" never crash.
"""

from __future__ import annotations

from collections.abc import Iterable

from negotiation_pipeline.domain.enums import TERMINAL_STATES, NegotiationEvent, NegotiationState

HistoryEntry = tuple[NegotiationState, str, NegotiationState]

# States in which we have spoken and wait for the other side.
WAITING_STATES: frozenset[NegotiationState] = frozenset(
    {NegotiationState.AWAITING_REPLY, NegotiationState.COUNTER_SENT, NegotiationState.STALE}
)

_REPLY_OUTCOMES: dict[NegotiationEvent, NegotiationState] = {
    NegotiationEvent.RECEIVE_REPLY: NegotiationState.COUNTER_RECEIVED,
    NegotiationEvent.ACCEPT: NegotiationState.AGREED,
    NegotiationEvent.REJECT: NegotiationState.REJECTED,
    NegotiationEvent.ESCALATE: NegotiationState.ESCALATED,
}


def _build_transitions() -> dict[tuple[NegotiationState, NegotiationEvent], NegotiationState]:
    table: dict[tuple[NegotiationState, NegotiationEvent], NegotiationState] = {
        (
            NegotiationState.INITIAL_OFFER,
            NegotiationEvent.SEND_OFFER,
        ): NegotiationState.AWAITING_REPLY,
        (NegotiationState.INITIAL_OFFER, NegotiationEvent.ESCALATE): NegotiationState.ESCALATED,
        (NegotiationState.AWAITING_REPLY, NegotiationEvent.TIMEOUT): NegotiationState.STALE,
        (NegotiationState.COUNTER_SENT, NegotiationEvent.TIMEOUT): NegotiationState.STALE,
        # A reply has arrived and we decide what to answer.
        (
            NegotiationState.COUNTER_RECEIVED,
            NegotiationEvent.SEND_COUNTER,
        ): NegotiationState.COUNTER_SENT,
        (NegotiationState.COUNTER_RECEIVED, NegotiationEvent.ACCEPT): NegotiationState.AGREED,
        (NegotiationState.COUNTER_RECEIVED, NegotiationEvent.REJECT): NegotiationState.REJECTED,
        (NegotiationState.COUNTER_RECEIVED, NegotiationEvent.ESCALATE): NegotiationState.ESCALATED,
        # A human resolves an escalation: send our counter, accept their ask, or walk away.
        (
            NegotiationState.ESCALATED,
            NegotiationEvent.RESUME_COUNTER,
        ): NegotiationState.COUNTER_SENT,
        (NegotiationState.ESCALATED, NegotiationEvent.ACCEPT): NegotiationState.AGREED,
        (NegotiationState.ESCALATED, NegotiationEvent.REJECT): NegotiationState.REJECTED,
    }
    for waiting in WAITING_STATES:
        for event, target in _REPLY_OUTCOMES.items():
            table[(waiting, event)] = target
    for state in NegotiationState:
        if state not in TERMINAL_STATES and state is not NegotiationState.PAUSED:
            table[(state, NegotiationEvent.PAUSE)] = NegotiationState.PAUSED
        if state not in TERMINAL_STATES:
            table[(state, NegotiationEvent.STOP)] = NegotiationState.STOPPED
    return table


TRANSITIONS = _build_transitions()


class InvalidTransitionError(ValueError):
    def __init__(self, state: NegotiationState, event: NegotiationEvent | str) -> None:
        self.state = state
        self.event = str(event)
        super().__init__(f"Cannot apply event '{self.event}' in state '{state.value}'")


class NegotiationStateMachine:
    """Tracks one negotiation's state and its (from, event, to) history."""

    def __init__(self, initial_state: NegotiationState = NegotiationState.INITIAL_OFFER) -> None:
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
        if state is NegotiationState.PAUSED and pre_pause_state is None:
            raise ValueError("a paused negotiation needs the state it was paused in")
        machine = cls(initial_state=state)
        machine._history = [
            (NegotiationState(f), str(e), NegotiationState(t)) for f, e, t in history
        ]
        machine._pre_pause_state = pre_pause_state if state is NegotiationState.PAUSED else None
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
        if event is NegotiationEvent.RESUME:
            return self._state is NegotiationState.PAUSED
        return (self._state, event) in TRANSITIONS

    def valid_events(self) -> list[NegotiationEvent]:
        return sorted((e for e in NegotiationEvent if self.can(e)), key=lambda e: e.value)

    def trigger(self, event: NegotiationEvent | str) -> NegotiationState:
        if not isinstance(event, NegotiationEvent):
            try:
                event = NegotiationEvent(event)
            except ValueError:
                raise InvalidTransitionError(self._state, event) from None
        if event is NegotiationEvent.RESUME:
            return self.resume()
        target = TRANSITIONS.get((self._state, event))
        if target is None:
            raise InvalidTransitionError(self._state, event)
        if event is NegotiationEvent.PAUSE:
            self._pre_pause_state = self._state
        self._record(event, target)
        return target

    def pause(self) -> NegotiationState:
        return self.trigger(NegotiationEvent.PAUSE)

    def resume(self) -> NegotiationState:
        if self._state is not NegotiationState.PAUSED or self._pre_pause_state is None:
            raise InvalidTransitionError(self._state, NegotiationEvent.RESUME)
        restored = self._pre_pause_state
        self._pre_pause_state = None
        self._record(NegotiationEvent.RESUME, restored)
        return restored

    def stop(self) -> NegotiationState:
        target = self.trigger(NegotiationEvent.STOP)
        self._pre_pause_state = None
        return target

    def _record(self, event: NegotiationEvent, target: NegotiationState) -> None:
        self._history.append((self._state, event.value, target))
        self._state = target
