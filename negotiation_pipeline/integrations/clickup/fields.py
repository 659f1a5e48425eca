"""ClickUp task (GET /task shape) → validated `Campaign`, driven by campaign_fields.yaml.

The mapping (`field_mapping`) says which custom field fills which campaign value; `field_values`
decodes each field's wire value; the CPM rule is the domain's (`cpm_form`); the `Campaign` model
checks the rest. Every bad field is reported, by its form label, in one
`CampaignValidationError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm_form import CpmFormProblem, cpm_range_from_form
from negotiation_pipeline.integrations.clickup.field_mapping import (
    ALWAYS_REQUIRED,
    CONFIG_FILE,
    MODEL_PATHS,
    SUPPORTED_FIELD_TYPES,
    TARGETS,
    FieldMapping,
    FieldSpec,
    Kind,
    label_key,
)
from negotiation_pipeline.integrations.clickup.field_values import (
    UNSET,
    FieldProblem,
    compatible,
    convert,
    custom_fields,
    raw_value,
)

__all__ = [
    "CONFIG_FILE",
    "SUPPORTED_FIELD_TYPES",
    "TARGETS",
    "TASK_LABEL",
    "CampaignValidationError",
    "FieldError",
    "FieldMapping",
    "FieldSpec",
    "Kind",
    "load_task_json",
    "parse_campaign_task",
]

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


# --- the parser --------------------------------------------------------------------------------
def _read_fields(
    task: Mapping[str, Any], mapping: FieldMapping
) -> tuple[dict[str, Any], list[FieldError]]:
    """Convert every mapped field; collect one error per bad field."""
    timezone = ZoneInfo(mapping.timezone)
    entries = custom_fields(task)
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in mapping.fields:
        required = spec.required or spec.target in ALWAYS_REQUIRED
        entry = entries.get(label_key(spec.label))
        if entry is None:
            if required:
                errors.append((spec.label, "no custom field with this label on the task"))
            continue
        actual_type = str(entry.get("type"))
        if not compatible(spec.clickup_type, actual_type):
            errors.append(
                (spec.label, f"is a ClickUp {actual_type} field; expected {spec.clickup_type}")
            )
            continue
        try:
            raw = raw_value(entry)
            if raw is UNSET:
                if required:
                    errors.append((spec.label, "required, but empty"))
                continue
            values[spec.target] = convert(spec, raw, timezone)
        except FieldProblem as exc:
            errors.append((spec.label, str(exc)))
    return values, errors


def _cpm_range(
    values: dict[str, Any], mapping: FieldMapping, errors: list[FieldError]
) -> dict[str, Decimal] | None:
    """The campaign's CPM range by the domain's form rule; a problem is reported by label."""
    label = mapping.label_for
    failed = {lbl for lbl, _ in errors}
    if any(label(t) in failed for t in ("cpm_min", "cpm_max", "cpm_target", "cpm_leniency_pct")):
        return None
    found = cpm_range_from_form(
        values.get("cpm_min"),
        values.get("cpm_max"),
        values.get("cpm_target"),
        values.get("cpm_leniency_pct"),
        name=label,
    )
    if isinstance(found, CpmFormProblem):
        errors.append((label(found.field), found.message))
        return None
    low, high = found
    return {"min_cpm": low, "max_cpm": high}


def _model_data(task_id: str, values: dict[str, Any], cpm: dict[str, Decimal]) -> dict[str, Any]:
    data: dict[str, Any] = {"campaign_id": task_id, "cpm_range": cpm}
    for target, value in values.items():
        path = MODEL_PATHS.get(target)
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
    for target, path in MODEL_PATHS.items():
        if tuple(loc[: len(path)]) == path:
            return mapping.label_for(target)
    for target, path in MODEL_PATHS.items():  # model-level error on a sub-model
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
