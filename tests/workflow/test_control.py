"""Pause / resume / stop / take over / stop an agency, on a real SQLite file or PostgreSQL
schema."""

from __future__ import annotations

from datetime import timedelta

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationEvent, NegotiationState
from negotiation_pipeline.store import AuditQuery, Controller, NegotiationStore
from negotiation_pipeline.workflow.control import (
    ControlError,
    NothingChangedError,
    UnknownTargetError,
    control,
    pause,
    resume,
    stop,
    stop_agency,
    takeover,
)
from tests.store.conftest import StoreLocation
from tests.workflow.opened_threads import negotiation, open_threads, rewrite, second_campaign
from tests.workflow.support import NOW, flex_row

LATER = NOW + timedelta(hours=2)


@pytest.fixture
def jane(store: NegotiationStore) -> str:
    (thread_id,) = open_threads(store)
    return thread_id


def _audit(
    store: NegotiationStore, thread_id: str, event_type: EventType
) -> list[dict[str, object]]:
    entries = store.audit.query(AuditQuery(thread_id=thread_id, event_type=event_type, limit=100))
    return [dict(entry.metadata or {}) for entry in entries]


def test_pause_then_resume_from_a_fresh_store_restores_the_exact_state(
    store_location: StoreLocation, store: NegotiationStore, jane: str
) -> None:
    rewrite(
        store, jane, NegotiationEvent.RECEIVE_REPLY, NegotiationEvent.SEND_COUNTER
    )  # now counter_sent
    history_before = negotiation(store, jane).history

    result = pause(store, jane, actor="ops@agency.test", now=NOW)

    assert result.changed == (jane,) and result.unchanged == ()
    assert result.lines == (f"{jane}: counter_sent -> paused",)
    store.close()
    restarted = store_location.open(create=False)  # as after a restart: nothing in memory
    paused = restarted.states.load(jane)
    assert paused is not None
    assert (
        paused.state is NegotiationState.PAUSED
        and paused.pre_pause_state is NegotiationState.COUNTER_SENT
    )

    resume(restarted, jane, actor="ops@agency.test", now=LATER)

    after = negotiation(store_location.open(create=False), jane)
    assert after.state is NegotiationState.COUNTER_SENT
    assert after.pre_pause_state is None
    assert after.history == (
        *history_before,
        (NegotiationState.COUNTER_SENT, "pause", NegotiationState.PAUSED),
        (NegotiationState.PAUSED, "resume", NegotiationState.COUNTER_SENT),
    )
    transitions = _audit(restarted, jane, EventType.STATE_TRANSITION)
    assert transitions[0] == {
        "event": "resume",
        "from": "paused",
        "to": "counter_sent",
        "transitions": [["paused", "resume", "counter_sent"]],
        "actor": "ops@agency.test",
        "source": "control",
    }
    assert transitions[1]["event"] == "pause" and transitions[1]["from"] == "counter_sent"


def test_pause_and_stop_by_email_act_on_every_active_thread_and_say_which(
    store: NegotiationStore,
) -> None:
    (first,) = open_threads(store)
    (second,) = open_threads(store, campaign=second_campaign())
    (third,) = open_threads(
        store, [flex_row()], campaign=second_campaign(campaign_id="cmp-3", client_name="Nimbus")
    )
    rewrite(store, third, NegotiationEvent.STOP)  # already finished: left alone, and said so
    (other,) = open_threads(store, [flex_row("Sam Lee", "sam@gmail.com")])

    result = pause(store, "JANE@gmail.com", actor="ops", now=NOW)

    assert set(result.changed) == {first, second}
    assert result.unchanged == ((third, "cannot pause: the negotiation is stopped (final)"),)
    assert len(result.lines) == 3
    assert negotiation(store, first).state is NegotiationState.PAUSED
    assert negotiation(store, second).state is NegotiationState.PAUSED
    assert (
        negotiation(store, other).state is NegotiationState.AWAITING_REPLY
    )  # another influencer: untouched

    stopped = stop(store, "jane@gmail.com", actor="ops", now=NOW)
    assert set(stopped.changed) == {first, second}
    for thread_id in (first, second):
        after = negotiation(store, thread_id)
        assert after.state is NegotiationState.STOPPED and after.pre_pause_state is None
        assert after.history[-1] == (NegotiationState.PAUSED, "stop", NegotiationState.STOPPED)


def test_unknown_targets_are_clear_errors(store: NegotiationStore, jane: str) -> None:
    with pytest.raises(UnknownTargetError, match="no negotiation with thread id 'nope'"):
        pause(store, "nope", actor="ops", now=NOW)
    with pytest.raises(UnknownTargetError, match=r"influencer email 'who@x\.com'"):
        stop(store, "who@x.com", actor="ops", now=NOW)
    with pytest.raises(UnknownTargetError, match="no target"):
        takeover(store, "  ", actor="ops", now=NOW)
    with pytest.raises(UnknownTargetError, match="agency 'Nobody Talent'"):
        stop_agency(store, "Nobody Talent", actor="ops", now=NOW)
    with pytest.raises(ControlError, match="unknown control action 'restart'"):
        control(store, "restart", jane, actor="ops", now=NOW)
    with pytest.raises(ControlError, match="actor"):
        pause(store, jane, actor=" ", now=NOW)
    assert negotiation(store, jane).state is NegotiationState.AWAITING_REPLY


@pytest.mark.parametrize(
    ("setup", "act", "reason"),
    [
        ((), resume, "not paused and not taken over: nothing to resume (state awaiting_reply)"),
        ((NegotiationEvent.PAUSE,), pause, "already paused (in awaiting_reply)"),
        ((NegotiationEvent.STOP,), pause, "cannot pause: the negotiation is stopped (final)"),
        ((NegotiationEvent.STOP,), stop, "cannot stop: the negotiation is stopped (final)"),
        (
            (NegotiationEvent.ACCEPT,),
            takeover,
            "cannot takeover: the negotiation is agreed (final)",
        ),
    ],
)
def test_actions_that_do_not_apply_name_the_reason_and_change_nothing(
    store: NegotiationStore,
    jane: str,
    setup: tuple[NegotiationEvent, ...],
    act: object,
    reason: str,
) -> None:
    before = rewrite(store, jane, *setup)
    audit_count = len(store.audit.query(AuditQuery(thread_id=jane, limit=1000)))

    with pytest.raises(NothingChangedError) as raised:
        act(store, jane, actor="ops", now=LATER)  # type: ignore[operator]

    assert raised.value.result.unchanged == ((jane, reason),)
    assert reason in str(raised.value)
    assert negotiation(store, jane) == before
    assert len(store.audit.query(AuditQuery(thread_id=jane, limit=1000))) == audit_count


def test_an_escalated_thread_pauses_and_resumes_back_to_escalated(
    store: NegotiationStore, jane: str
) -> None:
    rewrite(store, jane, NegotiationEvent.RECEIVE_REPLY, NegotiationEvent.ESCALATE)
    pause(store, jane, actor="ops", now=NOW)
    resume(store, jane, actor="ops", now=LATER)
    assert negotiation(store, jane).state is NegotiationState.ESCALATED


def test_takeover_keeps_the_state_and_resume_hands_the_thread_back(
    store: NegotiationStore, jane: str
) -> None:
    result = takeover(store, jane, actor="maria@agency.test", now=NOW)

    expected = f"{jane}: taken over by maria@agency.test (state stays awaiting_reply)"
    assert result.lines == (expected,)
    stored = store.states.load(jane)
    assert stored is not None
    assert (
        stored.controlled_by is Controller.HUMAN and stored.state is NegotiationState.AWAITING_REPLY
    )
    assert _audit(store, jane, EventType.TAKEOVER) == [
        {"controlled_by": "human", "actor": "maria@agency.test", "source": "control"}
    ]
    with pytest.raises(NothingChangedError, match="already taken over"):
        takeover(store, jane, actor="maria@agency.test", now=NOW)

    back = resume(store, "jane@gmail.com", actor="maria@agency.test", now=LATER)

    assert back.lines == (f"{jane}: handed back to the agent",)
    stored = store.states.load(jane)
    assert stored is not None
    assert (
        stored.controlled_by is Controller.AGENT and stored.state is NegotiationState.AWAITING_REPLY
    )
    assert negotiation(store, jane).last_activity == LATER  # follow-up clock restarts
    assert _audit(store, jane, EventType.TAKEOVER)[0]["controlled_by"] == "agent"


def test_resume_of_a_paused_human_thread_restores_state_and_control(
    store: NegotiationStore, jane: str
) -> None:
    takeover(store, jane, actor="maria", now=NOW)
    pause(store, jane, actor="maria", now=NOW)

    result = resume(store, jane, actor="maria", now=LATER)

    assert result.lines == (f"{jane}: paused -> awaiting_reply, handed back to the agent",)
    stored = store.states.load(jane)
    assert stored is not None
    assert (
        stored.state is NegotiationState.AWAITING_REPLY and stored.controlled_by is Controller.AGENT
    )


def test_stop_agency_stops_only_that_agencys_active_threads(store: NegotiationStore) -> None:
    rows = [
        flex_row("Ana Ruiz", "ana@gmail.com"),
        flex_row("Ben Cho", "ben@gmail.com"),
        flex_row("Cara Dunn", "cara@gmail.com"),
    ]
    ana, ben, cara = open_threads(store, rows)
    rewrite(store, ana, agency_name="Bright Talent")
    rewrite(store, ben, NegotiationEvent.PAUSE, agency_name="Bright Talent")
    rewrite(store, cara, agency_name="Other Media")

    result = stop_agency(store, "bright talent", actor="ops", now=NOW)

    assert set(result.changed) == {ana, ben}
    assert result.target == "agency bright talent"
    assert negotiation(store, ana).state is NegotiationState.STOPPED
    assert negotiation(store, ben).state is NegotiationState.STOPPED
    assert negotiation(store, cara).state is NegotiationState.AWAITING_REPLY
    with pytest.raises(NothingChangedError, match="stopped \\(final\\)"):
        stop_agency(store, "Bright Talent", actor="ops", now=NOW)


def test_control_from_two_store_instances_sees_the_others_change(
    store_location: StoreLocation, store: NegotiationStore, jane: str
) -> None:
    other = store_location.open()  # another process's view of the same store
    pause(store, jane, actor="ops", now=NOW)
    with pytest.raises(NothingChangedError, match="already paused"):
        pause(other, jane, actor="ops", now=NOW)
    resume(other, jane, actor="ops", now=LATER)
    assert negotiation(store, jane).state is NegotiationState.AWAITING_REPLY
