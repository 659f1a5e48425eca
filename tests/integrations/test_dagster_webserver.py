"""DagsterWebserverClient (with the inspecting queries tests add) against a loopback fake that
answers with the real 1.13 shapes, and every query document validated against dagster-graphql's
own schema."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLSchema, parse, validate

from negotiation_pipeline.integrations.dagster_webserver import (
    BackfillTimeoutError,
    DagsterOperationError,
    GraphQLRequestError,
    WebserverUnreachableError,
)
from negotiation_pipeline.integrations.dagster_webserver import assets as asset_queries
from negotiation_pipeline.integrations.dagster_webserver import backfills as backfill_queries
from tests.fakes.dagster_webserver import (
    Answer,
    FakeDagsterWebserver,
    data_answer,
    python_error,
    running_fake_webserver,
)
from tests.support import dagster_webserver as inspecting
from tests.support.dagster_webserver import InspectingWebserverClient


@pytest.fixture()
def fake() -> Iterator[FakeDagsterWebserver]:
    with running_fake_webserver() as server:
        yield server


@pytest.fixture()
def client(fake: FakeDagsterWebserver) -> Iterator[InspectingWebserverClient]:
    with InspectingWebserverClient(fake.url, timeout=5) as webserver:
        yield webserver


def backfill(status: str, materialized: int = 0, failed: int = 0, in_progress: int = 0) -> Any:
    return {
        "__typename": "PartitionBackfill",
        "id": "bkeqnhnd",
        "status": status,
        "title": "Recompute cpm_flexibility (2 campaigns)",
        "isAssetBackfill": True,
        "partitionNames": ["86b1aa001", "86b1aa002"],
        "error": None,
        "assetBackfillData": {
            "assetBackfillStatuses": [
                {
                    "__typename": "AssetPartitionsStatusCounts",
                    "assetKey": {"path": ["cpm_flexibility"]},
                    "numPartitionsTargeted": 2,
                    "numPartitionsInProgress": in_progress,
                    "numPartitionsMaterialized": materialized,
                    "numPartitionsFailed": failed,
                }
            ]
        },
    }


# --- the documents are valid against the real schema ---------------------------------------
@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    from dagster_graphql.schema import create_schema

    schema: GraphQLSchema = create_schema().graphql_schema
    return schema


@pytest.mark.parametrize(
    "document",
    [
        backfill_queries.LAUNCH_BACKFILL, backfill_queries.BACKFILL_STATUS,
        asset_queries.ASSET_PARTITION_KEYS, asset_queries.ASSET_PARTITION_STATUSES,
        inspecting.SENSOR_STATE, inspecting.RUNS, inspecting.ASSET_MATERIALIZATIONS,
    ],
    ids=[
        "LaunchBackfill", "BackfillStatus", "AssetPartitionKeys", "AssetPartitionStatuses",
        "SensorState", "Runs", "AssetMaterializations",
    ],
)  # fmt: skip
def test_query_documents_validate_against_dagster_graphql_schema(
    document: str, graphql_schema: GraphQLSchema
) -> None:
    errors = validate(graphql_schema, parse(document))
    assert errors == [], [e.message for e in errors]


# --- launching ---------------------------------------------------------------------------------
def test_launch_sends_asset_selection_and_partitions_and_returns_the_id(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "LaunchBackfill",
        data_answer(
            "launchPartitionBackfill",
            {"__typename": "LaunchBackfillSuccess", "backfillId": "bkeqnhnd"},
        ),
    )
    backfill_id = client.launch_partition_backfill(
        ["cpm_flexibility"], ["86b1aa001", "86b1aa002"], title="Recompute", tags={"who": "ops"}
    )
    assert backfill_id == "bkeqnhnd"
    params = fake.variables_of("LaunchBackfill")[0]["params"]
    assert params == {
        "assetSelection": [{"path": ["cpm_flexibility"]}],
        "partitionNames": ["86b1aa001", "86b1aa002"],
        "title": "Recompute",
        "tags": [{"key": "who", "value": "ops"}],
    }


def test_launch_without_partition_names_asks_for_all_partitions(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "LaunchBackfill",
        data_answer(
            "launchPartitionBackfill", {"__typename": "LaunchBackfillSuccess", "backfillId": "b1"}
        ),
    )
    client.launch_partition_backfill(["prefix/cpm_flexibility"], None)
    params = fake.variables_of("LaunchBackfill")[0]["params"]
    assert params == {
        "assetSelection": [{"path": ["prefix", "cpm_flexibility"]}],
        "allPartitions": True,
    }


def test_launch_rejects_an_empty_selection_before_any_request(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    with pytest.raises(ValueError, match="at least one asset key"):
        client.launch_partition_backfill([], ["a"])
    with pytest.raises(ValueError, match="pass None for every partition"):
        client.launch_partition_backfill(["cpm_flexibility"], [])
    assert fake.requests == []


@pytest.mark.parametrize(
    ("result", "http_status", "expected"),
    [
        (
            {
                "__typename": "PartitionKeysNotFoundError",
                "message": "Partition keys `['nope']` could not be found.",
                "partitionKeys": ["nope"],
            },
            200,
            "PartitionKeysNotFoundError: unknown partition key(s): nope",
        ),
        (  # the real webserver answers a PythonError with HTTP 500 and a normal body
            python_error("KeyError: AssetKey(['no_such_asset'])\n", "KeyError"),
            500,
            "PythonError: KeyError: AssetKey(['no_such_asset'])",
        ),
        (
            {
                "__typename": "PartitionSetNotFoundError",
                "message": "Partition set campaign_job_partition_set could not be found.",
                "partitionSetName": "campaign_job_partition_set",
            },
            200,
            "PartitionSetNotFoundError: Partition set campaign_job_partition_set could not",
        ),
        (
            {"__typename": "InvalidStepError", "invalidStepKey": "cpm_flexibility_2"},
            200,
            "InvalidStepError: step 'cpm_flexibility_2' does not exist in the job",
        ),
        (
            {"__typename": "InvalidOutputError", "stepKey": "s", "invalidOutputName": "out"},
            200,
            "InvalidOutputError: step 's' has no output 'out'",
        ),
        (
            {
                "__typename": "RunConfigValidationInvalid",
                "pipelineName": "campaign_ingestion_job",
                "errors": [{"message": "Missing required config entry"}],
            },
            200,
            "invalid run config for campaign_ingestion_job: Missing required config entry",
        ),
        (
            {"__typename": "UnauthorizedError", "message": "Authorization failed"},
            200,
            "UnauthorizedError: Authorization failed",
        ),
    ],
)
def test_launch_error_members_become_operation_errors_that_name_the_problem(
    fake: FakeDagsterWebserver,
    client: InspectingWebserverClient,
    result: dict[str, Any],
    http_status: int,
    expected: str,
) -> None:
    fake.answer("LaunchBackfill", data_answer("launchPartitionBackfill", result, http_status))
    with pytest.raises(DagsterOperationError) as caught:
        client.launch_partition_backfill(["cpm_flexibility"], ["nope"])
    assert expected in str(caught.value)
    assert caught.value.typename == result["__typename"]
    assert caught.value.operation == "launchPartitionBackfill"


def test_python_error_causes_are_part_of_the_message(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    error = python_error("DagsterError: backfill failed", "DagsterError")
    error["causes"] = [{"message": "sqlite3.OperationalError: database is locked"}]
    fake.answer("LaunchBackfill", data_answer("launchPartitionBackfill", error, 500))
    with pytest.raises(DagsterOperationError, match=r"caused by sqlite3\.OperationalError"):
        client.launch_partition_backfill(["cpm_flexibility"], ["a"])


# --- transport failures ------------------------------------------------------------------------
def test_graphql_validation_errors_raise_with_the_servers_message(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    message = "Cannot query field 'bogus' on type 'Query'."
    body = json.dumps({"data": None, "errors": [{"message": message}]}).encode()
    fake.answer("BackfillStatus", Answer(400, body))
    with pytest.raises(GraphQLRequestError, match="Cannot query field 'bogus'"):
        client.backfill_status("b1")


def test_a_non_json_answer_says_the_url_may_not_be_a_webserver(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer("BackfillStatus", Answer(502, b"<html>Bad gateway</html>", "text/html"))
    with pytest.raises(GraphQLRequestError, match="HTTP 502 with a non-JSON body"):
        client.backfill_status("b1")


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_unreachable_webserver_names_the_url_and_how_to_start_it() -> None:
    url = closed_port_url()
    with InspectingWebserverClient(url, timeout=2) as client:
        with pytest.raises(WebserverUnreachableError) as caught:
            client.asset_partition_keys("cpm_flexibility")
        with pytest.raises(WebserverUnreachableError):
            client.server_info()
    assert url in str(caught.value)
    assert "negotiation-pipeline dev" in str(caught.value)


# --- backfill status ---------------------------------------------------------------------------
def test_backfill_status_reads_counts_per_asset(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "BackfillStatus",
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 1, 0, 1)),
    )
    status = client.backfill_status("bkeqnhnd")
    assert fake.variables_of("BackfillStatus") == [{"id": "bkeqnhnd"}]
    assert status.status == "REQUESTED"
    assert not status.is_terminal and not status.succeeded
    assert status.partition_names == ("86b1aa001", "86b1aa002")
    progress = status.progress_for("cpm_flexibility")
    assert progress is not None
    assert (progress.targeted, progress.materialized, progress.in_progress, progress.failed) == (
        2, 1, 1, 0,
    )  # fmt: skip
    assert status.summary() == "REQUESTED: cpm_flexibility 1/2 materialized, 1 in progress"


@pytest.mark.parametrize(
    ("status", "failed", "terminal", "succeeded"),
    [
        ("COMPLETED_SUCCESS", 0, True, True),
        ("COMPLETED_FAILED", 1, True, False),
        ("FAILED", 0, True, False),
        ("CANCELED", 0, True, False),
        ("CANCELING", 0, False, False),
        ("FAILING", 1, False, False),
    ],
)
def test_terminal_and_success_statuses(
    fake: FakeDagsterWebserver,
    client: InspectingWebserverClient,
    status: str,
    failed: int,
    terminal: bool,
    succeeded: bool,
) -> None:
    fake.answer(
        "BackfillStatus", data_answer("partitionBackfillOrError", backfill(status, 1, failed))
    )
    read = client.backfill_status("bkeqnhnd")
    assert (read.is_terminal, read.succeeded) == (terminal, succeeded)


def test_unknown_backfill_id_is_an_operation_error(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "BackfillStatus",
        data_answer(
            "partitionBackfillOrError",
            {
                "__typename": "BackfillNotFoundError",
                "message": "Backfill zzz could not be found.",
                "backfillId": "zzz",
            },
        ),
    )
    with pytest.raises(DagsterOperationError, match="BackfillNotFoundError: Backfill zzz could"):
        client.backfill_status("zzz")


def test_follow_polls_until_terminal_and_reports_every_read(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "BackfillStatus",
        data_answer("partitionBackfillOrError", backfill("REQUESTED")),
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 1, 0, 1)),
        data_answer("partitionBackfillOrError", backfill("COMPLETED_SUCCESS", 2)),
    )
    seen: list[str] = []
    final = client.follow_backfill(
        "bkeqnhnd",
        timeout_seconds=30,
        poll_interval_seconds=0.01,
        on_progress=lambda s: seen.append(s.summary()),
    )
    assert final.succeeded
    assert seen == [
        "REQUESTED: cpm_flexibility 0/2 materialized",
        "REQUESTED: cpm_flexibility 1/2 materialized, 1 in progress",
        "COMPLETED_SUCCESS: cpm_flexibility 2/2 materialized",
    ]


def test_follow_times_out_with_the_last_status(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer("BackfillStatus", data_answer("partitionBackfillOrError", backfill("REQUESTED")))
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    with pytest.raises(BackfillTimeoutError) as caught:
        client.follow_backfill(
            "bkeqnhnd",
            timeout_seconds=5,
            poll_interval_seconds=2,
            clock=lambda: now[0],
            sleep=sleep,
        )
    assert sleeps == [2, 2, 1]  # never sleeps past the deadline
    assert caught.value.status.status == "REQUESTED"
    assert "still REQUESTED after 5 s" in str(caught.value)


# --- assets, sensors, runs ---------------------------------------------------------------------
def test_partition_keys_of_a_partitioned_asset(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "AssetPartitionKeys",
        data_answer(
            "assetNodeOrError",
            {"__typename": "AssetNode", "isPartitioned": True, "partitionKeys": ["a", "b"]},
        ),
        data_answer(
            "assetNodeOrError",
            {"__typename": "AssetNode", "isPartitioned": False, "partitionKeys": []},
        ),
        data_answer(
            "assetNodeOrError",
            {"__typename": "AssetNotFoundError", "message": 'Asset key ["zzz"] not found.'},
        ),
    )
    assert client.asset_partition_keys("cpm_flexibility") == ["a", "b"]
    with pytest.raises(DagsterOperationError, match="is not partitioned"):
        client.asset_partition_keys("unpartitioned")
    with pytest.raises(DagsterOperationError, match=r'AssetNotFoundError: Asset key \["zzz"\]'):
        client.asset_partition_keys("zzz")


def test_partition_statuses(fake: FakeDagsterWebserver, client: InspectingWebserverClient) -> None:
    fake.answer(
        "AssetPartitionStatuses",
        data_answer(
            "assetNodeOrError",
            {
                "__typename": "AssetNode",
                "isPartitioned": True,
                "assetPartitionStatuses": {
                    "__typename": "DefaultPartitionStatuses",
                    "materializedPartitions": ["86b1aa001", "86b1aa002"],
                    "failedPartitions": ["86b1aa003"],
                    "unmaterializedPartitions": ["86b1aa003"],
                    "materializingPartitions": [],
                },
            },
        ),
    )
    statuses = client.asset_partition_statuses("campaign_influencers")
    assert statuses.materialized == {"86b1aa001", "86b1aa002"}
    assert statuses.failed == {"86b1aa003"}
    assert statuses.materializing == frozenset()


def test_sensor_state_and_ticks(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "SensorState",
        data_answer(
            "sensorOrError",
            {
                "__typename": "Sensor",
                "name": "clickup_campaign_sensor",
                "sensorState": {
                    "status": "RUNNING",
                    "ticks": [
                        {
                            "status": "SUCCESS",
                            "timestamp": 1795429044.05,
                            "runIds": ["r1"],
                            "runKeys": ["86b1aa001:1795428993624"],
                            "skipReason": None,
                            "error": None,
                        },
                        {
                            "status": "FAILURE",
                            "timestamp": 1795429014.0,
                            "runIds": [],
                            "runKeys": [],
                            "skipReason": None,
                            "error": {"message": "ClickUp answered 401"},
                        },
                    ],
                },
            },
        ),
    )
    state = client.sensor_state("clickup_campaign_sensor", tick_limit=2)
    assert state.status == "RUNNING"
    assert [t.status for t in state.ticks] == ["SUCCESS", "FAILURE"]
    assert state.ticks[0].run_keys == ("86b1aa001:1795428993624",)
    assert state.ticks[1].error == "ClickUp answered 401"
    selector = fake.variables_of("SensorState")[0]
    assert selector == {
        "selector": {
            "repositoryName": "__repository__",
            "repositoryLocationName": "negotiation_pipeline",
            "sensorName": "clickup_campaign_sensor",
        },
        "limit": 2,
    }


def test_unknown_sensor(fake: FakeDagsterWebserver, client: InspectingWebserverClient) -> None:
    fake.answer(
        "SensorState",
        data_answer(
            "sensorOrError",
            {
                "__typename": "SensorNotFoundError",
                "message": "Could not find `zzz` in the currently loaded repository.",
                "sensorName": "zzz",
            },
        ),
    )
    with pytest.raises(DagsterOperationError, match="SensorNotFoundError: Could not find `zzz`"):
        client.sensor_state("zzz")


def test_runs_filter_and_parse(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "Runs",
        data_answer(
            "runsOrError",
            {
                "__typename": "Runs",
                "results": [
                    {
                        "runId": "r1",
                        "jobName": "campaign_ingestion_job",
                        "status": "FAILURE",
                        "tags": [{"key": "dagster/partition", "value": "86b1aa003"}],
                    }
                ],
            },
        ),
    )
    runs = client.runs(
        tags={"dagster/sensor_name": "clickup_campaign_sensor"},
        job_name="campaign_ingestion_job",
        statuses=["FAILURE"],
        limit=5,
    )
    assert [(r.run_id, r.status, r.partition) for r in runs] == [("r1", "FAILURE", "86b1aa003")]
    assert fake.variables_of("Runs")[0] == {
        "filter": {
            "tags": [{"key": "dagster/sensor_name", "value": "clickup_campaign_sensor"}],
            "pipelineName": "campaign_ingestion_job",
            "statuses": ["FAILURE"],
        },
        "limit": 5,
    }


def test_materializations_and_a_never_materialized_asset(
    fake: FakeDagsterWebserver, client: InspectingWebserverClient
) -> None:
    fake.answer(
        "AssetMaterializations",
        data_answer(
            "assetOrError",
            {
                "__typename": "Asset",
                "assetMaterializations": [
                    {"partition": "86b1aa002", "runId": "r2", "timestamp": "1795429073118"}
                ],
            },
        ),
        data_answer(
            "assetOrError",
            {"__typename": "AssetNotFoundError", "message": 'Asset key ["x"] not found.'},
        ),
    )
    found = client.asset_materializations("cpm_flexibility", ["86b1aa002"], limit=3)
    assert [(m.partition, m.run_id, m.timestamp_ms) for m in found] == [
        ("86b1aa002", "r2", 1795429073118)
    ]
    assert fake.variables_of("AssetMaterializations")[0]["partitions"] == ["86b1aa002"]
    assert client.asset_materializations("x") == []
