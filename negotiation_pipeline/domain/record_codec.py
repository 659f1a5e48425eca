"""One codec for the domain's dataclass records: a record to a JSON-ready dict and back.

The stored shape of a field follows its type hint:
- `Decimal` is its exact text ("1040.00"; an int in a Decimal field is written as its digits); a
  float is refused both ways, so money never passes through binary floating point;
- `datetime` is `isoformat()` text as the value holds it (an aware UTC time ends in "+00:00"),
  `date` its ISO text;
- an `Enum` is its value; a nested dataclass record is its own dict, by the same rules; a
  pydantic model is `model_dump(mode="json")` and is read back with `model_validate`;
- `tuple[X, ...]` and `list[X]` are lists, `tuple[A, B, C]` a list of three, `frozenset[X]` /
  `set[X]` a sorted list (a set has no order; sorting keeps the stored text stable);
- `dict[str, X]` is an object; `X | None` is null or X; `str`, `int`, `bool` stay as they are.

Reading a dict back:
- keys the record does not have are ignored, so a record written by newer code still loads;
- an absent key, or null in a field that cannot be None, reads as the field's default; an
  optional field without a default reads as None; any other absent field is an error;
- values are checked against the type (text for `str`, an int that is not a bool for `int`, a
  finite number for `Decimal`, a known value for an `Enum`, ...), then the record's own
  constructor runs, so its `__post_init__` checks apply;
- every problem is a `RecordError` (a `ValueError`) naming the record and the field path, as in
  "Negotiation: field 'terms.scenarios[1].opening_rate': float 2.5 rejected ..." or
  "Negotiation: missing field 'levers'".

Fields whose stored shape or reading rule differs from what their type says are listed in
`RULES` below, each with its reason; nothing else is special-cased.

Each record class gets a plan the first time it is used: one encoder and one decoder per
field, built from its type hints (`record_values`), compiled into one writer and one reader
function for the whole record (`record_functions`); later calls only run those.

Why not pydantic's `TypeAdapter` over the dataclasses: it writes UTC times as "...Z" and sets
in iteration order, and cannot express the reading rules below without changing the record
classes, so the stored bytes would change.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from negotiation_pipeline.domain import record_values as values
from negotiation_pipeline.domain.money import MoneyError
from negotiation_pipeline.domain.record_functions import (
    PlannedField,
    Reader,
    Writer,
    compile_fixed_tuple,
    compile_reader,
    compile_writer,
    locate,
)
from negotiation_pipeline.domain.record_values import Coder, Coders, FieldProblem

T = TypeVar("T")


class RecordError(ValueError):
    """Stored data does not fit a record: names the record, the field path and the problem."""

    def __init__(self, record: str, field: str, problem: str, *, absent: bool = False) -> None:
        self.record = record
        self.field = field
        self.problem = problem
        if absent:  # "Negotiation: missing field 'terms'"
            message = f"{record}: {problem} {field!r}"
        else:
            message = f"{record}: field {field!r}: {problem}" if field else f"{record}: {problem}"
        super().__init__(message)


class RecordMoneyError(RecordError, MoneyError):
    """A Decimal field of a record holds something that is not an exact amount."""


# --- reading rules that differ from the field types -----------------------------------------------
_NOT_SET: Any = object()


@dataclass(frozen=True)
class FieldRule:
    """How one field is read differently from what its type and default say. `why` is
    required: every rule states the reason it exists."""

    why: str
    required: bool = False  # the key must be present although the field has a default
    absent: Any = _NOT_SET  # what an absent key (or null) reads as, for a field without default
    upgrade: Coder | None = None  # turns an older stored shape into today's before reading


def _asks_with_lever_count(stored: Any) -> Any:
    """Asks written before the lever count existed are pairs: their count is 0."""
    if not isinstance(stored, list | tuple):
        return stored
    return [[*ask, 0] if isinstance(ask, list | tuple) and len(ask) == 2 else ask for ask in stored]


_FIRST_FIELD = (
    "written by every version of the record; without it the data is not one of its records"
)
_REQUIRED = FieldRule(why=_FIRST_FIELD, required=True)
_NEGOTIATION = "negotiation_pipeline.domain.negotiation"

# Record (module.qualname) -> field -> rule. Checked against the class when its plan is built.
RULES: dict[str, dict[str, FieldRule]] = {
    f"{_NEGOTIATION}.record.Negotiation": {
        "state": _REQUIRED,
        "history": _REQUIRED,
        "round_count": _REQUIRED,
        "levers": _REQUIRED,
        "counterparty_type": _REQUIRED,
        "asks": FieldRule(
            why="asks stored before the lever count existed are (amount, price per 1,000) pairs",
            upgrade=_asks_with_lever_count,
        ),
    },
    f"{_NEGOTIATION}.policy.LeverState": {
        "scenario": _REQUIRED,
        "product_offered": _REQUIRED,
        "used": _REQUIRED,
    },
    f"{_NEGOTIATION}.held.EscalationNote": {
        "detail": FieldRule(why="a note may have no detail", absent=""),
        "suggested_action": FieldRule(why="a note may suggest nothing", absent=""),
    },
    f"{_NEGOTIATION}.held.HeldDraft": {
        "reason": FieldRule(why="a draft may be held without a reason", absent=""),
    },
    f"{_NEGOTIATION}.emails.EmailDecision": {
        # No default would be a guess: a held draft is checked against exactly these amounts.
        "rate": FieldRule(why="the amount the held email states as ours", required=True),
        "their_ask": FieldRule(why="the ask the held email quotes", required=True),
    },
}

# Names a record module imports only for type checking (importing them at run time would be a
# cycle): where the codec finds them when it builds that record's plan.
DEFERRED_NAMES: dict[str, str] = {"Negotiation": f"{_NEGOTIATION}.record"}


# --- the per-class plan -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    name: str
    cls: type
    fields: tuple[PlannedField, ...]
    write: Writer
    read: Reader


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _build_plan(cls)
    return plan


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except NameError as exc:
        if exc.name not in DEFERRED_NAMES:
            raise
    names = {
        name: getattr(importlib.import_module(module), name)
        for name, module in DEFERRED_NAMES.items()
    }
    return typing.get_type_hints(cls, localns=names)


def _build_plan(cls: type) -> _Plan:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__qualname__} is not a dataclass record")
    rules = RULES.get(f"{cls.__module__}.{cls.__qualname__}", {})
    fields = [f for f in dataclasses.fields(cls) if f.init]
    unknown = set(rules) - {f.name for f in fields}
    if unknown:
        raise TypeError(f"{cls.__qualname__}: codec rules name unknown fields {sorted(unknown)}")
    hints = _type_hints(cls)
    planned = []
    for item in fields:
        rule, hint = rules.get(item.name), hints[item.name]
        try:
            base = _optional_of(hint) or hint  # the compiled functions check None themselves
            encode, decode, nullable = _coders(base)
            nullable = nullable or base is not hint
        except TypeError as exc:
            raise TypeError(f"{cls.__qualname__}.{item.name}: {exc}") from None
        if rule is not None and rule.upgrade is not None:
            decode = _upgraded(rule.upgrade, decode)
        absent = _absent(item, rule, nullable)
        leaf = base if base in _LEAVES or _is_enum(base) else None
        planned.append(PlannedField(item.name, encode, decode, nullable, absent, leaf))
    fields_plan = tuple(planned)
    return _Plan(
        cls.__name__,
        cls,
        fields_plan,
        compile_writer(cls, fields_plan),
        compile_reader(cls, fields_plan),
    )


_LEAVES = (str, int, bool, Decimal, datetime, date)  # single values the plan may inline


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, Enum)


def _absent(item: dataclasses.Field[Any], rule: FieldRule | None, nullable: bool) -> Any:
    if rule is not None and rule.required:
        return None
    if rule is not None and rule.absent is not _NOT_SET:
        value = rule.absent
        return lambda: value
    if item.default is not dataclasses.MISSING:
        default = item.default
        return lambda: default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory
    return (lambda: None) if nullable else None


def _upgraded(upgrade: Coder, decode: Coder) -> Coder:
    return lambda value: decode(upgrade(value))


# --- type hints to coders -------------------------------------------------------------------------
def _optional_of(hint: Any) -> Any:
    """X for `X | None`; None for any other type (other unions are refused)."""
    if typing.get_origin(hint) not in (types.UnionType, typing.Union):
        return None
    args = typing.get_args(hint)
    others = [a for a in args if a is not type(None)]
    if len(others) != 1 or len(args) != 2:
        raise TypeError(f"only X | None unions are supported, not {hint!r}")
    return others[0]


def _coders(hint: Any) -> Coders:
    """The coders of one field type (see the module docstring for each kind)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    inner = _optional_of(hint)
    if inner is not None:
        encode, decode, _ = _coders(inner)
        return (None if encode is None else values.none_or(encode)), values.none_or(decode), True
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return values.sequence(_coders(args[0]), tuple)
        return compile_fixed_tuple([_coders(a) for a in args])
    if origin is list:
        return values.sequence(_coders(args[0]), list)
    if origin in (frozenset, set):
        return values.unordered(_coders(args[0]), origin)
    if origin is dict:
        if args[0] is not str:
            raise TypeError(f"only dict[str, X] is supported, not {hint!r}")
        return values.text_keyed(_coders(args[1]))
    if hint is Any or hint is object:
        return None, values.as_is, True
    if isinstance(hint, type):
        plain = values.leaf(hint)
        if plain is not None:
            return plain
        if dataclasses.is_dataclass(hint):
            return _nested(hint)
    name = hint.__qualname__ if isinstance(hint, type) else repr(hint)
    raise TypeError(f"type {name} is not supported by the record codec")


def _nested(cls: type) -> Coders:
    """A record inside a record: its plan is built when first used (records may nest each
    other, as a held draft holds the negotiation it belongs to), then kept here."""
    found: list[_Plan] = []

    def plan() -> _Plan:
        if not found:
            found.append(_plan(cls))
        return found[0]

    def encode(value: Any) -> dict[str, Any]:
        record_plan = found[0] if found else plan()
        if value.__class__ is not cls:
            return _encode(value, record_plan)
        try:
            return record_plan.write(value)
        except FieldProblem as problem:
            raise locate(problem, value, record_plan.fields) from None

    def decode(value: Any) -> Any:
        record_plan = found[0] if found else plan()
        if value.__class__ is dict:
            return record_plan.read(value)
        return _decode(record_plan, value)

    return encode, decode, False


# --- records ----------------------------------------------------------------------------------
def _encode(record: Any, plan: _Plan) -> dict[str, Any]:
    if not isinstance(record, plan.cls):
        raise FieldProblem(f"expected a {plan.name}, got {values.describe(record)}")
    try:
        return plan.write(record)
    except FieldProblem as problem:
        raise locate(problem, record, plan.fields) from None


def _decode(plan: _Plan, data: Any) -> Any:
    if data.__class__ is not dict and not isinstance(data, Mapping):
        raise FieldProblem(f"expected an object for {plan.name}, got {values.describe(data)}")
    return plan.read(data)


def _error(record: str, problem: FieldProblem) -> RecordError:
    kind = RecordMoneyError if problem.money else RecordError
    return kind(record, problem.where(), problem.problem, absent=problem.absent)


def to_dict(record: Any, *, keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The record as a JSON-ready dict (see the module docstring for each field kind).

    `keys` writes some fields under other names, for an output whose names its readers fix;
    such a dict is not read back with `from_dict`."""
    plan = _plan(type(record))
    try:
        out = _encode(record, plan)
    except FieldProblem as problem:
        raise _error(plan.name, problem) from None
    if keys:
        unknown = set(keys) - set(out)
        if unknown:
            raise TypeError(f"{plan.name} has no fields {sorted(unknown)} to rename")
        return {keys.get(name, name): value for name, value in out.items()}
    return out


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """The `cls` record a dict written by `to_dict` (by this or an older version) holds."""
    plan = _plan(cls)
    try:
        record: T = _decode(plan, data)
    except FieldProblem as problem:
        raise _error(plan.name, problem) from problem.__cause__
    return record


__all__ = [
    "DEFERRED_NAMES",
    "RULES",
    "FieldRule",
    "RecordError",
    "RecordMoneyError",
    "from_dict",
    "to_dict",
]
