"""The IO manager's DataFrame tables: a DataFrame asset's table follows its declared column
schema, round-trips exactly, and a frame that is not exactly that (a float column, an undeclared
column, a float amount) is refused before anything is written; a partition never stored names
the asset to materialize."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.defs.assets.cpm import cpm_flexibility
from negotiation_pipeline.defs.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.store import open_store
from tests.defs.conftest import VALID_LUMEN


def sqlite_rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return [tuple(row) for row in conn.execute(sql)]


# --- what the IO manager refuses ----------------------------------------------------------------
def failure_of(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    data = failure.step_failure_data
    assert data is not None
    return str(data.error)


def test_loading_a_partition_never_stored_names_the_asset_to_materialize(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str]
) -> None:
    defs = build_definitions(sandbox_env)
    instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, [VALID_LUMEN])
    asset_job = defs.resolve_implicit_global_asset_job_def()

    result = asset_job.execute_in_process(
        instance=instance,
        partition_key=VALID_LUMEN,
        asset_selection=[cpm_flexibility.key],
        raise_on_error=False,
    )

    assert not result.success
    assert "asset_campaign holds no partition for campaign '86b1aa001'" in failure_of(result)
    assert "materialize campaign for it first" in failure_of(result)


TOY_PARTITIONS = dg.StaticPartitionsDefinition(["camp-1"])


def toy_frame_asset(columns: list[dg.TableColumn], frame: pd.DataFrame) -> dg.AssetsDefinition:
    @dg.asset(
        partitions_def=TOY_PARTITIONS,
        metadata={"dagster/column_schema": dg.TableSchema(columns=columns)},
    )
    def toy_table() -> pd.DataFrame:
        return frame

    return toy_table


@pytest.mark.parametrize(
    ("columns", "frame", "message"),
    [
        pytest.param(
            [dg.TableColumn("ratio", "float")],
            pd.DataFrame({"ratio": [0.1]}),
            "type 'float' cannot be stored exactly",
            id="float_column",
        ),
        pytest.param(
            [dg.TableColumn("rate", "decimal")],
            pd.DataFrame({"rate": [Decimal("1.50")], "extra": ["x"]}),
            "undeclared ['extra']",
            id="undeclared_column",
        ),
        pytest.param(
            [dg.TableColumn("rate", "decimal")],
            pd.DataFrame({"rate": [1.5]}),
            "row 0, column rate: must be a Decimal, got float",
            id="float_money",
        ),
    ],
)
def test_a_dataframe_that_is_not_exactly_its_declared_table_is_refused(
    instance: dg.DagsterInstance,
    sandbox_env: dict[str, str],
    columns: list[dg.TableColumn],
    frame: pd.DataFrame,
    message: str,
) -> None:
    resources = build_definitions(sandbox_env).resources or {}
    open_store(sandbox_env["NEGOTIATION_DB"]).close()

    result = dg.materialize(
        [toy_frame_asset(columns, frame)],
        instance=instance,
        partition_key="camp-1",
        resources={"io_manager": resources["io_manager"]},
        raise_on_error=False,
    )

    assert not result.success
    assert message in failure_of(result)
    with sqlite3.connect(sandbox_env["NEGOTIATION_DB"]) as conn:
        written = conn.execute(
            "SELECT COUNT(*) FROM asset_partitions WHERE table_name = 'asset_toy_table'"
        ).fetchone()
    assert written == (0,)


def test_a_dataframe_with_an_integer_gap_and_dates_round_trips(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str]
) -> None:
    frame = pd.DataFrame.from_records(
        [
            {"views": 10, "rate": Decimal("1.50"), "seen": datetime(2026, 5, 1, tzinfo=UTC)},
            {"views": None, "rate": None, "seen": datetime(2026, 5, 2, 9, 30, tzinfo=UTC)},
        ],
        columns=["views", "rate", "seen"],
    )
    columns = [
        dg.TableColumn("views", "int"),
        dg.TableColumn("rate", "decimal"),
        dg.TableColumn("seen", "datetime"),
    ]
    defs = dg.Definitions(
        assets=[toy_frame_asset(columns, frame)],
        resources={"io_manager": (build_definitions(sandbox_env).resources or {})["io_manager"]},
    )
    instance_result = dg.materialize(
        [toy_frame_asset(columns, frame)],
        instance=instance,
        partition_key="camp-1",
        resources=dict(defs.resources or {}),
    )
    assert instance_result.success

    loaded = defs.load_asset_value("toy_table", instance=instance, partition_key="camp-1")
    pd.testing.assert_frame_equal(loaded, frame.astype({"rate": object}))
    rows = sqlite_rows(
        sandbox_env["NEGOTIATION_DB"],
        "SELECT views, rate, seen FROM asset_toy_table ORDER BY position",
    )
    assert rows == [
        (10, "1.50", "2026-05-01T00:00:00.000000Z"),
        (None, None, "2026-05-02T09:30:00.000000Z"),
    ]
