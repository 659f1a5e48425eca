"""What tests and benchmarks ask a running webserver beyond what the product needs: readiness,
sensor state and ticks, runs, and asset materializations. `InspectingWebserverClient` is the
product's client with these queries added."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from negotiation_pipeline.integrations.dagster_webserver import (
    AssetKeyLike,
    DagsterWebserverClient,
    GraphQLRequestError,
    asset_key_path,
    asset_key_string,
)
from negotiation_pipeline.integrations.dagster_webserver.assets import ASSET_NODE_ERRORS
from negotiation_pipeline.integrations.dagster_webserver.errors import error_fields, unwrap

SENSOR_ERRORS = ("SensorNotFoundError", "UnauthorizedError", "PythonError")
RUNS_ERRORS = ("InvalidPipelineRunsFilterError", "PythonError")

SENSOR_STATE = (
    """
query SensorState($selector: SensorSelector!, $limit: Int!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor {
      name
      sensorState {
        status
        ticks(limit: $limit) {
          status timestamp runIds runKeys skipReason error { message }
        }
      }
    }
"""
    + error_fields(*SENSOR_ERRORS)
    + "} }"
)

RUNS = (
    """
query Runs($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    ... on Runs { results { runId jobName status tags { key value } } }
"""
    + error_fields(*RUNS_ERRORS)
    + "} }"
)

ASSET_MATERIALIZATIONS = (
    """
query AssetMaterializations($key: AssetKeyInput!, $partitions: [String!], $limit: Int) {
  assetOrError(assetKey: $key) {
    ... on Asset {
      assetMaterializations(partitions: $partitions, limit: $limit) {
        partition runId timestamp
      }
    }
"""
    + error_fields(*ASSET_NODE_ERRORS)
    + "} }"
)


@dataclass(frozen=True)
class SensorTick:
    status: str  # InstigationTickStatus: STARTED, SKIPPED, SUCCESS, FAILURE
    timestamp: float
    run_ids: tuple[str, ...]
    run_keys: tuple[str, ...]
    skip_reason: str | None
    error: str | None


@dataclass(frozen=True)
class SensorState:
    name: str
    status: str  # InstigationStatus: RUNNING or STOPPED
    ticks: tuple[SensorTick, ...] = field(default_factory=tuple)  # newest first


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    job_name: str
    status: str  # RunStatus: QUEUED, STARTED, SUCCESS, FAILURE, CANCELED, ...
    tags: Mapping[str, str]

    @property
    def partition(self) -> str | None:
        return self.tags.get("dagster/partition")


@dataclass(frozen=True)
class Materialization:
    asset_key: str
    partition: str | None
    run_id: str
    timestamp_ms: int


class InspectingWebserverClient(DagsterWebserverClient):
    """The product's client plus the read-only queries tests and benchmarks check with."""

    def server_info(self) -> dict[str, Any]:
        """`GET /server_info`: the webserver's Dagster versions (also a readiness probe)."""
        response = self.request("GET", "/server_info")
        if response.status_code != 200:
            raise GraphQLRequestError(
                f"{self.url}/server_info answered HTTP {response.status_code}"
            )
        return self.json_body(response)

    def asset_materializations(
        self,
        asset_key: AssetKeyLike,
        partitions: Sequence[str] | None = None,
        *,
        limit: int = 100,
    ) -> list[Materialization]:
        """Materializations of an asset, newest first, optionally only of `partitions`."""
        key = asset_key_string(asset_key)
        data = self.execute(
            ASSET_MATERIALIZATIONS,
            {
                "key": {"path": asset_key_path(asset_key)},
                "partitions": None if partitions is None else list(partitions),
                "limit": limit,
            },
        )
        result = data.get("assetOrError")
        if isinstance(result, dict) and result.get("__typename") == "AssetNotFoundError":
            return []  # never materialized and no definition: nothing to list
        result = unwrap("assetOrError", result, "Asset")
        return [
            Materialization(
                asset_key=key,
                partition=event.get("partition"),
                run_id=str(event["runId"]),
                timestamp_ms=int(float(event["timestamp"])),
            )
            for event in result.get("assetMaterializations") or []
        ]

    def sensor_state(self, sensor_name: str, *, tick_limit: int = 20) -> SensorState:
        selector = {
            "repositoryName": self.repository_name,
            "repositoryLocationName": self.location_name,
            "sensorName": sensor_name,
        }
        data = self.execute(SENSOR_STATE, {"selector": selector, "limit": tick_limit})
        result = unwrap("sensorOrError", data.get("sensorOrError"), "Sensor")
        state = result["sensorState"]
        return SensorState(
            name=str(result["name"]),
            status=str(state["status"]),
            ticks=tuple(_parse_tick(t) for t in state.get("ticks") or []),
        )

    def runs(
        self,
        *,
        tags: Mapping[str, str] | None = None,
        job_name: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[RunSummary]:
        """Runs matching every given filter, newest first."""
        run_filter: dict[str, Any] = {}
        if tags:
            run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        if job_name:
            run_filter["pipelineName"] = job_name
        if statuses:
            run_filter["statuses"] = list(statuses)
        data = self.execute(RUNS, {"filter": run_filter, "limit": limit})
        result = unwrap("runsOrError", data.get("runsOrError"), "Runs")
        return [
            RunSummary(
                run_id=str(run["runId"]),
                job_name=str(run["jobName"]),
                status=str(run["status"]),
                tags={str(t["key"]): str(t["value"]) for t in run.get("tags") or []},
            )
            for run in result.get("results") or []
        ]


def _parse_tick(tick: Mapping[str, Any]) -> SensorTick:
    error = tick.get("error")
    return SensorTick(
        status=str(tick["status"]),
        timestamp=float(tick["timestamp"]),
        run_ids=tuple(str(r) for r in tick.get("runIds") or []),
        run_keys=tuple(str(r) for r in tick.get("runKeys") or []),
        skip_reason=tick.get("skipReason"),
        error=str(error["message"]) if error else None,
    )
