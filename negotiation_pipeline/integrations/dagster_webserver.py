"""A small client for a running Dagster webserver's GraphQL API (raw POSTs to `/graphql`).

Why not `dagster_graphql.DagsterGraphQLClient`: it has no asset-backfill method (it only submits
job runs and reads run status), and the asset backfill the UI launches is exactly what the
`backfill-cpm` command and the end-to-end tests need (reference/dagster_notes.md §1.9).

Every GraphQL field that can fail returns a union of a success type and error types
(`PythonError`, `PartitionKeysNotFoundError`, `InvalidStepError`, ...). Each query below asks for
`__typename` and the fields of every error member, and `_unwrap` turns anything but the expected
success type into a `DagsterOperationError` whose message names the error type and its details.
The webserver answers a `PythonError` with HTTP 500 and a normal GraphQL body, so the body is
read before the status code is judged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

DEFAULT_WEBSERVER_URL = "http://127.0.0.1:3000"
DEFAULT_LOCATION_NAME = "negotiation_pipeline"  # workspace.yaml `location_name`
# A code location built from one `Definitions` object holds a single repository of this name.
DEFAULT_REPOSITORY_NAME = "__repository__"

SUCCESS_STATUS = "COMPLETED_SUCCESS"
# BulkActionStatus values after which a backfill does nothing more. "COMPLETED" is the legacy
# status of job backfills; asset backfills end in COMPLETED_SUCCESS or COMPLETED_FAILED.
TERMINAL_STATUSES = frozenset(
    {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
)

AssetKeyLike = str | Sequence[str]


class DagsterWebserverError(RuntimeError):
    """Base class: anything that went wrong talking to the webserver."""


class WebserverUnreachableError(DagsterWebserverError):
    """No HTTP answer at all (connection refused, DNS, timeout)."""


class GraphQLRequestError(DagsterWebserverError):
    """The webserver rejected the request itself (GraphQL `errors`, or a non-JSON answer)."""


class DagsterOperationError(DagsterWebserverError):
    """A GraphQL field answered with one of its error types instead of the success type."""

    def __init__(self, operation: str, typename: str, detail: str) -> None:
        self.operation = operation
        self.typename = typename
        self.detail = detail
        super().__init__(f"{operation} failed with {typename}: {detail}")


class BackfillTimeoutError(DagsterWebserverError):
    """The backfill did not reach a terminal status in time; it keeps running in Dagster."""

    def __init__(self, status: BackfillStatus, timeout_seconds: float) -> None:
        self.status = status
        self.timeout_seconds = timeout_seconds
        super().__init__(
            f"backfill {status.backfill_id} is still {status.status} after "
            f"{timeout_seconds:g} s ({status.summary()}); it keeps running in Dagster"
        )


@dataclass(frozen=True)
class AssetBackfillProgress:
    """Partition counts of one asset inside an asset backfill."""

    asset_key: str
    targeted: int
    in_progress: int
    materialized: int
    failed: int


@dataclass(frozen=True)
class BackfillStatus:
    backfill_id: str
    status: str  # BulkActionStatus: REQUESTED, COMPLETED_SUCCESS, COMPLETED_FAILED, FAILED, ...
    title: str | None
    is_asset_backfill: bool
    partition_names: tuple[str, ...]
    assets: tuple[AssetBackfillProgress, ...]
    error: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        if self.status == SUCCESS_STATUS:
            return True
        return self.status == "COMPLETED" and not any(a.failed for a in self.assets)

    def progress_for(self, asset_key: AssetKeyLike) -> AssetBackfillProgress | None:
        wanted = asset_key_string(asset_key)
        return next((a for a in self.assets if a.asset_key == wanted), None)

    def summary(self) -> str:
        """One line: status and, per asset, materialized/targeted partitions (+ failures)."""
        parts = []
        for asset in self.assets:
            text = f"{asset.asset_key} {asset.materialized}/{asset.targeted} materialized"
            if asset.in_progress:
                text += f", {asset.in_progress} in progress"
            if asset.failed:
                text += f", {asset.failed} failed"
            parts.append(text)
        return f"{self.status}: " + ("; ".join(parts) or f"{len(self.partition_names)} partitions")


@dataclass(frozen=True)
class PartitionStatuses:
    """Latest state of the partitions of one asset. A partition whose run failed upstream can
    be both failed and unmaterialized."""

    materialized: frozenset[str]
    failed: frozenset[str]
    unmaterialized: frozenset[str]
    materializing: frozenset[str]


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


def asset_key_path(asset_key: AssetKeyLike) -> list[str]:
    """`"a/b"` or `["a", "b"]` → `["a", "b"]` (Dagster's string form joins the path with '/')."""
    if isinstance(asset_key, str):
        return asset_key.split("/")
    return list(asset_key)


def asset_key_string(asset_key: AssetKeyLike) -> str:
    return "/".join(asset_key_path(asset_key))


# --- error unions ------------------------------------------------------------------------------
# The fields of each error member worth showing. GraphQL rejects a fragment on a type that is not
# a member of the field's union, so every query lists its own members (`_error_fields`).
_ERROR_MEMBER_FIELDS: dict[str, str] = {
    "PythonError": "message className causes { message }",
    "PartitionKeysNotFoundError": "message partitionKeys",
    "PartitionSetNotFoundError": "message partitionSetName",
    "InvalidStepError": "invalidStepKey",
    "InvalidOutputError": "stepKey invalidOutputName",
    "RunConfigValidationInvalid": "pipelineName errors { message }",
    "PipelineNotFoundError": "message pipelineName",
    "SensorNotFoundError": "message sensorName",
    "BackfillNotFoundError": "message backfillId",
    "AssetNotFoundError": "message",
    "RunConflict": "message",
    "UnauthorizedError": "message",
    "InvalidSubsetError": "message",
    "PresetNotFoundError": "message",
    "ConflictingExecutionParamsError": "message",
    "NoModeProvidedError": "message",
    "InvalidPipelineRunsFilterError": "message",
}

# Error members of each union this client queries (dagster-graphql 1.13 schema).
LAUNCH_BACKFILL_ERRORS = (
    "PartitionSetNotFoundError", "PartitionKeysNotFoundError", "InvalidStepError",
    "InvalidOutputError", "RunConfigValidationInvalid", "PipelineNotFoundError", "RunConflict",
    "UnauthorizedError", "PythonError", "InvalidSubsetError", "PresetNotFoundError",
    "ConflictingExecutionParamsError", "NoModeProvidedError",
)  # fmt: skip
BACKFILL_ERRORS = ("BackfillNotFoundError", "PythonError")
CANCEL_BACKFILL_ERRORS = ("UnauthorizedError", "PythonError")
ASSET_NODE_ERRORS = ("AssetNotFoundError",)
SENSOR_ERRORS = ("SensorNotFoundError", "UnauthorizedError", "PythonError")
RUNS_ERRORS = ("InvalidPipelineRunsFilterError", "PythonError")


def _error_fields(*members: str) -> str:
    fragments = "\n".join(f"  ... on {m} {{ {_ERROR_MEMBER_FIELDS[m]} }}" for m in members)
    return f"  __typename\n{fragments}\n"


def describe_error(result: Mapping[str, Any]) -> str:
    """A readable sentence for one error-union member (what the operator should see)."""
    typename = str(result.get("__typename", "unknown"))
    message = str(result.get("message") or "").strip()
    if typename == "InvalidStepError":
        return f"step {result.get('invalidStepKey')!r} does not exist in the job"
    if typename == "InvalidOutputError":
        return f"step {result.get('stepKey')!r} has no output {result.get('invalidOutputName')!r}"
    if typename == "RunConfigValidationInvalid":
        errors = [str(e.get("message", "")) for e in result.get("errors") or []]
        return f"invalid run config for {result.get('pipelineName')}: " + "; ".join(errors)
    if typename == "PartitionKeysNotFoundError":
        keys = ", ".join(str(k) for k in result.get("partitionKeys") or [])
        return f"unknown partition key(s): {keys}" if keys else message
    if typename == "PythonError":
        causes = [str(c.get("message", "")).strip() for c in result.get("causes") or []]
        prefix = f"{result['className']}: " if result.get("className") else ""
        text = message if message.startswith(prefix) else prefix + message
        return "; caused by ".join([text, *causes]) if causes else text
    return message or f"no details (type {typename})"


def _unwrap(operation: str, result: Any, expected: str) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise GraphQLRequestError(f"{operation}: the webserver returned no result")
    typename = result.get("__typename")
    if typename != expected:
        raise DagsterOperationError(operation, str(typename), describe_error(result))
    return result


# --- queries -----------------------------------------------------------------------------------
_LAUNCH_BACKFILL = (
    """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    ... on LaunchBackfillSuccess { backfillId }
"""
    + _error_fields(*LAUNCH_BACKFILL_ERRORS)
    + "} }"
)

_BACKFILL_STATUS = (
    """
query BackfillStatus($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill {
      id status title isAssetBackfill partitionNames
      error { message className }
      assetBackfillData {
        assetBackfillStatuses {
          __typename
          ... on AssetPartitionsStatusCounts {
            assetKey { path } numPartitionsTargeted numPartitionsInProgress
            numPartitionsMaterialized numPartitionsFailed
          }
          ... on UnpartitionedAssetStatus {
            assetKey { path } inProgress materialized failed
          }
        }
      }
    }
"""
    + _error_fields(*BACKFILL_ERRORS)
    + "} }"
)

_CANCEL_BACKFILL = (
    """
mutation CancelBackfill($id: String!) {
  cancelPartitionBackfill(backfillId: $id) {
    ... on CancelBackfillSuccess { backfillId }
"""
    + _error_fields(*CANCEL_BACKFILL_ERRORS)
    + "} }"
)

_ASSET_PARTITION_KEYS = (
    """
query AssetPartitionKeys($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode { isPartitioned partitionKeys }
"""
    + _error_fields(*ASSET_NODE_ERRORS)
    + "} }"
)

_ASSET_PARTITION_STATUSES = (
    """
query AssetPartitionStatuses($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      isPartitioned
      assetPartitionStatuses {
        __typename
        ... on DefaultPartitionStatuses {
          materializedPartitions failedPartitions unmaterializedPartitions materializingPartitions
        }
      }
    }
"""
    + _error_fields(*ASSET_NODE_ERRORS)
    + "} }"
)

_SENSOR_STATE = (
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
    + _error_fields(*SENSOR_ERRORS)
    + "} }"
)

_RUNS = (
    """
query Runs($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    ... on Runs { results { runId jobName status tags { key value } } }
"""
    + _error_fields(*RUNS_ERRORS)
    + "} }"
)

_ASSET_MATERIALIZATIONS = (
    """
query AssetMaterializations($key: AssetKeyInput!, $partitions: [String!], $limit: Int) {
  assetOrError(assetKey: $key) {
    ... on Asset {
      assetMaterializations(partitions: $partitions, limit: $limit) {
        partition runId timestamp
      }
    }
"""
    + _error_fields(*ASSET_NODE_ERRORS)
    + "} }"
)


class DagsterWebserverClient:
    """Talks to one Dagster webserver. Use as a context manager (it owns an httpx client).

    `transport` is for tests only; every other argument is the operator's.
    """

    def __init__(
        self,
        url: str = DEFAULT_WEBSERVER_URL,
        *,
        timeout: float = 30.0,
        location_name: str = DEFAULT_LOCATION_NAME,
        repository_name: str = DEFAULT_REPOSITORY_NAME,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.location_name = location_name
        self.repository_name = repository_name
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DagsterWebserverClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- transport ---------------------------------------------------------------------------
    def server_info(self) -> dict[str, Any]:
        """`GET /server_info`: the webserver's Dagster versions (also a readiness probe)."""
        response = self._request("GET", "/server_info")
        if response.status_code != 200:
            raise GraphQLRequestError(
                f"{self.url}/server_info answered HTTP {response.status_code}"
            )
        return self._json(response)

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL document; return its `data`. GraphQL-level `errors` raise."""
        response = self._request(
            "POST", "/graphql", json={"query": query, "variables": dict(variables or {})}
        )
        body = self._json(response)
        errors = body.get("errors")
        if errors:
            messages = "; ".join(str(e.get("message", e)) for e in errors)
            raise GraphQLRequestError(f"GraphQL request rejected: {messages}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise GraphQLRequestError(
                f"{self.url}/graphql answered HTTP {response.status_code} without data"
            )
        return data

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise WebserverUnreachableError(
                f"cannot reach the Dagster webserver at {self.url} ({type(exc).__name__}: "
                f"{exc}); is it running? Start it with `negotiation-pipeline dev`."
            ) from exc

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphQLRequestError(
                f"{response.request.url} answered HTTP {response.status_code} with a non-JSON "
                "body; is this URL a Dagster webserver?"
            ) from exc
        if not isinstance(body, dict):
            raise GraphQLRequestError(f"{response.request.url} answered JSON that is no object")
        return body

    # --- backfills ---------------------------------------------------------------------------
    def launch_partition_backfill(
        self,
        asset_keys: Sequence[AssetKeyLike],
        partition_names: Sequence[str] | None,
        *,
        title: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Launch the daemon-run asset backfill of `asset_keys` over `partition_names` (None =
        every partition) and return its id. Raises DagsterOperationError on an error type."""
        if not asset_keys:
            raise ValueError("launch_partition_backfill needs at least one asset key")
        if partition_names is not None and not partition_names:
            raise ValueError("partition_names is empty; pass None for every partition")
        params: dict[str, Any] = {
            "assetSelection": [{"path": asset_key_path(k)} for k in asset_keys],
        }
        if partition_names is None:
            params["allPartitions"] = True
        else:
            params["partitionNames"] = list(partition_names)
        if title is not None:
            params["title"] = title
        if description is not None:
            params["description"] = description
        if tags:
            params["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        data = self.execute(_LAUNCH_BACKFILL, {"params": params})
        result = _unwrap(
            "launchPartitionBackfill", data.get("launchPartitionBackfill"), "LaunchBackfillSuccess"
        )
        return str(result["backfillId"])

    def backfill_status(self, backfill_id: str) -> BackfillStatus:
        data = self.execute(_BACKFILL_STATUS, {"id": backfill_id})
        result = _unwrap(
            "partitionBackfillOrError", data.get("partitionBackfillOrError"), "PartitionBackfill"
        )
        return _parse_backfill(result)

    def cancel_backfill(self, backfill_id: str) -> None:
        data = self.execute(_CANCEL_BACKFILL, {"id": backfill_id})
        _unwrap(
            "cancelPartitionBackfill", data.get("cancelPartitionBackfill"), "CancelBackfillSuccess"
        )

    def follow_backfill(
        self,
        backfill_id: str,
        *,
        timeout_seconds: float,
        poll_interval_seconds: float = 2.0,
        on_progress: Callable[[BackfillStatus], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> BackfillStatus:
        """Poll until the backfill reaches a terminal status and return it; call `on_progress`
        with every status read. Raises BackfillTimeoutError after `timeout_seconds`."""
        deadline = clock() + timeout_seconds
        while True:
            status = self.backfill_status(backfill_id)
            if on_progress is not None:
                on_progress(status)
            if status.is_terminal:
                return status
            remaining = deadline - clock()
            if remaining <= 0:
                raise BackfillTimeoutError(status, timeout_seconds)
            sleep(min(poll_interval_seconds, remaining))

    # --- assets ------------------------------------------------------------------------------
    def asset_partition_keys(self, asset_key: AssetKeyLike) -> list[str]:
        """Every partition key of a partitioned asset (for dynamic partitions: those added)."""
        data = self.execute(_ASSET_PARTITION_KEYS, {"key": {"path": asset_key_path(asset_key)}})
        result = _unwrap("assetNodeOrError", data.get("assetNodeOrError"), "AssetNode")
        if not result.get("isPartitioned"):
            raise DagsterOperationError(
                "assetNodeOrError", "AssetNode", f"{asset_key_string(asset_key)} is not partitioned"
            )
        return [str(k) for k in result.get("partitionKeys") or []]

    def asset_partition_statuses(self, asset_key: AssetKeyLike) -> PartitionStatuses:
        """Which partitions of a single-dimension partitioned asset are materialized, failed,
        never materialized or materializing now."""
        data = self.execute(_ASSET_PARTITION_STATUSES, {"key": {"path": asset_key_path(asset_key)}})
        result = _unwrap("assetNodeOrError", data.get("assetNodeOrError"), "AssetNode")
        statuses = result.get("assetPartitionStatuses") or {}
        if not result.get("isPartitioned") or (
            statuses.get("__typename") != "DefaultPartitionStatuses"
        ):
            raise DagsterOperationError(
                "assetNodeOrError",
                "AssetNode",
                f"{asset_key_string(asset_key)} has no single-dimension partitions",
            )
        return PartitionStatuses(
            materialized=frozenset(statuses["materializedPartitions"]),
            failed=frozenset(statuses["failedPartitions"]),
            unmaterialized=frozenset(statuses["unmaterializedPartitions"]),
            materializing=frozenset(statuses["materializingPartitions"]),
        )

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
            _ASSET_MATERIALIZATIONS,
            {
                "key": {"path": asset_key_path(asset_key)},
                "partitions": None if partitions is None else list(partitions),
                "limit": limit,
            },
        )
        result = data.get("assetOrError")
        if isinstance(result, dict) and result.get("__typename") == "AssetNotFoundError":
            return []  # never materialized and no definition: nothing to list
        result = _unwrap("assetOrError", result, "Asset")
        return [
            Materialization(
                asset_key=key,
                partition=event.get("partition"),
                run_id=str(event["runId"]),
                timestamp_ms=int(float(event["timestamp"])),
            )
            for event in result.get("assetMaterializations") or []
        ]

    # --- sensors and runs --------------------------------------------------------------------
    def sensor_state(self, sensor_name: str, *, tick_limit: int = 20) -> SensorState:
        selector = {
            "repositoryName": self.repository_name,
            "repositoryLocationName": self.location_name,
            "sensorName": sensor_name,
        }
        data = self.execute(_SENSOR_STATE, {"selector": selector, "limit": tick_limit})
        result = _unwrap("sensorOrError", data.get("sensorOrError"), "Sensor")
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
        data = self.execute(_RUNS, {"filter": run_filter, "limit": limit})
        result = _unwrap("runsOrError", data.get("runsOrError"), "Runs")
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


def _parse_backfill(result: Mapping[str, Any]) -> BackfillStatus:
    assets: list[AssetBackfillProgress] = []
    backfill_data = result.get("assetBackfillData") or {}
    for entry in backfill_data.get("assetBackfillStatuses") or []:
        key = asset_key_string(entry["assetKey"]["path"])
        if entry.get("__typename") == "AssetPartitionsStatusCounts":
            assets.append(
                AssetBackfillProgress(
                    asset_key=key,
                    targeted=int(entry["numPartitionsTargeted"]),
                    in_progress=int(entry["numPartitionsInProgress"]),
                    materialized=int(entry["numPartitionsMaterialized"]),
                    failed=int(entry["numPartitionsFailed"]),
                )
            )
        else:  # an unpartitioned asset counts as one "partition"
            assets.append(
                AssetBackfillProgress(
                    asset_key=key,
                    targeted=1,
                    in_progress=int(bool(entry.get("inProgress"))),
                    materialized=int(bool(entry.get("materialized"))),
                    failed=int(bool(entry.get("failed"))),
                )
            )
    error = result.get("error")
    return BackfillStatus(
        backfill_id=str(result["id"]),
        status=str(result["status"]),
        title=result.get("title"),
        is_asset_backfill=bool(result.get("isAssetBackfill")),
        partition_names=tuple(str(p) for p in result.get("partitionNames") or []),
        assets=tuple(assets),
        error=str(error["message"]).strip() if error else None,
    )
