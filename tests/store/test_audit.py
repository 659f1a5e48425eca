from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import (
    AuditFilterError,
    AuditQuery,
    NegotiationStore,
    build_audit_query,
)
from negotiation_pipeline.store.codec import format_timestamp


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def entry(
    when: str,
    influencer: str | None = "Jane Doe",
    campaign: str | None = "camp-1",
    event: EventType = EventType.EMAIL_SENT,
    **extra: object,
) -> AuditEntry:
    return AuditEntry(
        event_type=event,
        influencer_name=influencer,
        campaign_id=campaign,
        timestamp=at(when),
        **extra,
    )


@pytest.fixture
def filled(store: NegotiationStore) -> NegotiationStore:
    store.audit.insert_many(
        [
            entry("2026-03-01T10:00:00", "Jane Doe", "camp-1", EventType.EMAIL_SENT),
            entry("2026-03-02T00:00:00", "jane doe", "camp-2", EventType.EMAIL_RECEIVED),
            entry("2026-03-02T23:59:59.900000", "JANE DOE", "camp-1", EventType.AGREEMENT),
            entry("2026-03-03T00:00:00", "Bob Ray", "camp-1", EventType.ESCALATION),
            entry("2026-03-04T12:00:00", "Zoë Ådal", "camp-2", EventType.ERROR),
        ]
    )
    return store


def stamps(entries: list[AuditEntry]) -> list[str]:
    return [format_timestamp(e.timestamp) for e in entries if e.timestamp is not None]


def test_insert_returns_id_and_sets_utc_microsecond_timestamp(store: NegotiationStore) -> None:
    before = datetime.now(UTC)
    new_id = store.audit.insert(AuditEntry(event_type=EventType.TAKEOVER, thread_id="t1"))
    (got,) = store.audit.query(AuditQuery())
    assert got.id == new_id
    assert got.timestamp is not None and got.timestamp.tzinfo is UTC
    assert before - timedelta(seconds=1) <= got.timestamp <= datetime.now(UTC)
    assert len(format_timestamp(got.timestamp)) == len("2026-01-01T00:00:00.000000Z")


def test_all_fields_and_metadata_round_trip(store: NegotiationStore) -> None:
    metadata = {"reason": "above ceiling", "round": 3, "nested": {"ok": True}, "list": [1, "a"]}
    store.audit.insert(
        AuditEntry(
            event_type=EventType.STATE_TRANSITION,
            campaign_id="camp-9",
            influencer_name="Ana",
            thread_id="<t@x>",
            direction="received",
            email_body="Hi,\nI can do $1,900.",
            negotiation_state=NegotiationState.COUNTER_RECEIVED,
            rates_used=Decimal("1900.00"),
            intent_classification="counter",
            metadata=metadata,
        )
    )
    (got,) = store.audit.query(AuditQuery())
    assert got.metadata == metadata
    assert got.rates_used == "1900.00"
    assert got.negotiation_state == "counter_received"
    assert got.email_body == "Hi,\nI can do $1,900."
    assert (got.thread_id, got.direction, got.intent_classification) == (
        "<t@x>",
        "received",
        "counter",
    )


def test_metadata_keys_come_back_in_the_order_they_were_written(store: NegotiationStore) -> None:
    # The decision facts read top-down (round, curve, package, ...): both engines keep the
    # order, so the CLI and the UI show the same details whichever store holds them.
    metadata = {"round": "2 of 5", "curve": "exponent 0.6", "package": "1 Reel", "a": 1, "zz": 2}
    store.audit.insert(AuditEntry(event_type=EventType.STATE_TRANSITION, metadata=metadata))
    (got,) = store.audit.query(AuditQuery())
    assert got.metadata is not None
    assert list(got.metadata) == ["round", "curve", "package", "a", "zz"]


def test_query_results_equal_validated_entries(store: NegotiationStore) -> None:
    """The store builds results without re-validation; they must match validated models."""
    original = AuditEntry(
        event_type=EventType.ESCALATION,
        influencer_name="Ana",
        rates_used="10.00",
        metadata={"reason": "legal"},
        timestamp=at("2026-01-01T00:00:00.5"),
    )
    new_id = store.audit.insert(original)
    (got,) = store.audit.query(AuditQuery())
    expected = original.model_copy(update={"id": new_id})
    assert got == expected
    assert got.model_dump() == expected.model_dump()
    assert got.model_dump_json() == expected.model_dump_json()
    assert got.model_fields_set >= {"event_type", "id", "timestamp"}
    assert got.model_copy(update={"id": 5}).id == 5
    with pytest.raises(ValueError):
        got.id = 9  # type: ignore[misc]  # frozen like any AuditEntry


def test_float_rates_and_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="float"):
        AuditEntry(event_type=EventType.AGREEMENT, rates_used=1500.0)
    with pytest.raises(ValueError, match="timezone"):
        AuditEntry(event_type=EventType.AGREEMENT, timestamp=datetime(2026, 1, 1))


def test_newest_first_with_default_limit(store: NegotiationStore) -> None:
    base = at("2026-01-01T00:00:00")
    store.audit.insert_many(
        entry(format_timestamp(base + timedelta(minutes=i))[:-1]) for i in range(60)
    )
    got = store.audit.query(AuditQuery())
    assert len(got) == 50
    assert stamps(got) == sorted(stamps(got), reverse=True)
    assert got[0].timestamp == base + timedelta(minutes=59)


def test_equal_timestamps_break_ties_by_insertion_order(store: NegotiationStore) -> None:
    store.audit.insert_many([entry("2026-01-01T00:00:00", thread_id=f"t{i}") for i in range(3)])
    assert [e.thread_id for e in store.audit.query(AuditQuery())] == ["t2", "t1", "t0"]


def test_limit(filled: NegotiationStore) -> None:
    assert len(filled.audit.query(AuditQuery(limit=2))) == 2
    assert stamps(filled.audit.query(AuditQuery(limit=1))) == ["2026-03-04T12:00:00.000000Z"]


def test_influencer_is_case_insensitive_including_non_ascii(filled: NegotiationStore) -> None:
    assert len(filled.audit.query(AuditQuery(influencer="jAnE dOe"))) == 3
    assert len(filled.audit.query(AuditQuery(influencer="  jane doe "))) == 3
    assert [e.influencer_name for e in filled.audit.query(AuditQuery(influencer="ZOË ÅDAL"))] == [
        "Zoë Ådal"
    ]
    assert filled.audit.query(AuditQuery(influencer="Jane")) == []  # exact name, not a prefix


def test_campaign_and_event_type_filters(filled: NegotiationStore) -> None:
    assert len(filled.audit.query(AuditQuery(campaign="camp-1"))) == 3
    assert [
        e.event_type for e in filled.audit.query(build_audit_query(event_type="agreement"))
    ] == [EventType.AGREEMENT]
    both = filled.audit.query(AuditQuery(campaign="camp-1", influencer="jane doe"))
    assert stamps(both) == ["2026-03-02T23:59:59.900000Z", "2026-03-01T10:00:00.000000Z"]


def test_date_range_is_inclusive_whole_days(filled: NegotiationStore) -> None:
    got = filled.audit.query(build_audit_query(from_date="2026-03-02", to_date="2026-03-02"))
    # 00:00:00 and 23:59:59.9 on the 2nd are both in; 00:00:00 on the 3rd is out.
    assert stamps(got) == ["2026-03-02T23:59:59.900000Z", "2026-03-02T00:00:00.000000Z"]
    assert len(filled.audit.query(AuditQuery(from_date=date(2026, 3, 3)))) == 2
    assert len(filled.audit.query(AuditQuery(to_date=date(2026, 3, 1)))) == 1


def test_since_last_n_hours(filled: NegotiationStore) -> None:
    now = at("2026-03-04T13:00:00")
    assert len(filled.audit.query(AuditQuery(since=timedelta(hours=2), now=now))) == 1
    assert len(filled.audit.query(AuditQuery(since=timedelta(hours=37), now=now))) == 2
    assert len(filled.audit.query(AuditQuery(since=timedelta(days=7), now=now))) == 5


def test_thread_filter(store: NegotiationStore) -> None:
    store.audit.insert_many([entry("2026-01-01T00:00:00", thread_id=t) for t in ("a", "b", "a")])
    assert len(store.audit.query(AuditQuery(thread_id="a"))) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"from_date": "2026-13-01"}, "2026-13-01"),
        ({"to_date": "03/02/2026"}, "03/02/2026"),
        ({"from_date": "2026-03-05", "to_date": "2026-03-01"}, "after"),
        ({"event_type": "email_lost"}, "email_lost"),
        ({"limit": 0}, "limit"),
        ({"since": timedelta(0)}, "positive"),
    ],
)
def test_bad_filters_name_the_value(
    filled: NegotiationStore, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(AuditFilterError, match=message):
        filled.audit.query(build_audit_query(**kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"from_date": date(2026, 3, 5), "to_date": date(2026, 3, 1)}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 100_001}, "limit"),
        ({"limit": True}, "limit"),
        ({"since": timedelta(hours=-1)}, "positive"),
        ({"since": timedelta(1), "now": datetime(2026, 3, 1)}, "timezone-aware"),
    ],
)
def test_a_query_made_directly_is_checked_too(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AuditFilterError, match=message):
        AuditQuery(**kwargs)  # type: ignore[arg-type]


def test_blank_text_filters_mean_no_filter(filled: NegotiationStore) -> None:
    query = AuditQuery(influencer="  ", campaign="", thread_id="\t")
    assert (query.influencer, query.campaign, query.thread_id) == (None, None, None)
    assert filled.audit.query(query) == filled.audit.query(AuditQuery())


INJECTIONS = [
    "Robert'); DROP TABLE audit_log;--",
    "' OR '1'='1",
    '"; DELETE FROM audit_log WHERE "a"="a',
    "x%' OR 1=1 --",
]


@pytest.mark.parametrize("nasty", INJECTIONS)
def test_sql_injection_strings_are_stored_and_matched_verbatim(
    filled: NegotiationStore, nasty: str
) -> None:
    filled.audit.insert(
        AuditEntry(
            event_type=EventType.EMAIL_RECEIVED,
            influencer_name=nasty,
            campaign_id=nasty,
            email_body=nasty,
            metadata={nasty: nasty},
        )
    )
    (got,) = filled.audit.query(AuditQuery(influencer=nasty))
    assert (got.influencer_name, got.campaign_id, got.email_body) == (nasty, nasty, nasty)
    assert got.metadata == {nasty: nasty}
    assert filled.audit.query(AuditQuery(campaign=nasty)) == [got]
    assert len(filled.audit.query(AuditQuery(limit=100))) == 6  # nothing dropped or deleted


def test_insert_many_is_one_transaction(store: NegotiationStore) -> None:
    def entries() -> Iterator[AuditEntry]:
        yield entry("2026-01-01T00:00:00")
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError):
        store.audit.insert_many(entries())
    assert store.audit.query(AuditQuery()) == []
