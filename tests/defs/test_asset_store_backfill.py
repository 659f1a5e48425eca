"""A real asset backfill of `cpm_flexibility`: created on the Dagster instance and run by the
backfill daemon's own iteration over a code location loaded from the real definitions, its runs
launched in this process. Only the backfilled campaigns' rows of `asset_cpm_flexibility` change;
every other partition, and every other table of the backfilled campaigns, stays as it was."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._time import get_current_timestamp

from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.store import Agreement, open_store
from tests.defs.conftest import VALID_LUMEN, VALID_TRAILPEAK

LUMEN_COPY = "86b1aa0c1"  # a third valid campaign: Lumen's task under another id
BACKFILLED = [VALID_LUMEN, LUMEN_COPY]
ALL_CAMPAIGNS = [VALID_LUMEN, VALID_TRAILPEAK, LUMEN_COPY]
CPM_ROWS = "SELECT rowid, * FROM asset_cpm_flexibility WHERE campaign_id = ? ORDER BY rowid"
BOOK = "SELECT * FROM asset_partitions WHERE campaign_id = ? ORDER BY table_name"
THEO_CEILING = (
    "SELECT max_allowed_cpm FROM asset_cpm_flexibility WHERE campaign_id = ? "
    "AND name = 'Theo Martins'"
)
OTHER_TABLES = [
    "asset_campaign_task",
    "asset_campaign",
    "asset_campaign_influencers",
    "asset_negotiation_snapshots",
    "asset_campaign_report",
]
# The code location the daemon loads: the product's definitions from the environment.
LOCATION_FILE = """import os

from negotiation_pipeline.definitions import build_definitions

defs = build_definitions(os.environ)
"""


def rows(db: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return [tuple(row) for row in conn.execute(sql, params)]


@pytest.fixture
def backfill_instance() -> Iterator[dg.DagsterInstance]:
    """A test instance whose runs are launched synchronously, in this process."""
    launcher = {
        "module": "dagster._core.launcher.sync_in_memory_run_launcher",
        "class": "SyncInMemoryRunLauncher",
    }
    coordinator = {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"}
    overrides = {"run_launcher": launcher, "run_coordinator": coordinator}
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance


@pytest.fixture
def daemon_workspace(
    backfill_instance: dg.DagsterInstance,
    sandbox_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[WorkspaceProcessContext]:
    for name, value in sandbox_env.items():
        monkeypatch.setenv(name, value)
    location = tmp_path / "location.py"
    location.write_text(LOCATION_FILE)
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(python_file=str(location), attribute="defs"),
        location_name="negotiation_pipeline",
    )
    with create_test_daemon_workspace_context(
        InProcessWorkspaceLoadTarget(origin), backfill_instance
    ) as workspace:
        yield workspace


def run_backfill(workspace: WorkspaceProcessContext, partitions: list[str]) -> PartitionBackfill:
    """Create the backfill on the instance, then iterate the daemon until it is done."""
    instance = workspace.instance
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id="cpmfill",
        asset_graph=workspace.create_request_context().asset_graph,
        partition_names=partitions,
        asset_selection=[cpm_flexibility.key],
        backfill_timestamp=get_current_timestamp(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=None,
        description=None,
        # Each run's steps in its process: a subprocess per step would only add start-up time.
        run_config={"execution": {"config": {"in_process": {}}}},
    )
    instance.add_backfill(backfill)
    logger = logging.getLogger("backfill_test")
    for _ in range(10):
        list(execute_backfill_iteration(workspace, logger))
        found = instance.get_backfill(backfill.backfill_id)
        assert found is not None
        if found.status is not BulkActionStatus.REQUESTED:
            return found
    raise AssertionError("the backfill did not finish in 10 daemon iterations")


def test_a_cpm_backfill_rewrites_exactly_its_partitions(
    backfill_instance: dg.DagsterInstance,
    sandbox_env: dict[str, str],
    daemon_workspace: WorkspaceProcessContext,
) -> None:
    tasks = Path(sandbox_env["NEGOTIATION_SANDBOX_DIR"])
    task = json.loads((tasks / f"{VALID_LUMEN}.json").read_text())
    (tasks / f"{LUMEN_COPY}.json").write_text(json.dumps({**task, "id": LUMEN_COPY}))
    defs = build_definitions(sandbox_env)
    db = sandbox_env["NEGOTIATION_DB"]
    backfill_instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, ALL_CAMPAIGNS)
    ingestion = defs.resolve_job_def("campaign_ingestion_job")
    for partition in ALL_CAMPAIGNS:
        assert ingestion.execute_in_process(
            instance=backfill_instance, partition_key=partition
        ).success
    before = {p: (rows(db, CPM_ROWS, (p,)), rows(db, BOOK, (p,))) for p in ALL_CAMPAIGNS}
    ceilings_before = {p: rows(db, THEO_CEILING, (p,)) for p in BACKFILLED}
    others_before = {
        (t, p): rows(db, f"SELECT * FROM {t} WHERE campaign_id = ?", (p,))
        for t in OTHER_TABLES
        for p in ALL_CAMPAIGNS
    }
    # Agreements well under target raise the others' ceilings in the backfilled campaigns.
    store = open_store(db)
    for campaign_id in BACKFILLED:
        store.agreements.record(
            Agreement(
                thread_id=f"thread-maya-{campaign_id}",
                campaign_id=campaign_id,
                influencer_name="Maya Chen",
                rate=Decimal("756.00"),
                cpm=Decimal("18.00"),
                engagement_rate=Decimal("4.1"),
            )
        )
    store.close()

    backfill = run_backfill(daemon_workspace, BACKFILLED)

    assert backfill.status is BulkActionStatus.COMPLETED_SUCCESS
    runs = backfill_instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": "cpmfill"}))
    assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(BACKFILLED)
    assert all(r.status is dg.DagsterRunStatus.SUCCESS for r in runs)
    run_of = {r.tags["dagster/partition"]: r.run_id for r in runs}
    # The campaign left out: its rows and its book entries byte for byte.
    untouched = (rows(db, CPM_ROWS, (VALID_TRAILPEAK,)), rows(db, BOOK, (VALID_TRAILPEAK,)))
    assert untouched == before[VALID_TRAILPEAK]
    for partition in BACKFILLED:
        rows_now = rows(db, CPM_ROWS, (partition,))
        assert len(rows_now) == len(before[partition][0])
        assert rows_now != before[partition][0]  # rewritten, with the new ceilings
        [(run_id,)] = rows(
            db,
            "SELECT run_id FROM asset_partitions WHERE table_name = 'asset_cpm_flexibility' "
            "AND campaign_id = ?",
            (partition,),
        )
        assert run_id == run_of[partition]
        # The savings raised Theo's ceiling; the loaded value is the table's, exactly.
        [(theo_before,)] = [r for r in ceilings_before[partition] if r]
        [(theo_now,)] = rows(db, THEO_CEILING, (partition,))
        assert Decimal(str(theo_now)) > Decimal(str(theo_before))
        loaded = defs.load_asset_value(
            "cpm_flexibility", instance=backfill_instance, partition_key=partition
        )
        assert isinstance(loaded, pd.DataFrame)
        theo = loaded.set_index("name").loc["Theo Martins", "max_allowed_cpm"]
        assert isinstance(theo, Decimal) and str(theo) == theo_now
    # Nothing else changed: not the other tables of any campaign, not their book entries.
    for (table, partition), found in others_before.items():
        assert rows(db, f"SELECT * FROM {table} WHERE campaign_id = ?", (partition,)) == found
    for partition in BACKFILLED:
        book_now = [r for r in rows(db, BOOK, (partition,)) if r[0] != "asset_cpm_flexibility"]
        assert book_now == [r for r in before[partition][1] if r[0] != "asset_cpm_flexibility"]
