"""Fuzzing the ClickUp form parser: arbitrary task JSON, arbitrary mappings, arbitrary YAML.

Claims:
- `parse_campaign_task` returns a Campaign or raises `CampaignValidationError`, whatever the
  task holds; every error line names a form label from the mapping (or "Task").
- A campaign that does validate is usable downstream: every money value formats as USD.
- Breaking any one field of a valid form yields an error naming exactly that field's label.
- `load_task_json` on any bytes: a dict or a ValueError. `FieldMapping.from_dict` / `.load` on
  anything: a mapping or a `ConfigError` naming the file or the field.
"""

from __future__ import annotations

import copy
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.integrations.clickup.fields import (
    CONFIG_FILE,
    SUPPORTED_FIELD_TYPES,
    TARGETS,
    TASK_LABEL,
    CampaignValidationError,
    FieldMapping,
    load_task_json,
    parse_campaign_task,
)
from negotiation_pipeline.sandbox.paths import SANDBOX_TASKS_DIR
from negotiation_pipeline.settings.files import ConfigError, packaged_config_dir

SANDBOX_TASK = SANDBOX_TASKS_DIR / "86b1aa001.json"
MAPPING = FieldMapping.load()
LABELS = [spec.label for spec in MAPPING.fields]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def valid_task() -> dict[str, Any]:
    return load_task_json(SANDBOX_TASK.read_bytes())


# --- strategies ------------------------------------------------------------------------------
# Strings that have broken number, date and option parsers before (or could).
NASTY_TEXT = [
    "",
    " ",
    "0",
    "-0",
    "--1",
    "-",
    "²",
    "³",
    "½",
    "٣",
    "１２",
    "1e999999999",
    "-1e999999",
    "1E+400",
    "1e-999999",
    "NaN",
    "sNaN",
    "-Infinity",
    "Infinity",
    "1_000",
    "$1,500",
    "50%",
    "99999999999999999999",
    "-99999999999999999999",
    "true",
    "false",
    "1.5",
    "0x10",
    "\x00",
    "🙂",
    "$",
    "%",
    "USD",
    "1,2,3",
    "  42  ",
    "1e3",
    "+7",
    "١٢٣",
    "9" * 60,
]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # JSON's NaN/Infinity constants arrive as floats even with load_task_json
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda mantissa, exponent: Decimal(f"{mantissa}E{exponent}"),
        st.integers(-999, 999),
        st.integers(-999_999_999, 999_999_999),
    ),
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=24),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=8,
)
option = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=8), json_values),
        "name": st.one_of(st.sampled_from(["Instagram", "TikTok", "CPM", "30 Days"]), json_values),
        "label": st.one_of(st.sampled_from(["Instagram Reel", "UGC Video"]), json_values),
        "orderindex": st.one_of(st.integers(-2, 10), st.sampled_from(NASTY_TEXT), json_values),
        "color": json_values,
    },
)
type_config = st.one_of(
    json_values,
    st.fixed_dictionaries({"options": st.one_of(st.lists(option, max_size=6), json_values)}),
)
label = st.one_of(
    st.sampled_from(LABELS),
    st.sampled_from(LABELS).map(lambda text: f"  {text.upper()} "),
    st.text(max_size=12),
    json_values,
)
clickup_type = st.one_of(
    st.sampled_from([*sorted(SUPPORTED_FIELD_TYPES), "formula", "emoji", "", "users"]), json_values
)
custom_field = st.fixed_dictionaries(
    {"name": label, "type": clickup_type},
    optional={"value": json_values, "type_config": type_config, "id": json_values},
)
arbitrary_task = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(st.text(max_size=10), json_values),
            "custom_fields": st.one_of(st.lists(custom_field, max_size=14), json_values),
            "name": json_values,
        },
    ),
    json_values,
)


@st.composite
def mutated_valid_task(draw: st.DrawFn) -> dict[str, Any]:
    """The sandbox form with a few fields given random values, types or option lists: reaches
    the model and CPM-range rules that a fully random task rarely gets to."""
    task = valid_task()
    fields = task["custom_fields"]
    for _ in range(draw(st.integers(1, 4))):
        entry = fields[draw(st.integers(0, len(fields) - 1))]
        what = draw(st.sampled_from(["value", "value", "value", "unset", "type", "options"]))
        if what == "value":
            entry["value"] = draw(json_values)
        elif what == "unset":
            entry.pop("value", None)
        elif what == "type":
            entry["type"] = draw(clickup_type)
        else:
            entry["type_config"] = draw(type_config)
    return task


# --- the check every fuzz case goes through --------------------------------------------------
def assert_campaign_or_clear_error(task: Any) -> Campaign | None:
    try:
        campaign = parse_campaign_task(task, MAPPING)
    except CampaignValidationError as exc:
        assert exc.errors, "a validation error must say what is wrong"
        for error_label, message in exc.errors:
            assert error_label in LABELS or error_label == TASK_LABEL, exc.errors
            assert message.strip()
            assert f"{error_label}: {message}" in str(exc)
        assert exc.lines() == [f"{lbl}: {msg}" for lbl, msg in exc.errors]
        return None
    assert isinstance(campaign, Campaign)
    # Usable downstream: every amount quantizes to cents and formats (no absurd Decimals).
    money = [campaign.budget, campaign.cpm_range.min_cpm, campaign.cpm_range.max_cpm]
    constraints = campaign.budget_constraints
    money += [m for m in (constraints.min_cost, constraints.max_cost_without_approval) if m]
    money += [campaign.product.value] if campaign.product.value is not None else []
    for amount in money:
        assert format_usd(amount).startswith("$")
    assert campaign.budget > 0
    assert campaign.cpm_range.min_cpm <= campaign.cpm_range.max_cpm
    return campaign


@FUZZ
@given(arbitrary_task)
def test_arbitrary_task_is_a_campaign_or_a_clear_validation_error(task: Any) -> None:
    assert_campaign_or_clear_error(task)


@FUZZ
@given(mutated_valid_task())
def test_mutated_form_is_a_campaign_or_a_clear_validation_error(task: dict[str, Any]) -> None:
    assert_campaign_or_clear_error(task)


def test_the_unmutated_form_is_a_campaign() -> None:
    """The mutation strategies start from a valid form (otherwise they prove little)."""
    assert assert_campaign_or_clear_error(valid_task()) is not None


# Regressions found by the fuzzers above: each crashed with a non-validation exception.
@pytest.mark.parametrize(
    ("field_label", "value", "extra", "expected"),
    [
        ("Content Publish Date", "99999999999999999999", {}, "Content Publish Date"),  # OSError
        ("Content Publish Date", Decimal("1E+999"), {}, "Content Publish Date"),  # Overflow
        ("Content Publish Date", "²", {}, "Content Publish Date"),  # isdigit but not int()
        ("Content Publish Date", "--5", {}, "Content Publish Date"),  # lstrip("-") let it in
        ("Platform", "--1", {}, "Platform"),
        ("Platform", 0, {"type_config": {"options": 5}}, "Platform"),  # options not a list
        ("Campaign Budget", "1e999999", {}, "Campaign Budget"),  # validated, then unformattable
        ("Revision Rounds", "1e999999999", {}, "Revision Rounds"),  # int() of 10^999999999
    ],
)
def test_regression_bad_values_name_their_field(
    field_label: str, value: Any, extra: dict[str, Any], expected: str
) -> None:
    task = valid_task()
    entry = next(f for f in task["custom_fields"] if f["name"] == field_label)
    entry["value"] = value
    entry.update(extra)
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task, MAPPING)
    assert expected in dict(caught.value.errors), caught.value.errors


# --- errors name what is wrong ---------------------------------------------------------------
# A value of the right JSON shape that is wrong for each ClickUp type.
BAD_VALUE_FOR_TYPE: dict[str, list[Any]] = {
    "currency": ["twelve", "$", "1.2.3", [1], {"amount": 5}, True, "1e999999999"],
    "number": ["twelve", "1.2.3", [1], {"n": 1}, False, "NaN"],
    "drop_down": [99, -1, "no-such-option", [0], {"i": 0}, "--1"],
    "labels": ["not a list", ["no-such-id"], [None], [[1]]],
    "date": ["soon", "1.5", True, "99999999999999999999", "--5", [1]],
    "checkbox": ["maybe", [1], {"on": True}, "2"],
    "url": ["ftp://example.test/roster.csv", "not a url", "http://"],
}
# A type that can never fill the field (so the entry is rejected by type).
WRONG_TYPE = {"short_text": "date", "text": "checkbox", "url": "labels", "currency": "date",
              "number": "labels", "drop_down": "number", "labels": "short_text",
              "date": "currency", "checkbox": "text"}  # fmt: skip


@st.composite
def one_broken_field(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    task = valid_task()
    entry = draw(st.sampled_from(task["custom_fields"]))
    kind = entry["type"]
    how = draw(st.sampled_from(["value", "type"] if kind in BAD_VALUE_FOR_TYPE else ["type"]))
    if how == "value":
        entry["value"] = draw(st.sampled_from(BAD_VALUE_FOR_TYPE[kind]))
    else:
        entry["type"] = WRONG_TYPE[kind]
    return task, entry["name"]


@settings(max_examples=120, deadline=None)
@given(one_broken_field())
def test_one_broken_field_is_named_by_its_label(case: tuple[dict[str, Any], str]) -> None:
    task, broken_label = case
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task, MAPPING)
    labels = [lbl for lbl, _ in caught.value.errors]
    assert broken_label in labels, caught.value.errors
    assert f"{broken_label}: " in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(["Client Name", "Campaign Budget", "Platform"]), min_size=1))
def test_every_missing_required_field_is_named(missing: set[str]) -> None:
    task = valid_task()
    task["custom_fields"] = [f for f in task["custom_fields"] if f["name"] not in missing]
    with pytest.raises(CampaignValidationError) as caught:
        parse_campaign_task(task, MAPPING)
    errors = dict(caught.value.errors)
    assert missing <= set(errors)
    assert all("no custom field with this label" in errors[lbl] for lbl in missing)


# --- load_task_json --------------------------------------------------------------------------
@FUZZ
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), st.sampled_from([
    b"[" * 100_000, b'{"a":' * 50_000, b"\xff\xfe{}", b'{"id": NaN}', b"1e999999999", b"{}",
    b'{"id": 1e400}', "\ufeff{}".encode(), b'{"x": "\\ud800"}',
])))  # fmt: skip
def test_load_task_json_gives_an_object_or_a_value_error(raw: bytes | str) -> None:
    try:
        data = load_task_json(raw)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(data, dict)
    assert_campaign_or_clear_error(data)


def test_regression_deeply_nested_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested"):
        load_task_json(b"[" * 100_000)


# --- the mapping -----------------------------------------------------------------------------
mapping_entry = st.fixed_dictionaries(
    {},
    optional={
        "label": st.one_of(st.sampled_from(LABELS), st.text(max_size=10), json_values),
        "field": st.one_of(st.sampled_from(sorted(TARGETS)), json_values),
        "clickup_type": clickup_type,
        "required": json_values,
        "options": st.one_of(
            st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), json_values)),
            json_values,
        ),
    },
)
mapping_data = st.fixed_dictionaries(
    {},
    optional={
        "fields": st.one_of(st.lists(mapping_entry, max_size=6), json_values),
        "timezone": st.one_of(
            st.sampled_from(["UTC", "Europe", "Europe/Paris", "a" * 300, "../x", "/etc/x", "\x00",
                             "zone.tab", "posix", "Nowhere/Land"]),
            json_values,
        ),
    },
)  # fmt: skip


@FUZZ
@given(mapping_data)
def test_any_mapping_dict_loads_or_raises_config_error(data: dict[str, Any]) -> None:
    try:
        mapping = FieldMapping.from_dict(data)
    except ConfigError as exc:
        assert CONFIG_FILE in str(exc)
        return
    assert mapping.fields
    assert_campaign_or_clear_error_with(mapping, valid_task())


def assert_campaign_or_clear_error_with(mapping: FieldMapping, task: dict[str, Any]) -> None:
    labels = {spec.label for spec in mapping.fields} | {TASK_LABEL}
    # A campaign field the mapping does not map has no form label: its name is used instead.
    labels |= set(TARGETS) - {spec.target for spec in mapping.fields}
    try:
        parse_campaign_task(task, mapping)
    except CampaignValidationError as exc:
        assert {lbl for lbl, _ in exc.errors} <= labels, exc.errors


@pytest.mark.parametrize("zone", ["Europe", "a" * 300])
def test_regression_timezone_that_is_a_folder_or_too_long_is_a_config_error(zone: str) -> None:
    data = {"timezone": zone, "fields": [copy.deepcopy(_CLIENT_ENTRY)]}
    with pytest.raises(ConfigError, match="timezone"):
        FieldMapping.from_dict(data)


_CLIENT_ENTRY = {"label": "Client Name", "field": "client_name", "clickup_type": "short_text"}
REAL_YAML = (packaged_config_dir() / CONFIG_FILE).read_bytes()


@st.composite
def yaml_bytes(draw: st.DrawFn) -> bytes:
    """Random bytes, or the real config file with a slice replaced by random text."""
    if draw(st.booleans()):
        return draw(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
    start = draw(st.integers(0, len(REAL_YAML)))
    end = draw(st.integers(start, min(len(REAL_YAML), start + 40)))
    filler = draw(st.sampled_from([b"", b"2001-02-30", b"[" * 3000, b"\xff", b": :", b"\t"]))
    return REAL_YAML[:start] + filler + draw(st.binary(max_size=8)) + REAL_YAML[end:]


@settings(max_examples=80, deadline=None)
@given(yaml_bytes())
def test_any_config_file_loads_or_raises_config_error_naming_it(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / CONFIG_FILE).write_bytes(raw)
        try:
            FieldMapping.load(Path(folder))
        except ConfigError as exc:
            assert CONFIG_FILE in str(exc)


@pytest.mark.parametrize(
    "raw",
    [b"timezone: 2001-02-30\n", b"[" * 3000, b"\xff\xfe fields: []"],
    ids=["impossible-date", "deep-nesting", "not-utf8"],
)
def test_regression_unreadable_config_is_a_config_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / CONFIG_FILE).write_bytes(raw)
        with pytest.raises(ConfigError, match=CONFIG_FILE):
            FieldMapping.load(Path(folder))
