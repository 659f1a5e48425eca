from __future__ import annotations

from decimal import Decimal

import pytest

from negotiation_pipeline.domain.enums import (
    Intent,
    NegotiationEvent,
    NegotiationState,
    OptimizeFor,
)
from negotiation_pipeline.domain.negotiation.state_machine import NegotiationStateMachine
from negotiation_pipeline.store import (
    Controller,
    NegotiationStore,
    NegotiationSummary,
    SQLiteStore,
    StoredNegotiation,
)
from tests.store.conftest import StoreLocation, make_campaign

TRACKER = {
    "campaign_id": "camp-1",
    "target_min_cpm": Decimal("20.00"),
    "target_max_cpm": Decimal("30"),
    "total_influencers": 4,
    "agreements": [{"cpm": Decimal("21.50"), "engagement_rate": "4.1"}],
}


def machine_in(*events: NegotiationEvent) -> NegotiationStateMachine:
    machine = NegotiationStateMachine()
    for event in events:
        machine.trigger(event)
    return machine


def save(
    store: NegotiationStore,
    thread_id: str,
    machine: NegotiationStateMachine,
    **kwargs: object,
) -> None:
    store.states.save(
        thread_id,
        machine,
        {"next_cpm": Decimal("25.50")},
        make_campaign(),
        TRACKER,
        1,
        **kwargs,  # type: ignore[arg-type]
    )


def test_save_and_load_round_trip_keeps_types_and_digits(store: NegotiationStore) -> None:
    machine = machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.RECEIVE_REPLY)
    context = {
        "next_cpm": Decimal("1234.5600"),
        "sum": Decimal("0.1") + Decimal("0.2"),
        "intent": Intent.COUNTER,
        "goal": OptimizeFor.CPM,
        "campaign": make_campaign("camp-x"),
        "names": ["a", "b"],
    }
    store.states.save(
        "<t1@x>",
        machine,
        context,
        make_campaign(),
        TRACKER,
        2,
        influencer_name="Jane",
        influencer_email="Jane@Example.com",
        lever_state={"scenario": 2, "product_offered": True, "last_offer": Decimal("900.10")},
        agency_name="Big Talent",
    )
    got = store.states.load("<t1@x>")
    assert got is not None
    assert got.state is NegotiationState.COUNTER_RECEIVED
    assert got.state_machine.history == machine.history
    assert got.round_count == 2
    assert got.context["next_cpm"] == Decimal("1234.5600")
    assert str(got.context["next_cpm"]) == "1234.5600"
    assert got.context["sum"] == Decimal("0.3") and isinstance(got.context["sum"], Decimal)
    assert got.context["intent"] == "counter" and got.context["goal"] == "cpm"
    assert got.context["campaign"]["budget"] == Decimal("1234.5600")
    assert got.campaign == make_campaign()
    assert got.campaign.budget == Decimal("1234.5600") and str(got.campaign.budget) == "1234.5600"
    assert got.cpm_tracker_data["target_min_cpm"] == "20.00"
    assert got.cpm_tracker_data["agreements"][0]["cpm"] == "21.50"
    assert got.lever_state == {
        "scenario": 2,
        "product_offered": True,
        "last_offer": Decimal("900.10"),
    }
    assert got.controlled_by is Controller.AGENT
    assert (got.campaign_id, got.influencer_name) == ("camp-1", "Jane")
    assert got.agency_name == "Big Talent"


def test_save_again_keeps_created_at_and_unspecified_fields(store: NegotiationStore) -> None:
    save(
        store,
        "t1",
        machine_in(NegotiationEvent.SEND_OFFER),
        influencer_email="a@x.com",
        lever_state={"s": 1},
    )
    first = store.states.load("t1")
    save(store, "t1", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.RECEIVE_REPLY))
    second = store.states.load("t1")
    assert first is not None and second is not None
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert second.state is NegotiationState.COUNTER_RECEIVED
    assert second.influencer_email == "a@x.com" and second.lever_state == {"s": 1}


def test_load_active_excludes_terminal_states(store: NegotiationStore) -> None:
    save(store, "waiting", machine_in(NegotiationEvent.SEND_OFFER))
    save(store, "agreed", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.ACCEPT))
    save(store, "rejected", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.REJECT))
    save(store, "stopped", machine_in(NegotiationEvent.STOP))
    save(store, "escalated", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.ESCALATE))
    assert sorted(n.thread_id for n in store.states.load_active()) == ["escalated", "waiting"]
    assert store.states.load_active(campaign_id="other") == []
    assert len(store.states.list_for_campaign("camp-1")) == 5


def test_paused_negotiation_resumes_after_reopen(store_location: StoreLocation) -> None:
    store = store_location.open()
    machine = machine_in(
        NegotiationEvent.SEND_OFFER, NegotiationEvent.RECEIVE_REPLY, NegotiationEvent.SEND_COUNTER
    )
    machine.pause()
    save(store, "t-paused", machine)
    store.close()

    reopened = store_location.open()
    (listed,) = reopened.states.load_active()
    assert listed.state is NegotiationState.PAUSED
    assert listed.pre_pause_state is NegotiationState.COUNTER_SENT
    loaded = reopened.states.load(listed.thread_id)
    assert loaded is not None and loaded.pre_pause_state is NegotiationState.COUNTER_SENT
    assert loaded.state_machine.resume() is NegotiationState.COUNTER_SENT


def test_lookup_by_email_and_agency_is_case_insensitive(store: NegotiationStore) -> None:
    save(store, "t1", machine_in(), influencer_email="Jane@Example.com", agency_name="Big Talent")
    save(store, "t2", machine_in(), influencer_email="other@example.com")
    assert [n.thread_id for n in store.states.load_by_email(" jane@example.COM ")] == ["t1"]
    assert [n.thread_id for n in store.states.load_by_agency("big talent")] == ["t1"]
    assert store.states.load_by_email("nobody@example.com") == []


def test_takeover_survives_a_later_agent_save(store: NegotiationStore) -> None:
    save(store, "t1", machine_in(NegotiationEvent.SEND_OFFER))
    assert store.states.set_controlled_by("t1", Controller.HUMAN)
    save(
        store, "t1", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.RECEIVE_REPLY)
    )  # controlled_by not given
    loaded = store.states.load("t1")
    assert loaded is not None and loaded.controlled_by is Controller.HUMAN
    assert not store.states.set_controlled_by("missing", "human")
    with pytest.raises(ValueError):
        store.states.set_controlled_by("t1", "robot")


def test_delete(store: NegotiationStore) -> None:
    save(store, "t1", machine_in())
    assert store.states.delete("t1") is True
    assert store.states.load("t1") is None
    assert store.states.delete("t1") is False


# --- the list queries: summaries, read from the live-rows index -------------------------------
def _summary_of(stored: StoredNegotiation) -> NegotiationSummary:
    return NegotiationSummary(
        thread_id=stored.thread_id,
        campaign_id=stored.campaign_id,
        state=stored.state,
        pre_pause_state=stored.pre_pause_state,
        controlled_by=stored.controlled_by,
        round_count=stored.round_count,
    )


def test_summaries_equal_constructed_records(store: NegotiationStore) -> None:
    """Every list query's summary equals one built the normal way from the full record."""
    paused = machine_in(
        NegotiationEvent.SEND_OFFER, NegotiationEvent.RECEIVE_REPLY, NegotiationEvent.SEND_COUNTER
    )
    paused.pause()
    save(store, "t-paused", paused, influencer_name="Ana", influencer_email="ana@x.com")
    save(store, "t-agency", machine_in(NegotiationEvent.SEND_OFFER), agency_name="Big Talent",
         influencer_email="ANA@x.com", controlled_by=Controller.HUMAN)  # fmt: skip
    save(
        store,
        "t-done",
        machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.ACCEPT),
        influencer_email="ana@x.com",
    )
    full = {}
    for thread_id in ("t-paused", "t-agency", "t-done"):
        loaded = store.states.load(thread_id)
        assert loaded is not None
        full[thread_id] = _summary_of(loaded)
    assert store.states.load_active() == [full["t-paused"], full["t-agency"]]
    assert store.states.load_active(campaign_id="camp-1") == [full["t-paused"], full["t-agency"]]
    assert store.states.summaries_for_campaign("camp-1") == list(full.values())
    # Newest activity first: t-done was saved last.
    by_email = store.states.load_by_email("Ana@X.com")
    assert by_email == [full["t-done"], full["t-agency"], full["t-paused"]]
    assert store.states.load_by_agency("BIG TALENT") == [full["t-agency"]]
    (listed,) = [s for s in store.states.load_active() if s.thread_id == "t-paused"]
    assert (
        listed.state is NegotiationState.PAUSED
        and listed.pre_pause_state is NegotiationState.COUNTER_SENT
    )
    assert listed.controlled_by is Controller.AGENT and listed.campaign_id == "camp-1"
    assert hash(listed) == hash(full["t-paused"]) and "t-paused" in repr(listed)


def test_load_active_follows_state_changes(store: NegotiationStore) -> None:
    """A negotiation enters and leaves the live list (and its index) as its state changes."""
    save(store, "t1", machine_in(NegotiationEvent.SEND_OFFER))
    assert [s.thread_id for s in store.states.load_active()] == ["t1"]
    save(store, "t1", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.ACCEPT))
    assert store.states.load_active() == []
    assert store.states.set_controlled_by("t1", Controller.HUMAN)
    save(store, "t1", machine_in(NegotiationEvent.SEND_OFFER, NegotiationEvent.ESCALATE))
    (back,) = store.states.load_active()
    assert back.state is NegotiationState.ESCALATED and back.controlled_by is Controller.HUMAN
    assert store.states.delete("t1") and store.states.load_active() == []


def test_list_for_campaign_keeps_each_rows_own_campaign(store: NegotiationStore) -> None:
    """Rows decoded in one list share a Campaign only when their stored JSON is the same."""
    first, second = make_campaign(budget="1000.00"), make_campaign(budget="2000.50")
    for thread_id, campaign in (("t1", first), ("t2", second), ("t3", first)):
        store.states.save(thread_id, machine_in(), {}, campaign, TRACKER, 0)
    found = {s.thread_id: s.campaign for s in store.states.list_for_campaign("camp-1")}
    assert found == {"t1": first, "t2": second, "t3": first}
    assert str(found["t2"].budget) == "2000.50"


def test_load_active_reads_only_the_live_index(sqlite_store: SQLiteStore) -> None:
    """The query is answered from the covering partial index: no table rows, no sort, however
    many finished negotiations the table holds."""
    save(sqlite_store, "t1", machine_in(NegotiationEvent.SEND_OFFER))
    conn = sqlite_store._thread_connection(open_new=True)
    assert conn is not None
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        sqlite_store.states.load_active()
    finally:
        conn.set_trace_callback(None)
    (query,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    plan = " / ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert plan == "SCAN negotiation_state USING COVERING INDEX idx_neg_state_live", plan
