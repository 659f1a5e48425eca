"""ClickUp task (GET /task shape) → validated `Campaign`, driven by config/campaign_fields.yaml.

Real value shapes (reference/external_apis.md §1.6), all handled here:
- drop_down `value` = the option's `orderindex` (int, or "0" as a string) → option `name`;
- labels `value` = list of option ids → option `label`;
- number and date values are strings; currency is a string or a number;
- checkbox is "true"/true; an unset field has no `value` key; an empty text field may be 0.

Every bad field is reported, by its form label, in one `CampaignValidationError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.roster import split_identifiers
from negotiation_pipeline.domain.enums import (
    DeliverableType,
    OptimizeFor,
    Platform,
    UsageRightsDuration,
)
from negotiation_pipeline.domain.money import MoneyError, parse_decimal
from negotiation_pipeline.domain.redaction import redact_text
from negotiation_pipeline.integrations.roster.policy import campaign_url_problem
from negotiation_pipeline.settings.files import ConfigError, load_yaml

CONFIG_FILE = "campaign_fields.yaml"
TASK_LABEL = "Task"  # label used for problems with the task itself (no id, not an object)

FieldError = tuple[str, str]


class CampaignValidationError(ValueError):
    """The task is not a valid campaign. `errors` = [(form label, message), ...], every bad
    field, in form order."""

    def __init__(self, task_id: str | None, errors: list[FieldError]) -> None:
        self.task_id = task_id
        self.errors = list(errors)
        super().__init__(
            f"ClickUp task {task_id or '?'} is not a valid campaign: "
            + "; ".join(f"{label}: {message}" for label, message in self.errors)
        )

    def lines(self) -> list[str]:
        """One `<Form Label>: <message>` line per bad field (CLI stderr, ClickUp comment)."""
        return [f"{label}: {message}" for label, message in self.errors]


def load_task_json(text: str | bytes) -> dict[str, Any]:
    """Parse task JSON with JSON numbers that have a fraction as Decimal (never float)."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except RecursionError:  # "[[[[…" a hundred thousand deep
        raise ValueError("task JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object (one ClickUp task), got {type(data).__name__}")
    return data


# --- the mapping -------------------------------------------------------------------------------
class Kind(StrEnum):
    """How a campaign value is converted, whatever the form calls it."""

    TEXT = "text"
    IDENTIFIERS = "identifiers"
    MONEY = "money"
    PERCENT = "percent"
    COUNT = "count"
    DATE = "date"
    FLAG = "flag"
    CHOICE = "choice"
    CHOICES = "choices"
    URL = "url"


@dataclass(frozen=True)
class Target:
    kind: Kind
    enum: type[Enum] | None = None


# Campaign values the form can fill (the vocabulary of `field:` in the YAML).
TARGETS: dict[str, Target] = {
    "client_name": Target(Kind.TEXT),
    "budget": Target(Kind.MONEY),
    "platform": Target(Kind.CHOICE, Platform),
    "target_deliverables": Target(Kind.CHOICES, DeliverableType),
    "influencers": Target(Kind.IDENTIFIERS),
    "cpm_min": Target(Kind.MONEY),
    "cpm_max": Target(Kind.MONEY),
    "cpm_target": Target(Kind.MONEY),
    "cpm_leniency_pct": Target(Kind.PERCENT),
    "timeline": Target(Kind.TEXT),
    "publish_date": Target(Kind.DATE),
    "optimize_for": Target(Kind.CHOICE, OptimizeFor),
    "scenario_1": Target(Kind.TEXT),
    "scenario_2": Target(Kind.TEXT),
    "scenario_3": Target(Kind.TEXT),
    "usage_rights_target": Target(Kind.CHOICE, UsageRightsDuration),
    "usage_rights_minimum": Target(Kind.CHOICE, UsageRightsDuration),
    "min_cost": Target(Kind.MONEY),
    "max_cost_without_approval": Target(Kind.MONEY),
    "product_available": Target(Kind.FLAG),
    "product_description": Target(Kind.TEXT),
    "product_value": Target(Kind.MONEY),
    "exclusivity_required": Target(Kind.FLAG),
    "content_approval_required": Target(Kind.FLAG),
    "revision_rounds": Target(Kind.COUNT),
    "roster_url": Target(Kind.URL),
}

# Where each target lands in the Campaign model (for mapping model errors back to labels).
_MODEL_PATHS: dict[str, tuple[str, ...]] = {
    "client_name": ("client_name",),
    "budget": ("budget",),
    "platform": ("platform",),
    "target_deliverables": ("target_deliverables",),
    "influencers": ("influencers",),
    "timeline": ("timeline",),
    "publish_date": ("publish_date",),
    "optimize_for": ("goals", "optimize_for"),
    "scenario_1": ("scenarios", "scenario_1"),
    "scenario_2": ("scenarios", "scenario_2"),
    "scenario_3": ("scenarios", "scenario_3"),
    "usage_rights_target": ("usage_rights", "target"),
    "usage_rights_minimum": ("usage_rights", "minimum"),
    "min_cost": ("budget_constraints", "min_cost"),
    "max_cost_without_approval": ("budget_constraints", "max_cost_without_approval"),
    "product_available": ("product", "available"),
    "product_description": ("product", "description"),
    "product_value": ("product", "value"),
    "exclusivity_required": ("requirements", "exclusivity_required"),
    "content_approval_required": ("requirements", "content_approval_required"),
    "revision_rounds": ("requirements", "revision_rounds"),
    "roster_url": ("roster_url",),
}
_ALWAYS_REQUIRED = frozenset({"client_name", "budget", "platform"})

_TEXTUAL = frozenset({"short_text", "text", "url", "email"})
_NUMERIC = frozenset({"number", "currency"})
CLICKUP_TYPES = _TEXTUAL | _NUMERIC | {"drop_down", "labels", "date", "checkbox"}
_TYPES_FOR_KIND: dict[Kind, frozenset[str]] = {
    Kind.TEXT: frozenset({"short_text", "text"}),
    Kind.IDENTIFIERS: frozenset({"short_text", "text"}),
    Kind.MONEY: _NUMERIC | _TEXTUAL,
    Kind.PERCENT: _NUMERIC | _TEXTUAL,
    Kind.COUNT: _NUMERIC | _TEXTUAL,
    Kind.DATE: frozenset({"date"}),
    Kind.FLAG: frozenset({"checkbox", "drop_down"}),
    Kind.CHOICE: frozenset({"drop_down"}),
    Kind.CHOICES: frozenset({"labels", "drop_down"}),
    Kind.URL: frozenset({"url", "short_text", "text"}),
}


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _option_key(text: str) -> str:
    return re.sub(r"[\s\-/_]+", "_", text.strip().casefold())


@dataclass(frozen=True)
class FieldSpec:
    label: str
    target: str
    clickup_type: str
    required: bool = False
    options: Mapping[str, str] = field(default_factory=dict)  # option name → value

    @property
    def kind(self) -> Kind:
        return TARGETS[self.target].kind


@dataclass(frozen=True)
class FieldMapping:
    fields: tuple[FieldSpec, ...]
    timezone: str = "UTC"

    @classmethod
    def load(cls, directory: Path | None = None) -> FieldMapping:
        """Read config/campaign_fields.yaml (or `directory`/campaign_fields.yaml)."""
        return cls.from_dict(load_yaml(CONFIG_FILE, directory), source=CONFIG_FILE)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = CONFIG_FILE) -> FieldMapping:
        entries = data.get("fields")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{source}: 'fields' must be a non-empty list")
        specs = [_spec_from_entry(entry, n, source) for n, entry in enumerate(entries, start=1)]
        _check_unique(specs, source)
        timezone = str(data.get("timezone") or "UTC")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            # OSError: a zoneinfo folder ("Europe") or a name too long for the file system
            raise ConfigError(f"{source}: unknown timezone {timezone!r}") from exc
        return cls(tuple(specs), timezone)

    def label_for(self, target: str) -> str:
        """Form label that fills `target` (the target name itself when unmapped)."""
        for spec in self.fields:
            if spec.target == target:
                return spec.label
        return target


def _spec_from_entry(entry: Any, number: int, source: str) -> FieldSpec:
    where = f"{source}: fields entry {number}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a mapping")
    label, target, clickup_type = entry.get("label"), entry.get("field"), entry.get("clickup_type")
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(f"{where}: 'label' must be a non-empty string")
    where = f"{source}: field {label!r}"
    if not isinstance(target, str) or target not in TARGETS:  # a list is unhashable
        raise ConfigError(f"{where}: unknown campaign field {target!r}")
    if not isinstance(clickup_type, str) or clickup_type not in CLICKUP_TYPES:
        raise ConfigError(f"{where}: unknown clickup_type {clickup_type!r}")
    kind = TARGETS[target].kind
    if clickup_type not in _TYPES_FOR_KIND[kind]:
        raise ConfigError(f"{where}: clickup_type {clickup_type!r} cannot fill {target}")
    options = entry.get("options") or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}: 'options' must be a mapping of option name to value")
    enum = TARGETS[target].enum
    for name, value in options.items():
        if enum is not None and _enum_member(enum, str(value)) is None:
            raise ConfigError(f"{where}: option {name!r} maps to unknown value {value!r}")
    return FieldSpec(
        label=label.strip(),
        target=str(target),
        clickup_type=str(clickup_type),
        required=bool(entry.get("required", False)),
        options={_option_key(str(k)): str(v) for k, v in options.items()},
    )


def _check_unique(specs: list[FieldSpec], source: str) -> None:
    seen_labels: set[str] = set()
    seen_targets: set[str] = set()
    for spec in specs:
        if _label_key(spec.label) in seen_labels:
            raise ConfigError(f"{source}: label {spec.label!r} is listed twice")
        if spec.target in seen_targets:
            raise ConfigError(f"{source}: campaign field {spec.target!r} is mapped twice")
        seen_labels.add(_label_key(spec.label))
        seen_targets.add(spec.target)


def _enum_member(enum: type[Enum], text: str) -> Enum | None:
    wanted = _option_key(text)
    for member in enum:
        if _option_key(str(member.value)) == wanted or _option_key(member.name) == wanted:
            return member
    return None


# --- reading one custom field ------------------------------------------------------------------
class _FieldProblem(ValueError):
    """A field's value cannot be used; the message is shown after the form label."""


_UNSET = object()


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
    raise _FieldProblem(f"option {value!r} is not among the field's ClickUp options")


def _label_names(entry: Mapping[str, Any], value: Any) -> list[str]:
    """labels value (list of option ids) → option labels."""
    if not isinstance(value, list):
        raise _FieldProblem(f"expected a list of label ids, got {value!r}")
    by_id = {str(o.get("id")): str(o.get("label", o.get("name", ""))) for o in _options(entry)}
    names = []
    for option_id in value:
        if str(option_id) not in by_id:
            raise _FieldProblem(f"label id {option_id!r} is not among the field's options")
        names.append(by_id[str(option_id)])
    return names


def _raw_value(entry: Mapping[str, Any]) -> Any:
    """The entry's value by its ClickUp type, or _UNSET for an empty field."""
    if "value" not in entry or entry["value"] is None:
        return _UNSET
    value = entry["value"]
    clickup_type = entry.get("type")
    if clickup_type in _TEXTUAL:
        # ClickUp sends 0 for an emptied text field.
        if isinstance(value, int | Decimal) and not isinstance(value, bool) and value == 0:
            return _UNSET
        text = str(value).strip()
        return text or _UNSET
    if clickup_type == "drop_down":
        return _dropdown_name(entry, value)
    if clickup_type == "labels":
        names = _label_names(entry, value)
        return names or _UNSET
    if isinstance(value, str) and not value.strip():
        return _UNSET
    return value


_MAX_ADJUSTED_EXPONENT = 15  # a quadrillion: beyond it a value is a typo, and cannot be rounded


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        raise _FieldProblem(
            f"{value!r} arrived as a float; parse task JSON with load_task_json (Decimal)"
        )
    try:
        number = parse_decimal(value)
    except MoneyError as exc:
        raise _FieldProblem(f"{value!r} is not a number") from exc
    if number.adjusted() > _MAX_ADJUSTED_EXPONENT:
        raise _FieldProblem(f"{value!r} is too large")
    return number


def _choice(spec: FieldSpec, name: str) -> Enum:
    enum = TARGETS[spec.target].enum
    assert enum is not None
    mapped = spec.options.get(_option_key(name), name)
    member = _enum_member(enum, mapped)
    if member is None:
        allowed = ", ".join(str(m.value) for m in enum)
        raise _FieldProblem(f"{name!r} is not one of: {allowed}")
    return member


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0", ""}:
        return False
    raise _FieldProblem(f"{value!r} is not a yes/no value")


def _convert(spec: FieldSpec, value: Any, timezone: ZoneInfo) -> Any:
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
        raise _FieldProblem(f"{problem} (got {redact_text(text)[:200]!r})")
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
        raise _FieldProblem(f"{value!r} is not a whole number of 0 or more")
    return int(number)


def _date(value: Any, timezone: ZoneInfo) -> date:
    millis = _as_int(value)
    if millis is None:
        raise _FieldProblem(f"{value!r} is not a ClickUp date (ms since epoch)")
    try:
        return datetime.fromtimestamp(millis // 1000, tz=timezone).date()
    except (OverflowError, OSError, ValueError):
        # Python dates stop at year 9999; a form never holds one beyond that.
        raise _FieldProblem(f"{value!r} is not a ClickUp date (out of range)") from None


# --- the parser --------------------------------------------------------------------------------
def _custom_fields(task: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    entries = task.get("custom_fields") or []
    by_label: dict[str, Mapping[str, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            by_label.setdefault(_label_key(entry["name"]), entry)
    return by_label


def _read_fields(
    task: Mapping[str, Any], mapping: FieldMapping
) -> tuple[dict[str, Any], list[FieldError]]:
    """Convert every mapped field; collect one error per bad field."""
    timezone = ZoneInfo(mapping.timezone)
    entries = _custom_fields(task)
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in mapping.fields:
        required = spec.required or spec.target in _ALWAYS_REQUIRED
        entry = entries.get(_label_key(spec.label))
        if entry is None:
            if required:
                errors.append((spec.label, "no custom field with this label on the task"))
            continue
        actual_type = str(entry.get("type"))
        if not _compatible(spec.clickup_type, actual_type):
            errors.append(
                (spec.label, f"is a ClickUp {actual_type} field; expected {spec.clickup_type}")
            )
            continue
        try:
            raw = _raw_value(entry)
            if raw is _UNSET:
                if required:
                    errors.append((spec.label, "required, but empty"))
                continue
            values[spec.target] = _convert(spec, raw, timezone)
        except _FieldProblem as exc:
            errors.append((spec.label, str(exc)))
    return values, errors


def _compatible(expected: str, actual: str) -> bool:
    return (
        expected == actual
        or (expected in _TEXTUAL and actual in _TEXTUAL)
        or (expected in _NUMERIC and actual in _NUMERIC)
    )


def _cpm_range(
    values: dict[str, Any], mapping: FieldMapping, errors: list[FieldError]
) -> dict[str, Decimal] | None:
    """CPM Min + CPM Max, or CPM Target (+ Leniency %). Errors name the labels involved."""
    label = mapping.label_for
    failed = {lbl for lbl, _ in errors}
    if any(label(t) in failed for t in ("cpm_min", "cpm_max", "cpm_target", "cpm_leniency_pct")):
        return None
    low, high = values.get("cpm_min"), values.get("cpm_max")
    target, leniency = values.get("cpm_target"), values.get("cpm_leniency_pct")
    if low is not None or high is not None:
        if low is None:
            errors.append((label("cpm_min"), f"required when {label('cpm_max')} is set"))
        elif high is None:
            errors.append((label("cpm_max"), f"required when {label('cpm_min')} is set"))
        elif low <= 0:
            errors.append((label("cpm_min"), f"must be greater than 0, got {low}"))
        elif low > high:
            errors.append((label("cpm_min"), f"{low} is above {label('cpm_max')} {high}"))
        else:
            return {"min_cpm": low, "max_cpm": high}
        return None
    if target is None:
        errors.append(
            (
                label("cpm_min"),
                f"no CPM range: set {label('cpm_min')} and {label('cpm_max')}, "
                f"or {label('cpm_target')}",
            )
        )
        return None
    if target <= 0:
        errors.append((label("cpm_target"), f"must be greater than 0, got {target}"))
        return None
    leniency = leniency if leniency is not None else Decimal(0)
    if leniency < 0:
        errors.append((label("cpm_leniency_pct"), f"must not be negative, got {leniency}"))
        return None
    return {"min_cpm": target, "max_cpm": target * (1 + leniency / 100)}


def _model_data(task_id: str, values: dict[str, Any], cpm: dict[str, Decimal]) -> dict[str, Any]:
    data: dict[str, Any] = {"campaign_id": task_id, "cpm_range": cpm}
    for target, value in values.items():
        path = _MODEL_PATHS.get(target)
        if path is None:
            continue  # CPM inputs, already folded into cpm_range
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return data


def _model_error_label(loc: tuple[Any, ...], mapping: FieldMapping) -> str:
    if loc and loc[0] == "cpm_range":
        return mapping.label_for("cpm_min")
    if loc[:1] == ("usage_rights",) and len(loc) == 1:
        return mapping.label_for("usage_rights_minimum")
    for target, path in _MODEL_PATHS.items():
        if tuple(loc[: len(path)]) == path:
            return mapping.label_for(target)
    for target, path in _MODEL_PATHS.items():  # model-level error on a sub-model
        if loc and path[0] == loc[0]:
            return mapping.label_for(target)
    return ".".join(str(p) for p in loc) or TASK_LABEL


def parse_campaign_task(task: Mapping[str, Any], mapping: FieldMapping) -> Campaign:
    """Validate one ClickUp task as a Campaign; raise CampaignValidationError naming every bad
    form field by its label."""
    if not isinstance(task, Mapping):
        raise CampaignValidationError(None, [(TASK_LABEL, "not a JSON object")])
    task_id = str(task.get("id") or "").strip()
    errors: list[FieldError] = []
    if not task_id:
        errors.append((TASK_LABEL, "has no id"))
    values, field_errors = _read_fields(task, mapping)
    errors.extend(field_errors)
    cpm = _cpm_range(values, mapping, errors)
    # Validate the rest with the model even when some fields already failed, so that model
    # rules (budget > 0, usage minimum ≤ target, ...) are reported in the same error.
    placeholder_cpm = {"min_cpm": Decimal(1), "max_cpm": Decimal(1)}
    try:
        campaign = Campaign.model_validate(
            _model_data(task_id or "?", values, cpm or placeholder_cpm)
        )
    except ValidationError as exc:
        reported = {label for label, _ in errors}
        for problem in exc.errors():
            label = _model_error_label(tuple(problem["loc"]), mapping)
            if label not in reported:
                reported.add(label)
                message = str(problem["msg"]).removeprefix("Value error, ")
                message = message.replace("Input should be", "must be")
                if problem["type"] != "value_error" and "input" in problem:
                    message += f" (got {problem['input']})"
                errors.append((label, message))
    if errors or cpm is None:
        raise CampaignValidationError(task_id or None, _in_form_order(errors, mapping))
    return campaign


def _in_form_order(errors: list[FieldError], mapping: FieldMapping) -> list[FieldError]:
    order = {spec.label: n for n, spec in enumerate(mapping.fields)}
    return sorted(errors, key=lambda error: order.get(error[0], -1))
