"""The record codec on records made for the purpose: every field kind written and read back
(also through JSON text), the reading rules for absent, null and unknown keys, and errors that
name the record and the field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.money import MoneyError
from negotiation_pipeline.domain.record_codec import RecordError, RecordMoneyError


class Colour(StrEnum):
    RED = "red"
    DARK_BLUE = "dark blue"


class Size(Enum):
    SMALL = 1
    LARGE = 2


class Budget(BaseModel):
    amount: Decimal
    note: str = ""


@dataclass(frozen=True)
class Price:
    amount: Decimal
    colour: Colour

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"amount must not be negative, got {self.amount}")


@dataclass(frozen=True)
class Everything:
    text: str
    count: int
    flag: bool
    amount: Decimal
    maybe_amount: Decimal | None
    moment: datetime
    day: date
    colour: Colour
    size: Size
    price: Price
    budget: Budget
    prices: tuple[Price, ...]
    names: list[str]
    tags: frozenset[str]
    numbers: set[int]
    triple: tuple[Colour, str, Decimal]
    by_name: dict[str, Price]
    extra: Any
    maybe_price: Price | None = None
    history: tuple[tuple[Colour, str, Colour], ...] = ()
    counts: tuple[int, ...] = (1, 2)
    labels: dict[str, str] = field(default_factory=dict)


def everything(**changes: Any) -> Everything:
    values: dict[str, Any] = {
        "text": "Jane «Doe»",
        "count": 3,
        "flag": True,
        "amount": Decimal("1040.50"),
        "maybe_amount": None,
        "moment": datetime(2026, 3, 2, 9, 0, 5, 120, tzinfo=UTC),
        "day": date(2026, 4, 20),
        "colour": Colour.DARK_BLUE,
        "size": Size.LARGE,
        "price": Price(Decimal("1E+3"), Colour.RED),
        "budget": Budget(amount=Decimal("50000.00"), note="Q2"),
        "prices": (Price(Decimal("1"), Colour.RED), Price(Decimal("2.00"), Colour.DARK_BLUE)),
        "names": ["b", "a"],
        "tags": frozenset({"v:b:1", "p:ff", "v:a:0"}),
        "numbers": {10, 9, 100},
        "triple": (Colour.RED, "send_offer", Decimal("0.10")),
        "by_name": {"jane": Price(Decimal("7"), Colour.RED)},
        "extra": {"free": ["form", 1]},
        "history": ((Colour.RED, "pause", Colour.DARK_BLUE),),
    }
    values.update(changes)
    return Everything(**values)


EXPECTED: dict[str, Any] = {
    "text": "Jane «Doe»",
    "count": 3,
    "flag": True,
    "amount": "1040.50",
    "maybe_amount": None,
    "moment": "2026-03-02T09:00:05.000120+00:00",
    "day": "2026-04-20",
    "colour": "dark blue",
    "size": 2,
    "price": {"amount": "1E+3", "colour": "red"},
    "budget": {"amount": "50000.00", "note": "Q2"},
    "prices": [{"amount": "1", "colour": "red"}, {"amount": "2.00", "colour": "dark blue"}],
    "names": ["b", "a"],
    "tags": ["p:ff", "v:a:0", "v:b:1"],
    "numbers": [9, 10, 100],
    "triple": ["red", "send_offer", "0.10"],
    "by_name": {"jane": {"amount": "7", "colour": "red"}},
    "extra": {"free": ["form", 1]},
    "maybe_price": None,
    "history": [["red", "pause", "dark blue"]],
    "counts": [1, 2],
    "labels": {},
}


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


# --- every field kind -------------------------------------------------------------------------
def test_every_field_kind_is_written_as_its_stored_shape() -> None:
    data = record_codec.to_dict(everything())
    assert data == EXPECTED
    assert list(data) == list(EXPECTED)  # the record's field order
    assert all(type(data[k]) is str for k in ("amount", "moment", "day", "colour"))


def test_every_field_kind_reads_back_equal_through_json_text() -> None:
    record = everything(maybe_amount=Decimal("-0.00"), maybe_price=Price(Decimal(0), Colour.RED))
    back = record_codec.from_dict(Everything, through_json(record_codec.to_dict(record)))
    assert back == record
    assert str(back.amount) == "1040.50" and str(back.price.amount) == "1E+3"
    assert str(back.maybe_amount) == "-0.00"
    assert back.moment.tzinfo is not None and back.moment == record.moment
    assert isinstance(back.prices, tuple) and isinstance(back.names, list)
    assert isinstance(back.tags, frozenset) and isinstance(back.numbers, set)
    assert isinstance(back.triple, tuple) and isinstance(back.budget, Budget)


def test_a_time_keeps_its_offset_and_a_naive_time_stays_naive() -> None:
    plus_two = datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2026, 3, 2, 9, 0)
    for moment, text in ((plus_two, "2026-03-02T11:00:00+02:00"), (naive, "2026-03-02T09:00:00")):
        data = record_codec.to_dict(everything(moment=moment))
        assert data["moment"] == text
        assert record_codec.from_dict(Everything, data).moment == moment


def test_equal_sets_store_equal_text_whatever_their_order() -> None:
    one = everything(tags=frozenset(["c", "a", "b"]))
    other = everything(tags=frozenset(["b", "c", "a"]))
    assert json.dumps(record_codec.to_dict(one)) == json.dumps(record_codec.to_dict(other))


def test_an_int_in_a_decimal_field_is_written_as_its_digits() -> None:
    assert record_codec.to_dict(Price(1000, Colour.RED))["amount"] == "1000"  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False),
    text=st.text(),
    count=st.integers(),
    tags=st.frozensets(st.text(max_size=8), max_size=5),
    moment=st.datetimes(timezones=st.just(UTC)),
    names=st.lists(st.text(max_size=5), max_size=4),
)
def test_any_values_round_trip_exactly(
    amount: Decimal,
    text: str,
    count: int,
    tags: frozenset[str],
    moment: datetime,
    names: list[str],
) -> None:
    record = everything(amount=amount, text=text, count=count, tags=tags, moment=moment)
    record = Everything(**{**record.__dict__, "names": names})
    data = record_codec.to_dict(record)
    assert data["amount"] == str(amount)
    back = record_codec.from_dict(Everything, through_json(data))
    assert back == record and str(back.amount) == str(amount)


# --- reading rules ----------------------------------------------------------------------------
def test_unknown_keys_are_ignored() -> None:
    data = {
        **EXPECTED,
        "written_by_a_newer_version": [1, 2],
        "price": {**EXPECTED["price"], "x": 1},
    }
    assert record_codec.from_dict(Everything, data) == everything()


def test_an_absent_key_reads_as_the_default_and_optional_fields_as_none() -> None:
    data = dict(EXPECTED)
    for key in ("maybe_amount", "maybe_price", "history", "counts", "labels"):
        del data[key]
    del data["extra"]  # `Any` allows None: read as an optional field
    back = record_codec.from_dict(Everything, data)
    assert back.maybe_amount is None and back.maybe_price is None and back.extra is None
    assert back.history == () and back.counts == (1, 2) and back.labels == {}


def test_null_in_a_field_that_cannot_be_none_reads_as_its_default() -> None:
    back = record_codec.from_dict(Everything, {**EXPECTED, "history": None, "counts": None})
    assert back.history == () and back.counts == (1, 2)


@pytest.mark.parametrize("key", ["text", "amount", "price", "prices", "triple", "by_name"])
def test_an_absent_required_field_is_named(key: str) -> None:
    data = {k: v for k, v in EXPECTED.items() if k != key}
    with pytest.raises(RecordError, match=rf"^Everything: missing field '{key}'$"):
        record_codec.from_dict(Everything, data)


def test_a_missing_nested_field_is_named_by_its_path() -> None:
    data = {**EXPECTED, "prices": [EXPECTED["price"], {"amount": "1"}]}
    with pytest.raises(RecordError, match=r"^Everything: missing field 'prices\[1\]\.colour'$"):
        record_codec.from_dict(Everything, data)


def test_null_in_a_required_field_is_named() -> None:
    with pytest.raises(RecordError, match=r"^Everything: null in required field 'count'$"):
        record_codec.from_dict(Everything, {**EXPECTED, "count": None})


# --- errors name the record and the field -----------------------------------------------------
BAD_VALUES = [
    ("text", 5, "text", "expected text, got int 5"),
    ("count", True, "count", "expected a whole number, got bool True"),
    ("count", "3", "count", "expected a whole number, got str '3'"),
    ("flag", 1, "flag", "expected true or false, got int 1"),
    ("amount", "12,50", "amount", "'12,50' is not a number"),
    ("amount", "NaN", "amount", "'NaN' is not a finite number"),
    ("moment", "yesterday", "moment", "expected an ISO date and time, got str 'yesterday'"),
    ("day", "2026-13-01", "day", "expected an ISO date, got str '2026-13-01'"),
    ("colour", "green", "colour", "'green' is not a Colour ('red', 'dark blue')"),
    ("colour", ["red"], "colour", "is not a Colour"),
    ("size", "2", "size", "'2' is not a Size (1, 2)"),
    ("price", "red", "price", "expected an object for Price, got str 'red'"),
    ("prices", {"amount": "1"}, "prices", "expected a list, got dict"),
    (
        "prices",
        [{"amount": "1", "colour": "red"}, {"amount": "x", "colour": "red"}],
        "prices[1].amount",
        "'x' is not a number",
    ),
    ("triple", ["red", "x"], "triple", "expected 3 items, got 2"),
    ("triple", ["red", "x", "y"], "triple[2]", "'y' is not a number"),
    ("history", [["red", "pause", "blue"]], "history[0][2]", "'blue' is not a Colour"),
    ("by_name", {"jane": {"amount": "1", "colour": 7}}, 'by_name["jane"].colour', "not a Colour"),
    ("by_name", ["jane"], "by_name", "expected an object, got list"),
    ("tags", "abc", "tags", "expected a list, got str 'abc'"),
    ("budget", {"amount": "lots"}, "budget", "not a valid Budget (amount: "),
    ("price", {"amount": "-1", "colour": "red"}, "price", "amount must not be negative"),
]


@pytest.mark.parametrize(("key", "value", "where", "problem"), BAD_VALUES)
def test_a_wrong_value_is_named_by_record_field_path_and_problem(
    key: str, value: Any, where: str, problem: str
) -> None:
    with pytest.raises(RecordError) as caught:
        record_codec.from_dict(Everything, {**EXPECTED, key: value})
    assert caught.value.record == "Everything" and caught.value.field == where
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"Everything: field '{where}': ")


def test_a_float_amount_is_refused_as_a_money_error_naming_the_field() -> None:
    with pytest.raises(RecordMoneyError, match=r"field 'prices\[0\]\.amount': float 2\.5") as e:
        record_codec.from_dict(
            Everything, {**EXPECTED, "prices": [{"amount": 2.5, "colour": "red"}]}
        )
    assert isinstance(e.value, MoneyError) and isinstance(e.value, ValueError)


def test_data_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RecordError, match=r"^Price: expected an object for Price, got list"):
        record_codec.from_dict(Price, ["1", "red"])  # type: ignore[arg-type]


def test_writing_a_float_where_money_belongs_is_refused() -> None:
    with pytest.raises(RecordMoneyError, match=r"^Everything: field 'price\.amount': expected a"):
        record_codec.to_dict(everything(price=Price(2.5, Colour.RED)))  # type: ignore[arg-type]


def test_writing_a_text_where_an_enum_belongs_is_refused() -> None:
    with pytest.raises(RecordError, match=r"field 'triple': expected a Colour, got str 'red'"):
        record_codec.to_dict(everything(triple=("red", "x", Decimal(1))))


# --- output names and unsupported records -----------------------------------------------------
def test_an_output_may_write_fields_under_other_names() -> None:
    data = record_codec.to_dict(Price(Decimal("1.5"), Colour.RED), keys={"amount": "rate"})
    assert data == {"rate": "1.5", "colour": "red"}
    with pytest.raises(TypeError, match="no fields"):
        record_codec.to_dict(Price(Decimal(1), Colour.RED), keys={"price": "rate"})


@dataclass(frozen=True)
class EitherOr:
    value: int | str


@dataclass(frozen=True)
class Bytes:
    blob: bytes


UNSTORABLE = [
    (EitherOr(1), r"EitherOr\.value: only X \| None"),
    (Bytes(b""), r"Bytes\.blob: type bytes"),
]


@pytest.mark.parametrize(("record", "message"), UNSTORABLE)
def test_a_field_type_the_codec_cannot_store_fails_when_the_plan_is_built(
    record: object, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        record_codec.to_dict(record)


def test_a_class_that_is_not_a_dataclass_is_refused() -> None:
    with pytest.raises(TypeError, match="not a dataclass record"):
        record_codec.to_dict(Budget(amount=Decimal(1)))
