"""Campaign intake without Dagster: the sandbox task files validated into campaigns in a real
SQLite store, refused tasks audited and commented on through the sandbox task source, and
campaign influencers joined with the sandbox roster CSV."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.integrations.clickup.client import CampaignTaskSource, ClickUpError
from negotiation_pipeline.integrations.clickup.fields import FieldMapping
from negotiation_pipeline.integrations.roster.reader import RosterRow, read_roster
from negotiation_pipeline.sandbox.clickup_tasks import SandboxTaskSource
from negotiation_pipeline.sandbox.paths import (
    INVALID_EXAMPLE_TASK,
    SANDBOX_ROSTER,
    SANDBOX_TASKS_DIR,
)
from negotiation_pipeline.settings.files import packaged_config_dir
from negotiation_pipeline.store import AuditQuery, SQLiteStore
from negotiation_pipeline.workflow.intake import (
    AcceptedCampaign,
    CampaignTaskRejected,
    OpenTaskSource,
    RosterUnavailable,
    accept_campaign_task,
    rejection_comment,
    select_campaign_influencers,
)

VALID_LUMEN = "86b1aa001"  # six listed influencers, one of them not in the roster
INVALID_NIMBUS = "86b1aa003"  # many bad fields
NIMBUS_BAD_LABELS = [
    "Client Name",
    "Campaign Budget",
    "Platform",
    "CPM Min",
    "Content Publish Date",
    "Minimum Cost per Influencer",
]
LUMEN_SELECTED = ["Maya Chen", "Theo Martins", "Priya Nair", "Sofia Alvarez", "Jonah Brooks"]
RUN_ID = "run-intake-1"


@pytest.fixture
def tasks(tmp_path: Path) -> SandboxTaskSource:
    tasks_dir = tmp_path / "tasks"
    shutil.copytree(SANDBOX_TASKS_DIR, tasks_dir)
    # The invalid example lives outside the default folder; this test wants it listed.
    shutil.copy(INVALID_EXAMPLE_TASK, tasks_dir / f"{INVALID_NIMBUS}.json")
    return SandboxTaskSource(tasks_dir, tmp_path / "clickup")


@pytest.fixture
def mapping() -> FieldMapping:
    return FieldMapping.load(packaged_config_dir())


def opener(source: CampaignTaskSource) -> OpenTaskSource:
    @contextmanager
    def open_tasks() -> Iterator[CampaignTaskSource]:
        yield source

    return open_tasks


class UnreachableClickUp(SandboxTaskSource):
    """The sandbox folder whose comments cannot be posted (ClickUp down after its retries)."""

    def post_comment(self, task_id: str, text: str) -> None:
        raise ClickUpError("ClickUp 503 on POST /task/{id}/comment after 4 attempts")


def accept(
    store: SQLiteStore,
    tasks: SandboxTaskSource,
    mapping: FieldMapping,
    task_id: str,
    open_tasks: OpenTaskSource | None = None,
) -> AcceptedCampaign:
    return accept_campaign_task(
        store,
        task_id,
        tasks.get_task(task_id),
        mapping,
        open_tasks=open_tasks or opener(tasks),
        run_id=RUN_ID,
    )


def sandbox_roster(url: str | None) -> list[RosterRow]:
    assert url is None  # the sandbox campaigns name no roster of their own
    return read_roster(SANDBOX_ROSTER, trusted=True)


# --- accepting a task ------------------------------------------------------------------------
def test_a_valid_task_is_stored_with_its_start_audit(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    task = tasks.get_task(VALID_LUMEN)

    accepted = accept(store, tasks, mapping, VALID_LUMEN)

    assert accepted.campaign.client_name == "Lumen Skincare"
    assert accepted.campaign.campaign_id == VALID_LUMEN
    assert accepted.updated_campaign is False
    record = store.campaigns.get(VALID_LUMEN)
    assert record is not None and record.campaign == accepted.campaign
    assert record.status == "active"
    assert record.task_date_updated == int(task["date_updated"])
    [start] = store.audit.query(
        AuditQuery(campaign=VALID_LUMEN, event_type=EventType.CAMPAIGN_START)
    )
    assert start.metadata == {
        "client_name": "Lumen Skincare",
        "task_date_updated": int(task["date_updated"]),
        "updated_campaign": False,
        "run_id": RUN_ID,
    }
    assert tasks.read_comments() == []  # nothing to say to a valid task


def test_ingesting_a_task_again_updates_the_campaign_and_says_so(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    accept(store, tasks, mapping, VALID_LUMEN)
    again = accept(store, tasks, mapping, VALID_LUMEN)

    assert again.updated_campaign is True
    starts = store.audit.query(
        AuditQuery(campaign=VALID_LUMEN, event_type=EventType.CAMPAIGN_START)
    )
    assert sorted(bool(s.metadata and s.metadata["updated_campaign"]) for s in starts) == [
        False,
        True,
    ]


def test_a_task_without_a_date_updated_is_stored_without_one(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    task = tasks.get_task(VALID_LUMEN) | {"date_updated": "not a number"}

    accept_campaign_task(store, VALID_LUMEN, task, mapping, open_tasks=opener(tasks), run_id=RUN_ID)

    record = store.campaigns.get(VALID_LUMEN)
    assert record is not None and record.task_date_updated is None


# --- refusing a task -------------------------------------------------------------------------
def test_an_invalid_task_is_audited_commented_and_never_stored(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    with pytest.raises(CampaignTaskRejected) as caught:
        accept(store, tasks, mapping, INVALID_NIMBUS)

    rejected = caught.value
    assert rejected.comment_error is None
    assert set(rejected.bad_labels.split(", ")) >= set(NIMBUS_BAD_LABELS)
    for label in NIMBUS_BAD_LABELS:
        assert label in rejected.description
    assert store.campaigns.get(INVALID_NIMBUS) is None
    [error] = store.audit.query(AuditQuery(campaign=INVALID_NIMBUS, event_type=EventType.ERROR))
    assert error.metadata is not None
    assert error.metadata["stage"] == "campaign_validation"
    assert error.metadata["run_id"] == RUN_ID
    assert [e["field"] for e in error.metadata["errors"]] == [label for label, _ in rejected.errors]
    [comment] = tasks.read_comments()
    assert comment["task_id"] == INVALID_NIMBUS
    assert comment["comment_text"] == rejection_comment(rejected.errors)
    for label in NIMBUS_BAD_LABELS:
        assert f"- {label}:" in comment["comment_text"]


def test_a_comment_that_cannot_be_posted_keeps_the_audit_and_the_reason(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    unreachable = UnreachableClickUp(tasks.tasks_dir, tasks.comments_dir)

    with pytest.raises(CampaignTaskRejected) as caught:
        accept(store, tasks, mapping, INVALID_NIMBUS, open_tasks=opener(unreachable))

    assert caught.value.comment_error is not None and "503" in caught.value.comment_error
    assert (
        len(store.audit.query(AuditQuery(campaign=INVALID_NIMBUS, event_type=EventType.ERROR))) == 1
    )
    assert tasks.read_comments() == []


def test_secrets_typed_into_the_form_are_redacted_from_the_refusal(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    task = tasks.get_task(INVALID_NIMBUS)
    secret = "https://sheets.example.test/roster.csv?access_token=s3cr3t-token-value"
    for field in task["custom_fields"]:
        if field["name"] == "Content Publish Date":
            field["value"] = secret  # not a date: the parser quotes it back

    with pytest.raises(CampaignTaskRejected) as caught:
        accept_campaign_task(
            store, INVALID_NIMBUS, task, mapping, open_tasks=opener(tasks), run_id=RUN_ID
        )

    assert "s3cr3t-token-value" in str(caught.value.__cause__)  # what the parser said
    assert "Content Publish Date" in caught.value.description
    assert "s3cr3t-token-value" not in caught.value.description


# --- joining influencers with the roster -----------------------------------------------------
def test_listed_influencers_are_joined_with_the_roster_and_skips_audited(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    campaign = accept(store, tasks, mapping, VALID_LUMEN).campaign

    selection = select_campaign_influencers(
        store, campaign, read_roster=sandbox_roster, default_source=str(SANDBOX_ROSTER)
    )

    assert [p.name for p in selection.selected] == LUMEN_SELECTED
    assert [s.identifier for s in selection.skipped] == ["@nobody.here"]
    assert selection.roster == str(SANDBOX_ROSTER)
    assert selection.roster_rows == len(read_roster(SANDBOX_ROSTER, trusted=True))
    skips = store.audit.query(
        AuditQuery(campaign=VALID_LUMEN, event_type=EventType.CAMPAIGN_INFLUENCER_SKIP)
    )
    assert [(s.influencer_name, s.metadata) for s in skips] == [
        ("@nobody.here", {"reason": selection.skipped[0].reason})
    ]


def test_an_unreadable_roster_is_audited_with_its_source_redacted(
    store: SQLiteStore, tasks: SandboxTaskSource, mapping: FieldMapping
) -> None:
    accepted = accept(store, tasks, mapping, VALID_LUMEN).campaign
    own_roster = "https://127.0.0.1:9/roster.csv?access_token=s3cr3t-token-value"
    campaign = Campaign.model_validate(accepted.model_dump() | {"roster_url": own_roster})

    def campaign_roster(url: str | None) -> list[RosterRow]:
        assert url == own_roster
        return read_roster(url, trusted=False)  # refused: a campaign may not name loopback

    with pytest.raises(RosterUnavailable) as caught:
        select_campaign_influencers(
            store, campaign, read_roster=campaign_roster, default_source=str(SANDBOX_ROSTER)
        )

    assert str(caught.value).startswith(f"campaign {VALID_LUMEN}: ")
    assert "loopback" in str(caught.value)
    [error] = store.audit.query(AuditQuery(campaign=VALID_LUMEN, event_type=EventType.ERROR))
    assert error.metadata is not None and error.metadata["stage"] == "roster"
    assert error.metadata["roster"] == "https://127.0.0.1:9/roster.csv?access_token=***"
    assert "s3cr3t-token-value" not in json.dumps(error.metadata) + str(caught.value)
    assert (
        store.audit.query(
            AuditQuery(campaign=VALID_LUMEN, event_type=EventType.CAMPAIGN_INFLUENCER_SKIP)
        )
        == []
    )
