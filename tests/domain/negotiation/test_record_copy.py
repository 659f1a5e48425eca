"""A copy of a negotiation record with some fields changed is `dataclasses.replace`."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from negotiation_pipeline.domain.enums import CounterpartyType, NegotiationState
from negotiation_pipeline.domain.negotiation.policy import Lever, LeverState
from negotiation_pipeline.domain.negotiation.record import Negotiation, revised
from tests.domain.negotiation.engine_support import NOW, opened

CHANGES: list[dict[str, Any]] = [
    {},
    {"round_count": 3, "our_last_offer": Decimal("1100.00")},
    {"offers": (Decimal("900.00"), Decimal("1000.00")), "said": ("p:1", "v:a:0")},
    {"levers": LeverState(scenario=2, used=(Lever.SCENARIO_2,)), "last_activity": NOW},
    {"state": NegotiationState.ESCALATED, "history": ()},
    {"counterparty_type": CounterpartyType.TALENT_MANAGER, "counterparty_name": "Jordan"},
]


def test_the_record_copies_through_its_instance_dict() -> None:
    # The shortcut relies on this: every field set by __init__ and nothing else run there.
    assert not hasattr(Negotiation, "__post_init__")
    assert all(field.init for field in dataclasses.fields(Negotiation))
    record = opened().negotiation
    assert set(vars(record)) == {field.name for field in dataclasses.fields(Negotiation)}


@pytest.mark.parametrize("changes", CHANGES)
def test_revised_equals_replace(changes: dict[str, Any]) -> None:
    record = opened().negotiation
    copy = revised(record, **changes)
    expected = dataclasses.replace(record, **changes)
    assert copy == expected
    assert vars(copy) == vars(expected)
    assert type(copy) is Negotiation
    assert copy is not record
    assert vars(record) == vars(opened().negotiation)  # the original is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        copy.round_count = 9  # type: ignore[misc]


def test_revised_rejects_an_unknown_field() -> None:
    with pytest.raises(TypeError, match="rounds"):
        revised(opened().negotiation, rounds=2)
