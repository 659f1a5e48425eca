"""Exhaustive state machine tests: every (state × event) pair, pause/resume, snapshots."""

from __future__ import annotations

import itertools

import pytest

from negotiation_pipeline.domain.enums import TERMINAL_STATES, NegotiationEvent, NegotiationState
from negotiation_pipeline.domain.negotiation.state_machine import (
    TRANSITIONS,
    WAITING_STATES,
    InvalidTransitionError,
    NegotiationStateMachine,
)

# The table the spec asks for, written out independently of the implementation's builder.
EXPECTED: dict[tuple[NegotiationState, NegotiationEvent], NegotiationState] = {
    (NegotiationState.INITIAL_OFFER, NegotiationEvent.SEND_OFFER): NegotiationState.AWAITING_REPLY,
    (NegotiationState.INITIAL_OFFER, NegotiationEvent.ESCALATE): NegotiationState.ESCALATED,
    (
        NegotiationState.COUNTER_RECEIVED,
        NegotiationEvent.SEND_COUNTER,
    ): NegotiationState.COUNTER_SENT,
    (NegotiationState.COUNTER_RECEIVED, NegotiationEvent.ACCEPT): NegotiationState.AGREED,
    (NegotiationState.COUNTER_RECEIVED, NegotiationEvent.REJECT): NegotiationState.REJECTED,
    (NegotiationState.COUNTER_RECEIVED, NegotiationEvent.ESCALATE): NegotiationState.ESCALATED,
    (NegotiationState.ESCALATED, NegotiationEvent.RESUME_COUNTER): NegotiationState.COUNTER_SENT,
    (NegotiationState.ESCALATED, NegotiationEvent.ACCEPT): NegotiationState.AGREED,
    (NegotiationState.ESCALATED, NegotiationEvent.REJECT): NegotiationState.REJECTED,
    (NegotiationState.AWAITING_REPLY, NegotiationEvent.TIMEOUT): NegotiationState.STALE,
    (NegotiationState.COUNTER_SENT, NegotiationEvent.TIMEOUT): NegotiationState.STALE,
}
for _waiting in (
    NegotiationState.AWAITING_REPLY,
    NegotiationState.COUNTER_SENT,
    NegotiationState.STALE,
):
    EXPECTED[(_waiting, NegotiationEvent.RECEIVE_REPLY)] = NegotiationState.COUNTER_RECEIVED
    EXPECTED[(_waiting, NegotiationEvent.ACCEPT)] = NegotiationState.AGREED
    EXPECTED[(_waiting, NegotiationEvent.REJECT)] = NegotiationState.REJECTED
    EXPECTED[(_waiting, NegotiationEvent.ESCALATE)] = NegotiationState.ESCALATED
for _state in NegotiationState:
    if _state not in TERMINAL_STATES:
        EXPECTED[(_state, NegotiationEvent.STOP)] = NegotiationState.STOPPED
        if _state is not NegotiationState.PAUSED:
            EXPECTED[(_state, NegotiationEvent.PAUSE)] = NegotiationState.PAUSED

ALL_PAIRS = list(itertools.product(list(NegotiationState), list(NegotiationEvent)))
PAUSABLE = [
    s for s in NegotiationState if s not in TERMINAL_STATES and s is not NegotiationState.PAUSED
]


def _machine_in(state: NegotiationState) -> NegotiationStateMachine:
    if state is NegotiationState.PAUSED:
        return NegotiationStateMachine.from_snapshot(
            state, [], pre_pause_state=NegotiationState.AWAITING_REPLY
        )
    return NegotiationStateMachine(initial_state=state)


def test_table_matches_spec_exactly() -> None:
    assert TRANSITIONS == EXPECTED


def test_waiting_states_are_the_three_that_wait_for_a_reply() -> None:
    assert (
        frozenset(
            {NegotiationState.AWAITING_REPLY, NegotiationState.COUNTER_SENT, NegotiationState.STALE}
        )
        == WAITING_STATES
    )


@pytest.mark.parametrize(("state", "event"), ALL_PAIRS, ids=lambda v: str(v))
def test_every_state_event_pair(state: NegotiationState, event: NegotiationEvent) -> None:
    machine = _machine_in(state)
    if event is NegotiationEvent.RESUME:
        expected: NegotiationState | None = (
            NegotiationState.AWAITING_REPLY if state is NegotiationState.PAUSED else None
        )
    else:
        expected = EXPECTED.get((state, event))
    if expected is None:
        with pytest.raises(InvalidTransitionError) as caught:
            machine.trigger(event)
        message = str(caught.value)
        assert f"'{event.value}'" in message and f"'{state.value}'" in message
        assert caught.value.state is state and caught.value.event == event.value
        assert machine.state is state and machine.history == []
        assert not machine.can(event)
    else:
        assert machine.can(event)
        assert machine.trigger(event) is expected
        assert machine.state is expected
        assert machine.history == [(state, event.value, expected)]


@pytest.mark.parametrize("waiting", sorted(WAITING_STATES))
@pytest.mark.parametrize(
    ("event", "target"),
    [
        (NegotiationEvent.ACCEPT, NegotiationState.AGREED),
        (NegotiationEvent.REJECT, NegotiationState.REJECTED),
        (NegotiationEvent.RECEIVE_REPLY, NegotiationState.COUNTER_RECEIVED),
        (NegotiationEvent.ESCALATE, NegotiationState.ESCALATED),
    ],
)
def test_reply_outcomes_valid_from_every_waiting_state(
    waiting: NegotiationState, event: NegotiationEvent, target: NegotiationState
) -> None:
    # "yes"/"no" while awaiting a reply are ordinary transitions, never an error.
    machine = NegotiationStateMachine(initial_state=waiting)
    assert machine.trigger(event.value) is target


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATES))
def test_terminal_states_reject_everything(terminal: NegotiationState) -> None:
    machine = NegotiationStateMachine(initial_state=terminal)
    assert machine.is_terminal and machine.valid_events() == []
    for event in NegotiationEvent:
        with pytest.raises(InvalidTransitionError):
            machine.trigger(event)
    with pytest.raises(InvalidTransitionError):
        machine.pause()
    with pytest.raises(InvalidTransitionError):
        machine.resume()
    with pytest.raises(InvalidTransitionError):
        machine.stop()
    assert machine.state is terminal and machine.history == []


def test_unknown_event_name_raises_naming_it() -> None:
    machine = NegotiationStateMachine()
    with pytest.raises(InvalidTransitionError, match="'dance' in state 'initial_offer'"):
        machine.trigger("dance")


@pytest.mark.parametrize("state", PAUSABLE)
def test_pause_then_resume_restores_exact_prior_state(state: NegotiationState) -> None:
    machine = NegotiationStateMachine(initial_state=state)
    assert machine.pause() is NegotiationState.PAUSED
    assert machine.pre_pause_state is state
    assert machine.valid_events() == sorted(
        [NegotiationEvent.RESUME, NegotiationEvent.STOP], key=lambda e: e.value
    )
    assert machine.resume() is state
    assert machine.state is state and machine.pre_pause_state is None
    assert machine.history == [
        (state, "pause", NegotiationState.PAUSED),
        (NegotiationState.PAUSED, "resume", state),
    ]


def test_pause_twice_is_refused() -> None:
    machine = NegotiationStateMachine(initial_state=NegotiationState.COUNTER_SENT)
    machine.pause()
    with pytest.raises(InvalidTransitionError, match="'pause' in state 'paused'"):
        machine.pause()
    assert machine.pre_pause_state is NegotiationState.COUNTER_SENT


def test_resume_when_not_paused_is_refused() -> None:
    with pytest.raises(InvalidTransitionError, match="'resume' in state 'awaiting_reply'"):
        NegotiationStateMachine(initial_state=NegotiationState.AWAITING_REPLY).resume()


def test_stop_while_paused_forgets_the_paused_state() -> None:
    machine = NegotiationStateMachine(initial_state=NegotiationState.ESCALATED)
    machine.pause()
    assert machine.stop() is NegotiationState.STOPPED
    assert machine.pre_pause_state is None and machine.is_terminal


def test_full_conversation_history_in_order() -> None:
    machine = NegotiationStateMachine()
    for event in ("send_offer", "receive_reply", "send_counter", "timeout", "accept"):
        machine.trigger(event)
    assert machine.state is NegotiationState.AGREED
    assert [entry[1] for entry in machine.history] == [
        "send_offer",
        "receive_reply",
        "send_counter",
        "timeout",
        "accept",
    ]
    assert machine.history[2] == (
        NegotiationState.COUNTER_RECEIVED,
        "send_counter",
        NegotiationState.COUNTER_SENT,
    )


def test_from_snapshot_does_not_replay_and_keeps_history() -> None:
    history = [
        (NegotiationState.INITIAL_OFFER, "send_offer", NegotiationState.AWAITING_REPLY),
        (NegotiationState.AWAITING_REPLY, "receive_reply", NegotiationState.COUNTER_RECEIVED),
        (NegotiationState.COUNTER_RECEIVED, "send_counter", NegotiationState.COUNTER_SENT),
    ]
    machine = NegotiationStateMachine.from_snapshot(NegotiationState.COUNTER_SENT, history)
    assert machine.state is NegotiationState.COUNTER_SENT and machine.history == history
    assert machine.trigger(NegotiationEvent.ACCEPT) is NegotiationState.AGREED
    assert len(machine.history) == 4


def test_from_snapshot_accepts_stored_strings() -> None:
    # SQLite gives back plain strings; the machine turns them into enums.
    machine = NegotiationStateMachine.from_snapshot(
        NegotiationState.STALE,
        [("awaiting_reply", "timeout", "stale")],  # type: ignore[list-item]
    )
    assert machine.history == [(NegotiationState.AWAITING_REPLY, "timeout", NegotiationState.STALE)]
    assert isinstance(machine.history[0][0], NegotiationState)


def test_from_snapshot_paused_resumes_to_pre_pause_state_after_restart() -> None:
    before = NegotiationStateMachine(initial_state=NegotiationState.COUNTER_SENT)
    before.pause()
    restored = NegotiationStateMachine.from_snapshot(
        before.state, before.history, pre_pause_state=before.pre_pause_state
    )
    assert (
        restored.state is NegotiationState.PAUSED
        and restored.pre_pause_state is NegotiationState.COUNTER_SENT
    )
    assert restored.resume() is NegotiationState.COUNTER_SENT
    assert restored.history[-1] == (
        NegotiationState.PAUSED,
        "resume",
        NegotiationState.COUNTER_SENT,
    )


def test_from_snapshot_paused_without_pre_pause_state_is_refused() -> None:
    with pytest.raises(ValueError, match="paused"):
        NegotiationStateMachine.from_snapshot(NegotiationState.PAUSED, [])


def test_from_snapshot_ignores_pre_pause_state_when_not_paused() -> None:
    machine = NegotiationStateMachine.from_snapshot(
        NegotiationState.AWAITING_REPLY, [], NegotiationState.COUNTER_SENT
    )
    assert machine.pre_pause_state is None
    with pytest.raises(InvalidTransitionError):
        machine.resume()


def test_history_is_a_copy() -> None:
    source = [(NegotiationState.INITIAL_OFFER, "send_offer", NegotiationState.AWAITING_REPLY)]
    machine = NegotiationStateMachine.from_snapshot(NegotiationState.AWAITING_REPLY, source)
    source.append(
        (NegotiationState.AWAITING_REPLY, "timeout", NegotiationState.STALE)
    )  # the caller's list changes…
    assert len(machine.history) == 1  # …the machine's does not
    exported = machine.history
    exported.clear()
    assert len(machine.history) == 1
    assert machine.history is not machine.history


@pytest.mark.parametrize("state", [s for s in NegotiationState if s is not NegotiationState.PAUSED])
def test_valid_events_agree_with_trigger(state: NegotiationState) -> None:
    for event in _machine_in(state).valid_events():
        assert _machine_in(state).trigger(event) is not None
