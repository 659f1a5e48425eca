"""The business rules reach ops and assets as the `rules` resource: a definitions built with
NEGOTIATION_CONFIG_DIR pointing at an edited copy of the rules runs on that copy, even when the
process environment names no such folder (nothing reads config files behind the resource)."""

from __future__ import annotations

import email
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.shared.resources import BusinessRulesResource
from negotiation_pipeline.integrations.mail import MaildirMailbox, SenderIdentity
from negotiation_pipeline.settings.files import packaged_config_dir
from tests.defs.conftest import VALID_LUMEN

MARKER = "Edited-rules marker: reply by Friday."


def edited_rules(tmp_path: Path, edits: dict[str, Callable[[str], str]]) -> Path:
    """A copy of the packaged rules with `edits` (file → text transform) applied; each edit
    must change its file, so a rule file that moved or was renamed fails loudly here."""
    target = tmp_path / "rules"
    shutil.copytree(packaged_config_dir(), target)
    for name, transform in edits.items():
        path = target / name
        before = path.read_text()
        after = transform(before)
        assert after != before, f"edit of {name} changed nothing"
        path.write_text(after)
    return target


@pytest.fixture
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEGOTIATION_CONFIG_DIR", raising=False)


def ingest(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    job = defs.resolve_job_def("campaign_ingestion_job")
    return job.execute_in_process(
        instance=instance, partition_key=VALID_LUMEN, raise_on_error=False
    )


def opening_bodies(env: dict[str, str]) -> list[str]:
    maildir = Path(env["NEGOTIATION_DB"]).parent / "maildir"
    mailbox = MaildirMailbox(maildir, SenderIdentity("partnerships@northbeam.test"))
    bodies = []
    for raw in mailbox.sent_messages():
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        bodies.append(body.get_content())
    return bodies


def test_ingestion_runs_on_the_edited_template_and_policy(
    instance: dg.DagsterInstance,
    sandbox_env: dict[str, str],
    tmp_path: Path,
    no_config_env: None,
) -> None:
    rules_dir = edited_rules(
        tmp_path,
        {
            "templates/opening_offer.txt.j2": lambda t: t.replace(
                "Does this work for you?", MARKER
            ),
            # Stories worth half a post's views instead of a quarter.
            "negotiation_policy.yaml": lambda t: t.replace(
                "{name: story, views: 0.25,", "{name: story, views: 0.5,"
            ),
        },
    )
    env = sandbox_env | {"NEGOTIATION_CONFIG_DIR": str(rules_dir)}

    result = ingest(build_definitions(env), instance)

    assert result.success
    table = result.output_for_node("cpm_flexibility")
    assert isinstance(table, pd.DataFrame)
    maya = table.set_index("name").loc["Maya Chen"]
    # 3 Stories alone at 0.5 × 42,000 average views (31,500 with the packaged 0.25)
    assert maya["scenario_3_expected_views"] == 63_000
    assert maya["scenario_3_opening_rate"] == Decimal("1134.00")  # 63,000 views at $18 CPM
    bodies = opening_bodies(env)
    assert len(bodies) == len(table)  # one opening per influencer of the table
    assert all(MARKER in body for body in bodies)
    assert not any("Does this work for you?" in body for body in bodies)


def test_the_packaged_rules_apply_when_no_folder_is_named(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str], no_config_env: None
) -> None:
    rules = build_resources(sandbox_env)["rules"]
    assert isinstance(rules, BusinessRulesResource)
    assert rules.directory == packaged_config_dir()

    result = ingest(build_definitions(sandbox_env), instance)

    assert result.success
    table = result.output_for_node("cpm_flexibility")
    assert table.set_index("name").loc["Maya Chen"]["scenario_3_expected_views"] == 31_500
    assert all("Does this work for you?" in body for body in opening_bodies(sandbox_env))


def test_the_edited_field_mapping_decides_what_validates(
    instance: dg.DagsterInstance,
    sandbox_env: dict[str, str],
    tmp_path: Path,
    no_config_env: None,
) -> None:
    # The form's "Client Name" field renamed: the sandbox task no longer carries it.
    rules_dir = edited_rules(
        tmp_path,
        {"campaign_fields.yaml": lambda t: t.replace("label: Client Name", "label: Brand Name")},
    )
    env = sandbox_env | {"NEGOTIATION_CONFIG_DIR": str(rules_dir)}

    result = ingest(build_definitions(env), instance)

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "campaign"
    data = failure.step_failure_data
    assert data is not None and data.user_failure_data is not None
    assert "Brand Name" in (data.user_failure_data.description or "")


def test_a_broken_rules_folder_fails_the_step_naming_the_file(
    instance: dg.DagsterInstance,
    sandbox_env: dict[str, str],
    tmp_path: Path,
    no_config_env: None,
) -> None:
    rules_dir = edited_rules(
        tmp_path, {"negotiation_policy.yaml": lambda t: t.replace("max_rounds: 5", "max_rounds: x")}
    )
    env = sandbox_env | {"NEGOTIATION_CONFIG_DIR": str(rules_dir)}

    result = ingest(build_definitions(env), instance)

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "cpm_flexibility"
    data = failure.step_failure_data
    assert data is not None and data.error is not None and data.error.cause is not None
    assert data.error.cause.cls_name == "ConfigError"
    assert str(rules_dir / "negotiation_policy.yaml") in data.error.cause.message
    assert "max_rounds" in data.error.cause.message
