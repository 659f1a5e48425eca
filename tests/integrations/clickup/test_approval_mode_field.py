"""The "Approval Mode" drop-down, in the shape ClickUp's GET /task returns it, fills
`Campaign.approval_mode`; an empty or missing field leaves the policy's default to apply."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from negotiation_pipeline.domain.enums import ApprovalMode
from negotiation_pipeline.integrations.clickup.fields import (
    CampaignValidationError,
    FieldMapping,
    load_task_json,
    parse_campaign_task,
)
from negotiation_pipeline.sandbox.paths import SANDBOX_TASKS_DIR

MAPPING = FieldMapping.load()
OPTION_IDS = {
    "Autonomous": "0f1d5c1e-7a43-4c1f-9a0e-1b2c3d4e5f60",
    "Approve agreements": "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e",
    "Review every email": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
}


def approval_field(value: Any = ...) -> dict[str, Any]:
    """A drop-down custom field as ClickUp sends it: options with uuid ids and orderindex."""
    entry: dict[str, Any] = {
        "id": "5c0e7f3a-2b1d-4e9f-8a6c-3d2e1f0a9b8c",
        "name": "Approval Mode",
        "type": "drop_down",
        "type_config": {
            "sorting": "manual",
            "new_drop_down": True,
            "default": 0,
            "placeholder": None,
            "options": [
                {"id": option_id, "name": name, "color": None, "orderindex": index}
                for index, (name, option_id) in enumerate(OPTION_IDS.items())
            ],
        },
        "date_created": "1767225600000",
        "hide_from_guests": False,
        "required": False,
    }
    if value is not ...:
        entry["value"] = value
    return entry


def task_with(entry: dict[str, Any] | None) -> dict[str, Any]:
    task = load_task_json((SANDBOX_TASKS_DIR / "86b1aa001.json").read_bytes())
    task = copy.deepcopy(task)
    fields = [f for f in task["custom_fields"] if f["name"] != "Approval Mode"]
    task["custom_fields"] = fields if entry is None else [*fields, entry]
    return task


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, ApprovalMode.AUTONOMOUS),
        (1, ApprovalMode.APPROVE_AGREEMENTS),
        ("2", ApprovalMode.REVIEW_EVERY_EMAIL),  # orderindex as a string
        (OPTION_IDS["Review every email"], ApprovalMode.REVIEW_EVERY_EMAIL),  # the option id
        (OPTION_IDS["Approve agreements"], ApprovalMode.APPROVE_AGREEMENTS),
    ],
)
def test_drop_down_value_selects_the_mode(value: object, expected: ApprovalMode) -> None:
    campaign = parse_campaign_task(task_with(approval_field(value)), MAPPING)
    assert campaign.approval_mode is expected


@pytest.mark.parametrize("entry", [None, approval_field(), approval_field(None)])
def test_missing_or_empty_field_leaves_the_default_to_the_policy(
    entry: dict[str, Any] | None,
) -> None:
    assert parse_campaign_task(task_with(entry), MAPPING).approval_mode is None


def test_unknown_option_is_rejected_by_label() -> None:
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task_with(approval_field(7)), MAPPING)
    errors = dict(caught.value.errors)
    assert "not among the field's ClickUp options" in errors["Approval Mode"]


def test_an_option_renamed_in_clickup_to_no_known_mode_is_rejected() -> None:
    entry = approval_field(1)
    entry["type_config"]["options"][1]["name"] = "Ask the intern"
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task_with(entry), MAPPING)
    message = dict(caught.value.errors)["Approval Mode"]
    assert "'Ask the intern' is not one of" in message and "review_every_email" in message


def test_a_text_field_with_that_label_is_a_type_error() -> None:
    entry = {"id": "x", "name": "Approval Mode", "type": "short_text", "value": "Autonomous"}
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task_with(entry), MAPPING)
    assert "expected drop_down" in dict(caught.value.errors)["Approval Mode"]


def test_the_mode_survives_the_stored_campaign_json() -> None:
    campaign = parse_campaign_task(task_with(approval_field(2)), MAPPING)
    again = type(campaign).model_validate_json(campaign.model_dump_json())
    assert again.approval_mode is ApprovalMode.REVIEW_EVERY_EMAIL
