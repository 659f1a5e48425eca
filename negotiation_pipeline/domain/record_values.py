"""How one field value of each kind is written into a record's dict and read back (the value
coders `record_codec` assembles into a record's plan).

A coder pair is (encoder, decoder, nullable): the encoder is None when the value is stored as
it is; the decoder checks the stored value and returns the field's value; `nullable` says
whether None is a value of the field. A value that does not fit raises `FieldProblem`, which
collects the path to the field on its way out (`record_codec` turns it into a `RecordError`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

Coder = Callable[[Any], Any]
Coders = tuple[Coder | None, Coder, bool]


class FieldProblem(Exception):
    """A value that does not fit its field; `path` grows from the field outwards."""

    def __init__(self, problem: str, *, money: bool = False, absent: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.money = money  # a Decimal field: the caller reports it as a money error too
        self.absent = absent  # the field itself is missing (or null): `problem` says which
        self.path: list[str] = []

    def at(self, segment: str) -> FieldProblem:
        self.path.append(segment)
        return self

    def where(self) -> str:
        """The dotted path from the record to the field: "terms.scenarios[1].opening_rate"."""
        text = ""
        for segment in reversed(self.path):
            text += segment if segment.startswith("[") or not text else f".{segment}"
        return text


def describe(value: Any) -> str:
    """A value's type and (shortened) repr, for error messages."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def as_is(value: Any) -> Any:
    return value


def none_or(coder: Coder) -> Coder:
    return lambda value: None if value is None else coder(value)


# --- single values ------------------------------------------------------------------------------
def leaf(cls: type) -> Coders | None:
    """The coders of a plain value type; None when `cls` is not one."""
    if cls is str:
        return None, _str, False
    if cls is bool:
        return None, _bool, False
    if cls is int:
        return None, _int, False
    if cls is Decimal:
        return _encode_decimal, _decode_decimal, False
    if cls is datetime:
        return _encode_iso, _decode_datetime, False
    if cls is date:
        return _encode_iso, _decode_date, False
    if issubclass(cls, Enum):
        return _enum(cls)
    if issubclass(cls, BaseModel):
        return _model(cls)
    return None


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise FieldProblem(f"expected text, got {describe(value)}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise FieldProblem(f"expected true or false, got {describe(value)}")


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FieldProblem(f"expected a whole number, got {describe(value)}")


def _encode_decimal(value: Any) -> str:
    # An int in a Decimal field has the same text as the Decimal of it.
    if value.__class__ is Decimal or isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FieldProblem(f"expected a Decimal, got {describe(value)}", money=True)


def _decode_decimal(value: Any) -> Decimal:
    if isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise FieldProblem(f"{value!r} is not a number", money=True) from None
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    elif isinstance(value, float):
        raise FieldProblem(f"float {value!r} rejected: store money as a string", money=True)
    else:
        raise FieldProblem(f"expected an exact number as text, got {describe(value)}", money=True)
    if not amount.is_finite():
        raise FieldProblem(f"{value!r} is not a finite number", money=True)
    return amount


def _encode_iso(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise FieldProblem(f"expected a date or time, got {describe(value)}")


def _decode_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise FieldProblem(f"expected an ISO date and time, got {describe(value)}")


def _decode_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldProblem(f"expected an ISO date, got {describe(value)}")


def _enum(cls: type[Enum]) -> Coders:
    members = dict(cls._value2member_map_)
    allowed = ", ".join(repr(member.value) for member in cls)

    def encode(value: Any) -> Any:
        if isinstance(value, cls):
            return value._value_  # the member's value, without the `value` property's lookup
        raise FieldProblem(f"expected a {cls.__name__}, got {describe(value)}")

    def decode(value: Any) -> Enum:
        try:
            member = members.get(value)
        except TypeError:  # unhashable: a list or an object
            member = None
        if member is None:
            try:
                member = cls(value)
            except (ValueError, TypeError):
                raise FieldProblem(f"{value!r} is not a {cls.__name__} ({allowed})") from None
        return member

    return encode, decode, False


def _model(cls: type[BaseModel]) -> Coders:
    def encode(value: Any) -> Any:
        if isinstance(value, cls):
            return value.model_dump(mode="json")
        raise FieldProblem(f"expected a {cls.__name__}, got {describe(value)}")

    def decode(value: Any) -> BaseModel:
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'value'}: {error['msg']}"
                for error in exc.errors()
            )
            raise FieldProblem(f"not a valid {cls.__name__} ({details})") from None

    return encode, decode, False


# --- containers ---------------------------------------------------------------------------------
def _items(value: Any) -> list[Any] | tuple[Any, ...]:
    if isinstance(value, list | tuple):
        return value
    raise FieldProblem(f"expected a list, got {describe(value)}")


def _each(coder: Coder, values: Any, kind: type = list) -> Any:
    """`coder` over the items into a `kind` (list or tuple), naming the index of the first one
    that fails."""
    try:
        return kind(map(coder, values))
    except FieldProblem:
        for index, item in enumerate(values):
            try:
                coder(item)
            except FieldProblem as problem:
                raise problem.at(f"[{index}]") from None
        raise


def sequence(item: Coders, kind: type) -> Coders:
    """`tuple[X, ...]` or `list[X]`: a list of the items."""
    encode_item, decode_item, _ = item
    if encode_item is None:  # the items are stored as they are
        encode_item = as_is

    def encode(values: Any) -> list[Any]:
        try:
            return list(map(encode_item, values))
        except FieldProblem:
            return _each(encode_item, values)  # again, to name the item

    def decode(value: Any) -> Any:
        if value.__class__ is not list and not isinstance(value, list | tuple):
            raise FieldProblem(f"expected a list, got {describe(value)}")
        try:
            return kind(map(decode_item, value))
        except FieldProblem:
            return _each(decode_item, value, kind)  # again, to name the item

    return (list if encode_item is as_is else encode), decode, False


def unordered(item: Coders, kind: type) -> Coders:
    """`frozenset[X]` or `set[X]`: the items as a sorted list, so equal sets store equal text."""
    encode_item, decode_item, _ = item

    def encode(values: Any) -> list[Any]:
        stored = list(values) if encode_item is None else _each(encode_item, values)
        try:
            return sorted(stored)
        except TypeError:
            raise FieldProblem("the set's items cannot be put in order") from None

    def decode(value: Any) -> Any:
        return kind(_each(decode_item, _items(value)))

    return encode, decode, False


def text_keyed(value_coders: Coders) -> Coders:
    """`dict[str, X]`: an object with the values coded."""
    encode_value, decode_value, _ = value_coders
    encode_one = encode_value or as_is

    def encode(value: Any) -> dict[str, Any]:
        return {key: _keyed(encode_one, key, item) for key, item in value.items()}

    def decode(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise FieldProblem(f"expected an object, got {describe(value)}")
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise FieldProblem(f"expected text keys, got {describe(key)}")
            out[key] = _keyed(decode_value, key, item)
        return out

    return encode, decode, False


def _keyed(coder: Coder, key: str, value: Any) -> Any:
    try:
        return coder(value)
    except FieldProblem as problem:
        raise problem.at(f"[{json.dumps(key, ensure_ascii=False)}]") from None
