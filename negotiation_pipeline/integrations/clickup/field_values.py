"""Wire decoding of ClickUp custom fields: one field entry of a GET /task answer → the Python
value its mapping asks for (text, Decimal, date, enum member...).

Real value shapes, all handled here:
- drop_down `value` = the option's `orderindex` (int, or "0" as a string) → option `name`;
- labels `value` = list of option ids → option `label`;
- number and date values are strings; currency is a string or a number;
- checkbox is "true"/true; an unset field has no `value` key; an empty text field may be 0.

A value that cannot be used raises `FieldProblem`, whose message follows the form label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from negotiation_pipeline.domain.campaigns.roster import split_identifiers
from negotiation_pipeline.domain.money import MoneyError, parse_decimal
from negotiation_pipeline.domain.redaction import redact_text
from negotiation_pipeline.integrations.clickup.field_mapping import (
    CHOICE_ENUMS,
    NUMERIC,
    TEXTUAL,
    FieldSpec,
    Kind,
    enum_member,
    label_key,
    option_key,
)
from negotiation_pipeline.integrations.roster.policy import campaign_url_problem


class FieldProblem(ValueError):
    """A field's value cannot be used; the message is shown after the form label."""


UNSET = object()


def _options(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    config = entry.get("type_config") or {}
    options = config.get("options") if isinstance(config, Mapping) else None
    return [o for o in options if isinstance(o, Mapping)] if isinstance(options, list) else []


_INT_TEXT = re.compile(r"-?[0-9]{1,30}")  # ASCII digits only: "²".isdigit() is True


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value.adjusted() < 30  # int() of 1E+999999999 would build a billion-digit number
        and value == value.to_integral_value()
    ):
        return int(value)
    return None


def _dropdown_name(entry: Mapping[str, Any], value: Any) -> str:
    """drop_down value (orderindex int or "0"; an option id is accepted too) → option name."""
    options = _options(entry)
    index = _as_int(value)
    for option in options:
        if index is not None and _as_int(option.get("orderindex")) == index:
            return str(option.get("name", ""))
        if isinstance(value, str) and option.get("id") == value:
            return str(option.get("name", ""))
    raise FieldProblem(f"option {value!r} is not among the field's ClickUp options")


def _label_names(entry: Mapping[str, Any], value: Any) -> list[str]:
    """labels value (list of option ids) → option labels."""
    if not isinstance(value, list):
        raise FieldProblem(f"expected a list of label ids, got {value!r}")
    by_id = {str(o.get("id")): str(o.get("label", o.get("name", ""))) for o in _options(entry)}
    names = []
    for option_id in value:
        if str(option_id) not in by_id:
            raise FieldProblem(f"label id {option_id!r} is not among the field's options")
        names.append(by_id[str(option_id)])
    return names


def raw_value(entry: Mapping[str, Any]) -> Any:
    """The entry's value by its ClickUp type, or UNSET for an empty field."""
    if "value" not in entry or entry["value"] is None:
        return UNSET
    value = entry["value"]
    clickup_type = entry.get("type")
    if clickup_type in TEXTUAL:
        # ClickUp sends 0 for an emptied text field.
        if isinstance(value, int | Decimal) and not isinstance(value, bool) and value == 0:
            return UNSET
        text = str(value).strip()
        return text or UNSET
    if clickup_type == "drop_down":
        return _dropdown_name(entry, value)
    if clickup_type == "labels":
        names = _label_names(entry, value)
        return names or UNSET
    if isinstance(value, str) and not value.strip():
        return UNSET
    return value


_MAX_ADJUSTED_EXPONENT = 15  # a quadrillion: beyond it a value is a typo, and cannot be rounded


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        raise FieldProblem(
            f"{value!r} arrived as a float; parse task JSON with load_task_json (Decimal)"
        )
    try:
        number = parse_decimal(value)
    except MoneyError as exc:
        raise FieldProblem(f"{value!r} is not a number") from exc
    if number.adjusted() > _MAX_ADJUSTED_EXPONENT:
        raise FieldProblem(f"{value!r} is too large")
    return number


def _choice(spec: FieldSpec, name: str) -> Enum:
    enum = CHOICE_ENUMS[spec.target]
    mapped = spec.options.get(option_key(name), name)
    member = enum_member(enum, mapped)
    if member is None:
        allowed = ", ".join(str(m.value) for m in enum)
        raise FieldProblem(f"{name!r} is not one of: {allowed}")
    return member


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0", ""}:
        return False
    raise FieldProblem(f"{value!r} is not a yes/no value")


def convert(spec: FieldSpec, value: Any, timezone: ZoneInfo) -> Any:
    kind = spec.kind
    converters: dict[Kind, Callable[[Any], Any]] = {
        Kind.TEXT: str,
        Kind.URL: _url,
        Kind.IDENTIFIERS: lambda v: tuple(_dedupe(split_identifiers(str(v)))),
        Kind.MONEY: _to_decimal,
        Kind.PERCENT: _to_decimal,
        Kind.COUNT: _count,
        Kind.DATE: lambda v: _date(v, timezone),
        Kind.FLAG: _flag,
        Kind.CHOICE: lambda v: _choice(spec, str(v)),
        Kind.CHOICES: lambda v: tuple(
            _choice(spec, name) for name in (v if isinstance(v, list) else [v])
        ),
    }
    return converters[kind](value)


def _url(value: Any) -> str:
    """A campaign roster URL: https to a public host. The form is outside data, so a local path
    or an internal address here would let anyone with form access read our files or network."""
    text = str(value).strip()
    problem = campaign_url_problem(text)
    if problem is not None:
        raise FieldProblem(f"{problem} (got {redact_text(text)[:200]!r})")
    return text


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        if item.casefold() not in seen:
            seen.add(item.casefold())
            result.append(item)
    return result


def _count(value: Any) -> int:
    number = _to_decimal(value)
    if number != number.to_integral_value() or number < 0:
        raise FieldProblem(f"{value!r} is not a whole number of 0 or more")
    return int(number)


def _date(value: Any, timezone: ZoneInfo) -> date:
    millis = _as_int(value)
    if millis is None:
        raise FieldProblem(f"{value!r} is not a ClickUp date (ms since epoch)")
    try:
        return datetime.fromtimestamp(millis // 1000, tz=timezone).date()
    except (OverflowError, OSError, ValueError):
        # Python dates stop at year 9999; a form never holds one beyond that.
        raise FieldProblem(f"{value!r} is not a ClickUp date (out of range)") from None


def custom_fields(task: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    entries = task.get("custom_fields") or []
    by_label: dict[str, Mapping[str, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            by_label.setdefault(label_key(entry["name"]), entry)
    return by_label


def compatible(expected: str, actual: str) -> bool:
    return (
        expected == actual
        or (expected in TEXTUAL and actual in TEXTUAL)
        or (expected in NUMERIC and actual in NUMERIC)
    )


def listed_client_name(task: Mapping[str, Any], client_label: str) -> str:
    """The client a listed task is for: its `client_label` custom field when filled, else the
    task's name, else "" (the listing is unvalidated, so any field may be missing or odd)."""
    entry = custom_fields(task).get(label_key(client_label))
    value = raw_value(entry) if entry is not None else UNSET
    if isinstance(value, str) and value.strip():
        return value.strip()
    name = task.get("name")
    return name.strip() if isinstance(name, str) else ""
