"""The form mapping model: read from the Campaign model where it can be, and every bad YAML
entry a ConfigError naming the form label it concerns."""

from __future__ import annotations

import pytest

from negotiation_pipeline.domain.enums import OptimizeFor, UsageRightsDuration
from negotiation_pipeline.integrations.clickup.field_mapping import (
    CHOICE_ENUMS,
    MODEL_PATHS,
    TARGETS,
    FieldMapping,
)
from negotiation_pipeline.settings.files import ConfigError


def test_paths_and_choices_come_from_the_campaign_model() -> None:
    assert MODEL_PATHS["usage_rights_minimum"] == ("usage_rights", "minimum")
    assert MODEL_PATHS["product_available"] == ("product", "available")
    assert MODEL_PATHS["optimize_for"] == ("goals", "optimize_for")
    assert CHOICE_ENUMS["optimize_for"] is OptimizeFor
    assert CHOICE_ENUMS["usage_rights_target"] is UsageRightsDuration
    assert set(MODEL_PATHS) == set(TARGETS) - {
        "cpm_min",
        "cpm_max",
        "cpm_target",
        "cpm_leniency_pct",
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"label": "Goal", "field": "optimize_for", "clickup_type": "drop_down",
           "options": {"Views": "eyeballs"}}],
         "campaign_fields.yaml: field 'Goal': option 'views' maps to unknown value 'eyeballs'"),
        ([{"label": "A", "field": "budget", "clickup_type": "number"},
          {"label": " a ", "field": "client_name", "clickup_type": "text"}],
         "campaign_fields.yaml: label 'a' is listed twice"),
        ([{"label": "  ", "field": "budget", "clickup_type": "number"}],
         "campaign_fields.yaml: fields entry 1: 'label': "),
        ([{"label": "Kind", "field": "budget", "clickup_type": "colour"}],
         "campaign_fields.yaml: field 'Kind': unknown clickup_type 'colour'"),
        ([], "campaign_fields.yaml: 'fields' must be a non-empty list"),
    ],
)  # fmt: skip
def test_bad_entries_name_their_label(fields: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FieldMapping.from_dict({"fields": fields})
    assert str(caught.value).startswith(message), str(caught.value)


def test_an_unknown_timezone_is_a_config_error() -> None:
    fields = [{"label": "B", "field": "budget", "clickup_type": "number"}]
    with pytest.raises(ConfigError, match="unknown timezone 'Mars/Olympus'"):
        FieldMapping.from_dict({"fields": fields, "timezone": "Mars/Olympus"})
