"""What the IO manager refuses, through real materializations: a DataFrame that is not exactly
its declared column schema (a float column, an undeclared column, a float amount), or whose
table the store's schema lacks, fails its step before anything is written; loading a partition
never stored names the asset to materialize."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import dagster as dg
import pandas as pd
import pytest

from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.store import open_store
from tests.defs.conftest import VALID_LUMEN


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
        pytest.param(
            [dg.TableColumn("rate", "decimal")],
            pd.DataFrame({"rate": pd.Series([Decimal("1.50")], dtype=object)}),
            "no table asset_toy_table, so asset toy_table cannot be stored: add the table",
            id="no_table",
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
