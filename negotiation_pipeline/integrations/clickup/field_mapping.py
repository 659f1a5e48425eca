"""The form mapping (campaign_fields.yaml) as a pydantic model: which ClickUp custom field, by
its form label, fills which campaign value, and how.

The campaign values a form can fill (`TARGETS`) name how each is converted (`Kind`); where each
lands in the `Campaign` model, and the enum a choice must come from, are read from the model
itself, so the model stays the one description of a campaign's shape.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm_form import CPM_INPUTS
from negotiation_pipeline.settings.files import ConfigError, load_yaml

CONFIG_FILE = "campaign_fields.yaml"


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


# Campaign values the form can fill (the vocabulary of `field:` in the YAML).
TARGETS: dict[str, Kind] = {
    "client_name": Kind.TEXT,
    "budget": Kind.MONEY,
    "platform": Kind.CHOICE,
    "target_deliverables": Kind.CHOICES,
    "influencers": Kind.IDENTIFIERS,
    "cpm_min": Kind.MONEY,
    "cpm_max": Kind.MONEY,
    "cpm_target": Kind.MONEY,
    "cpm_leniency_pct": Kind.PERCENT,
    "timeline": Kind.TEXT,
    "publish_date": Kind.DATE,
    "optimize_for": Kind.CHOICE,
    "scenario_1": Kind.TEXT,
    "scenario_2": Kind.TEXT,
    "scenario_3": Kind.TEXT,
    "usage_rights_target": Kind.CHOICE,
    "usage_rights_minimum": Kind.CHOICE,
    "min_cost": Kind.MONEY,
    "max_cost_without_approval": Kind.MONEY,
    "product_available": Kind.FLAG,
    "product_description": Kind.TEXT,
    "product_value": Kind.MONEY,
    "exclusivity_required": Kind.FLAG,
    "content_approval_required": Kind.FLAG,
    "revision_rounds": Kind.COUNT,
    "roster_url": Kind.URL,
    "approval_mode": Kind.CHOICE,
}
ALWAYS_REQUIRED = frozenset({"client_name", "budget", "platform"})

TEXTUAL = frozenset({"short_text", "text", "url", "email"})
NUMERIC = frozenset({"number", "currency"})
SUPPORTED_FIELD_TYPES = TEXTUAL | NUMERIC | {"drop_down", "labels", "date", "checkbox"}
_TYPES_FOR_KIND: dict[Kind, frozenset[str]] = {
    Kind.TEXT: frozenset({"short_text", "text"}),
    Kind.IDENTIFIERS: frozenset({"short_text", "text"}),
    Kind.MONEY: NUMERIC | TEXTUAL,
    Kind.PERCENT: NUMERIC | TEXTUAL,
    Kind.COUNT: NUMERIC | TEXTUAL,
    Kind.DATE: frozenset({"date"}),
    Kind.FLAG: frozenset({"checkbox", "drop_down"}),
    Kind.CHOICE: frozenset({"drop_down"}),
    Kind.CHOICES: frozenset({"labels", "drop_down"}),
    Kind.URL: frozenset({"url", "short_text", "text"}),
}


# --- where a target lands in the Campaign model -------------------------------------------------
def _leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every leaf field of `model` (sub-models walked), as path → annotation."""
    leaves: dict[tuple[str, ...], Any] = {}
    for name, info in model.model_fields.items():
        options = [info.annotation, *typing.get_args(info.annotation)]
        sub = next((o for o in options if isinstance(o, type) and issubclass(o, BaseModel)), None)
        if sub is not None:
            leaves.update(_leaves(sub, (*prefix, name)))
        else:
            leaves[(*prefix, name)] = info.annotation
    return leaves


def _model_path(target: str, leaves: Mapping[tuple[str, ...], Any]) -> tuple[str, ...]:
    """The one leaf a target names: by its own name, or as `<sub-model>_<field>`."""
    found = [p for p in leaves if target in (p[-1], "_".join(p[-2:]))]
    if len(found) != 1:
        raise RuntimeError(f"form target {target!r} matches {len(found)} Campaign fields")
    return found[0]


def _enum_of(annotation: Any) -> type[Enum] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


_LEAVES = _leaves(Campaign)
MODEL_PATHS: dict[str, tuple[str, ...]] = {
    target: _model_path(target, _LEAVES) for target in TARGETS if target not in CPM_INPUTS
}
CHOICE_ENUMS: dict[str, type[Enum]] = {
    target: enum
    for target, path in MODEL_PATHS.items()
    if (enum := _enum_of(_LEAVES[path])) is not None
}


def label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def option_key(text: str) -> str:
    return re.sub(r"[\s\-/_]+", "_", text.strip().casefold())


def enum_member(enum: type[Enum], text: str) -> Enum | None:
    wanted = option_key(text)
    for member in enum:
        if option_key(str(member.value)) == wanted or option_key(member.name) == wanted:
            return member
    return None


# --- the YAML model -----------------------------------------------------------------------------
class FieldSpec(BaseModel):
    """One `fields:` entry: the form label, the campaign value it fills, its ClickUp type."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    target: str = Field(alias="field")
    clickup_type: str
    required: bool = False
    options: dict[str, str] = Field(default_factory=dict)  # option name → value

    @field_validator("target", mode="before")
    @classmethod
    def _known_target(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in TARGETS:
            raise ValueError(f"unknown campaign field {value!r}")
        return value

    @field_validator("clickup_type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in SUPPORTED_FIELD_TYPES:
            raise ValueError(f"unknown clickup_type {value!r}")
        return value

    @field_validator("options", mode="before")
    @classmethod
    def _option_names(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError("'options' must be a mapping of option name to value")
        return {option_key(str(k)): str(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _fits_its_target(self) -> FieldSpec:
        if self.clickup_type not in _TYPES_FOR_KIND[self.kind]:
            raise ValueError(f"clickup_type {self.clickup_type!r} cannot fill {self.target}")
        enum = CHOICE_ENUMS.get(self.target)
        for name, value in self.options.items():
            if enum is not None and enum_member(enum, value) is None:
                raise ValueError(f"option {name!r} maps to unknown value {value!r}")
        return self

    @property
    def kind(self) -> Kind:
        return TARGETS[self.target]


class FieldMapping(BaseModel):
    """The whole form mapping: its fields in form order, and the form's timezone for dates."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    timezone: str = "UTC"

    @field_validator("timezone", mode="before")
    @classmethod
    def _known_timezone(cls, value: Any) -> str:
        name = str(value or "UTC")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: a zoneinfo folder ("Europe") or a name too long for the file system
            raise ValueError(f"unknown timezone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _each_once(self) -> FieldMapping:
        labels: set[str] = set()
        targets: set[str] = set()
        for spec in self.fields:
            if label_key(spec.label) in labels:
                raise ValueError(f"label {spec.label!r} is listed twice")
            if spec.target in targets:
                raise ValueError(f"campaign field {spec.target!r} is mapped twice")
            labels.add(label_key(spec.label))
            targets.add(spec.target)
        return self

    @classmethod
    def load(cls, directory: Path | None = None) -> FieldMapping:
        """Read config/campaign_fields.yaml (or `directory`/campaign_fields.yaml)."""
        return cls.from_dict(load_yaml(CONFIG_FILE, directory), source=CONFIG_FILE)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = CONFIG_FILE) -> FieldMapping:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_config_error(exc, data, source)) from None

    def label_for(self, target: str) -> str:
        """Form label that fills `target` (the target name itself when unmapped)."""
        return next((spec.label for spec in self.fields if spec.target == target), target)


def _config_error(exc: ValidationError, data: Mapping[str, Any], source: str) -> str:
    """The first problem, placed by the entry's label when it has one."""
    problem = exc.errors()[0]
    loc = tuple(problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    if loc[:1] == ("fields",) and len(loc) >= 2 and isinstance(loc[1], int):
        entry = data["fields"][loc[1]]
        label = entry.get("label") if isinstance(entry, Mapping) else None
        if isinstance(label, str) and label.strip() and loc[2:3] != ("label",):
            where = f"field {label.strip()!r}"
        else:
            where = f"fields entry {loc[1] + 1}"
        own_words = len(loc) == 2 or loc[2] in ("field", "clickup_type", "options")
        detail = "" if own_words else f"'{loc[2]}': "
        return f"{source}: {where}: {detail}{message}"
    if loc[:1] == ("fields",):
        return f"{source}: 'fields' must be a non-empty list ({message})"
    return f"{source}: {'.'.join(str(p) for p in loc) + ': ' if loc else ''}{message}"
