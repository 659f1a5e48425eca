"""parse_campaign_task: every real ClickUp value shape, YAML-driven labels, all errors at once."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from negotiation_pipeline.domain.enums import DeliverableType, OptimizeFor, Platform
from negotiation_pipeline.integrations.clickup.fields import (
    CampaignValidationError,
    FieldMapping,
    load_task_json,
    parse_campaign_task,
)
from negotiation_pipeline.sandbox.paths import INVALID_EXAMPLE_TASK, SANDBOX_TASKS_DIR
from negotiation_pipeline.settings.files import ConfigError, packaged_config_dir

SANDBOX = SANDBOX_TASKS_DIR
MAPPING = FieldMapping.load()


def sandbox_task(task_id: str = "86b1aa001") -> dict[str, Any]:
    return load_task_json((SANDBOX / f"{task_id}.json").read_bytes())


def field(task: dict[str, Any], label: str) -> dict[str, Any]:
    return next(f for f in task["custom_fields"] if f["name"] == label)


def set_value(task: dict[str, Any], label: str, value: Any) -> dict[str, Any]:
    task = copy.deepcopy(task)
    entry = field(task, label)
    if value is ...:
        entry.pop("value", None)
    else:
        entry["value"] = value
    return task


def errors_of(task: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task, MAPPING)
    return dict(caught.value.errors)


def test_valid_task_resolves_every_shape() -> None:
    campaign = parse_campaign_task(sandbox_task(), MAPPING)
    assert campaign.campaign_id == "86b1aa001"
    assert campaign.budget == Decimal("25000.00")  # "$25,000.00" currency string
    assert campaign.platform is Platform.INSTAGRAM  # drop_down orderindex 0
    assert campaign.target_deliverables == (  # labels: list of option ids
        DeliverableType.INSTAGRAM_STORY,
        DeliverableType.INSTAGRAM_REEL,
    )
    assert campaign.cpm_range.min_cpm == Decimal("18")  # number as string
    assert campaign.goals.optimize_for is OptimizeFor.BALANCE
    assert campaign.publish_date == date(2027, 4, 10)  # date: ms string
    assert campaign.product.available is True  # checkbox "true"
    assert campaign.requirements.exclusivity_required is False  # unset: no value key
    assert campaign.requirements.revision_rounds == 2
    assert campaign.influencers[:3] == ("Maya Chen", "@theo.runs", "priya.nair@example.test")
    assert len(campaign.influencers) == 6


@pytest.mark.parametrize("index", [1, "1"])
def test_drop_down_orderindex_int_or_string(index: object) -> None:
    task = set_value(sandbox_task(), "Platform", index)
    assert parse_campaign_task(task, MAPPING).platform is Platform.TIKTOK


def test_drop_down_option_orderindex_given_as_string() -> None:
    task = sandbox_task()
    for option in field(task, "Platform")["type_config"]["options"]:
        option["orderindex"] = str(option["orderindex"])
    assert parse_campaign_task(task, MAPPING).platform is Platform.INSTAGRAM


@pytest.mark.parametrize("budget", [18000, "18000", "1500.50", Decimal("99.99")])
def test_currency_string_or_number(budget: object) -> None:
    task = set_value(sandbox_task(), "Campaign Budget", budget)
    assert parse_campaign_task(task, MAPPING).budget == Decimal(str(budget))


def test_currency_json_number_with_fraction_stays_decimal() -> None:
    text = json.dumps(sandbox_task(), default=str).replace('"$25,000.00"', "25000.10")
    assert parse_campaign_task(load_task_json(text), MAPPING).budget == Decimal("25000.10")


def test_float_money_is_rejected_by_label() -> None:
    task = set_value(sandbox_task(), "Campaign Budget", 25000.1)
    assert "float" in errors_of(task)["Campaign Budget"]


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), (True, True), (..., False), (False, False)]
)
def test_checkbox_shapes(value: object, expected: bool) -> None:
    task = set_value(sandbox_task(), "Product Available", value)
    assert parse_campaign_task(task, MAPPING).product.available is expected


def test_empty_text_as_zero_and_unset_are_empty() -> None:
    task = set_value(sandbox_task(), "Influencer List", 0)
    task = set_value(task, "Timeline", ...)
    campaign = parse_campaign_task(task, MAPPING)
    assert campaign.influencers == () and campaign.timeline is None


def test_cpm_target_and_leniency_alternative() -> None:
    task = set_value(sandbox_task(), "CPM Min", ...)
    task = set_value(task, "CPM Max", ...)
    task = set_value(task, "CPM Target", "20")
    task = set_value(task, "CPM Leniency (%)", "50%")
    cpm = parse_campaign_task(task, MAPPING).cpm_range
    assert (cpm.min_cpm, cpm.max_cpm) == (Decimal("20"), Decimal("30"))


def test_missing_cpm_is_named() -> None:
    task = set_value(set_value(sandbox_task(), "CPM Min", ...), "CPM Max", ...)
    assert "no CPM range" in errors_of(task)["CPM Min"]


def test_usage_rights_options_and_order() -> None:
    task = set_value(sandbox_task(), "Usage Rights Target", 6)  # Perpetual
    task = set_value(task, "Usage Rights Minimum", 0)  # Not required
    rights = parse_campaign_task(task, MAPPING).usage_rights
    assert (rights.target.value, rights.minimum.value) == ("perpetual", "not required")
    bad = set_value(task, "Usage Rights Target", 1)
    bad = set_value(bad, "Usage Rights Minimum", 4)
    assert "longer than target" in errors_of(bad)["Usage Rights Minimum"]


def test_unknown_label_id_is_an_error() -> None:
    task = set_value(sandbox_task(), "Target Deliverables", ["no-such-id"])
    assert "no-such-id" in errors_of(task)["Target Deliverables"]


def test_every_bad_field_is_named_by_label() -> None:
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(load_task_json(INVALID_EXAMPLE_TASK.read_bytes()), MAPPING)
    labels = [label for label, _ in caught.value.errors]
    assert labels == [
        "Client Name",
        "Campaign Budget",
        "Platform",
        "CPM Min",
        "Content Publish Date",
        "Usage Rights Minimum",
        "Minimum Cost per Influencer",
        "Content Approval Required",
        "Revision Rounds",
    ]
    assert caught.value.lines()[1] == "Campaign Budget: must be greater than 0 (got -500)"


def test_wrong_clickup_type_is_reported() -> None:
    task = sandbox_task()
    field(task, "Platform")["type"] = "short_text"
    assert "expected drop_down" in errors_of(task)["Platform"]


def test_labels_come_from_the_yaml(tmp_path: Path) -> None:
    text = (packaged_config_dir() / "campaign_fields.yaml").read_text()
    (tmp_path / "campaign_fields.yaml").write_text(text.replace("Client Name", "Brand"))
    renamed = FieldMapping.load(tmp_path)
    task = sandbox_task()
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task, renamed)
    assert "no custom field" in dict(caught.value.errors)["Brand"]
    field(task, "Client Name")["name"] = "  brand "  # case/space-insensitive label match
    assert parse_campaign_task(task, renamed).client_name == "Lumen Skincare"


def test_bad_yaml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown campaign field 'colour'"):
        FieldMapping.from_dict(
            {"fields": [{"label": "X", "field": "colour", "clickup_type": "text"}]}
        )
    with pytest.raises(ConfigError, match="cannot fill platform"):
        FieldMapping.from_dict(
            {"fields": [{"label": "P", "field": "platform", "clickup_type": "number"}]}
        )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("/etc/passwd", "must be an https:// URL (local paths are not allowed here)"),
        ("~/rosters/spring.csv", "must be an https:// URL (local paths are not allowed here)"),
        ("./roster.csv", "must be an https:// URL (local paths are not allowed here)"),
        ("file:///etc/passwd", "must be an https:// URL, not file:"),
        ("http://127.0.0.1:8080/internal/admin-export", "must be an https:// URL, not http:"),
        ("https://127.0.0.1/internal/admin-export", "not a loopback address"),
        ("https://[::1]/r.csv", "not a loopback address"),
        ("https://2130706433/r.csv", "not a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "not a cloud metadata address"),
        ("https://192.168.1.20/r.csv", "not a private address"),
        ("https://localhost/r.csv", "not the internal name 'localhost'"),
    ],
)
def test_roster_url_must_be_https_to_a_public_host(value: str, problem: str) -> None:
    errors = errors_of(set_value(sandbox_task(), "Influencer Roster URL", value))
    assert problem in errors["Influencer Roster URL"]


def test_roster_url_error_hides_the_key_it_was_given() -> None:
    value = "http://sheets.example.com/export?key=SECRETKEY"
    errors = errors_of(set_value(sandbox_task(), "Influencer Roster URL", value))
    assert errors["Influencer Roster URL"] == (
        "must be an https:// URL, not http: (got 'http://sheets.example.com/export?key=***')"
    )


def test_a_published_sheet_roster_url_is_kept() -> None:
    url = "https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pub?gid=0&single=true&output=csv"
    task = set_value(sandbox_task(), "Influencer Roster URL", url)
    assert parse_campaign_task(task, FieldMapping.load()).roster_url == url
