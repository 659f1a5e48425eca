"""Config loader: the repository's files load into typed objects; every error names the file."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.domain.negotiation.emails import EmailKind
from negotiation_pipeline.settings.engine import (
    load_engine_config,
    load_policy,
    load_templates,
    load_triggers,
)
from negotiation_pipeline.settings.files import ConfigError, packaged_config_dir

REPO_CONFIG = packaged_config_dir()


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    target.mkdir()
    for name in ("negotiation_policy.yaml", "escalation_triggers.yaml"):
        shutil.copy(REPO_CONFIG / name, target / name)
    shutil.copytree(REPO_CONFIG / "templates", target / "templates")
    return target


def test_repository_config_loads_typed() -> None:
    config = load_engine_config(REPO_CONFIG)
    policy = config.policy
    assert policy.currency == "USD" and policy.max_rounds == 5
    assert policy.concession.exponent == Decimal("0.6")  # Boulware-leaning curve
    assert policy.concession.round_to == Decimal(5)
    assert policy.concession.lever_order[0].value == "scenario_2"
    assert policy.package_value.kind("story").views == Decimal("0.25")
    assert policy.decline.send_close and policy.decline.leave_door_open
    assert policy.follow_up.first_after_days == 3
    assert "lawyer" in config.triggers.legal_language.keywords
    for kind in EmailKind:  # every kind has a compiled template
        assert kind.template_file in {p.name for p in (REPO_CONFIG / "templates").iterdir()}


def test_missing_policy_file_is_named(config_copy: Path) -> None:
    (config_copy / "negotiation_policy.yaml").unlink()
    with pytest.raises(ConfigError, match=r"negotiation_policy\.yaml"):
        load_policy(config_copy)


def test_invalid_yaml_is_named(config_copy: Path) -> None:
    (config_copy / "escalation_triggers.yaml").write_text("legal_language: [unclosed\n")
    with pytest.raises(ConfigError, match=r"escalation_triggers\.yaml"):
        load_triggers(config_copy)


def test_bad_value_names_file_and_field(config_copy: Path) -> None:
    path = config_copy / "negotiation_policy.yaml"
    path.write_text(path.read_text().replace("exponent: 0.6", "exponent: -1"))
    with pytest.raises(ConfigError, match=r"negotiation_policy\.yaml.*concession\.exponent"):
        load_policy(config_copy)


def test_an_unknown_lever_is_named(config_copy: Path) -> None:
    path = config_copy / "negotiation_policy.yaml"
    path.write_text(
        path.read_text().replace("lever_order: [scenario_2,", "lever_order: [scenario_9,")
    )
    with pytest.raises(ConfigError, match=r"concession\.lever_order"):
        load_policy(config_copy)


def test_usage_values_must_grow_with_the_term(config_copy: Path) -> None:
    path = config_copy / "negotiation_policy.yaml"
    path.write_text(path.read_text().replace("    30 days: 1.10\n", "    30 days: 2.10\n"))
    with pytest.raises(ConfigError, match="grow with the term"):
        load_policy(config_copy)


def test_unknown_key_is_rejected_not_ignored(config_copy: Path) -> None:
    path = config_copy / "negotiation_policy.yaml"
    path.write_text(path.read_text() + "\nmax_round: 9\n")
    with pytest.raises(ConfigError, match="max_round"):
        load_policy(config_copy)


def test_blank_keyword_names_file(config_copy: Path) -> None:
    path = config_copy / "escalation_triggers.yaml"
    path.write_text(path.read_text().replace("    - lawyer\n", "    - ''\n"))
    with pytest.raises(ConfigError, match=r"escalation_triggers\.yaml.*blank"):
        load_triggers(config_copy)


def test_money_in_policy_rejects_unquoted_floats(config_copy: Path) -> None:
    path = config_copy / "negotiation_policy.yaml"
    path.write_text(path.read_text().replace("  absolute: null", "  absolute: 2500.5"))
    with pytest.raises(ConfigError, match="float"):
        load_policy(config_copy)


def test_template_errors_name_the_template(config_copy: Path) -> None:
    (config_copy / "templates" / "follow_up.txt.j2").write_text("Subject: x\n\n{% for %}")
    with pytest.raises(ConfigError, match=r"follow_up\.txt\.j2"):
        load_templates(config_copy)
    (config_copy / "templates" / "follow_up.txt.j2").unlink()
    with pytest.raises(ConfigError, match=r"follow_up\.txt\.j2 is missing"):
        load_templates(config_copy)


def test_missing_template_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="templates"):
        load_templates(tmp_path)


def test_environment_override_is_honoured(
    config_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_copy / "negotiation_policy.yaml"
    path.write_text(path.read_text().replace("max_rounds: 5", "max_rounds: 3"))
    monkeypatch.setenv("NEGOTIATION_CONFIG_DIR", str(config_copy))
    assert load_policy().max_rounds == 3
