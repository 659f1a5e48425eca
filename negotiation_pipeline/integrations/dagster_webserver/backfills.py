"""Asset backfills on the webserver: launching one, reading its status, and following it to a
terminal status.

The backfill is launched the way the UI launches it (`launchPartitionBackfill` with an asset
selection), so the daemon runs it and it shows in the UI like one started there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from negotiation_pipeline.integrations.dagster_webserver.assets import (
    AssetKeyLike,
    asset_key_path,
    asset_key_string,
)
from negotiation_pipeline.integrations.dagster_webserver.errors import error_fields, unwrap
from negotiation_pipeline.integrations.dagster_webserver.transport import (
    DagsterWebserverError,
    GraphQLTransport,
)

SUCCESS_STATUS = "COMPLETED_SUCCESS"
# BulkActionStatus values after which a backfill does nothing more. "COMPLETED" is the legacy
# status of job backfills; asset backfills end in COMPLETED_SUCCESS or COMPLETED_FAILED.
TERMINAL_STATUSES = frozenset(
    {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
)

# Error members of each union queried here (dagster-graphql 1.13 schema).
LAUNCH_BACKFILL_ERRORS = (
    "PartitionSetNotFoundError", "PartitionKeysNotFoundError", "InvalidStepError",
    "InvalidOutputError", "RunConfigValidationInvalid", "PipelineNotFoundError", "RunConflict",
    "UnauthorizedError", "PythonError", "InvalidSubsetError", "PresetNotFoundError",
    "ConflictingExecutionParamsError", "NoModeProvidedError",
)  # fmt: skip
BACKFILL_ERRORS = ("BackfillNotFoundError", "PythonError")

LAUNCH_BACKFILL = (
    """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    ... on LaunchBackfillSuccess { backfillId }
"""
    + error_fields(*LAUNCH_BACKFILL_ERRORS)
    + "} }"
)

BACKFILL_STATUS = (
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
    + error_fields(*BACKFILL_ERRORS)
    + "} }"
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


class BackfillTimeoutError(DagsterWebserverError):
    """The backfill did not reach a terminal status in time; it keeps running in Dagster."""

    def __init__(self, status: BackfillStatus, timeout_seconds: float) -> None:
        self.status = status
        self.timeout_seconds = timeout_seconds
        super().__init__(
            f"backfill {status.backfill_id} is still {status.status} after "
            f"{timeout_seconds:g} s ({status.summary()}); it keeps running in Dagster"
        )


class BackfillQueries(GraphQLTransport):
    """Launch, read and follow asset backfills."""

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
        params = launch_params(
            asset_keys, partition_names, title=title, description=description, tags=tags
        )
        data = self.execute(LAUNCH_BACKFILL, {"params": params})
        result = unwrap(
            "launchPartitionBackfill", data.get("launchPartitionBackfill"), "LaunchBackfillSuccess"
        )
        return str(result["backfillId"])

    def backfill_status(self, backfill_id: str) -> BackfillStatus:
        data = self.execute(BACKFILL_STATUS, {"id": backfill_id})
        result = unwrap(
            "partitionBackfillOrError", data.get("partitionBackfillOrError"), "PartitionBackfill"
        )
        return parse_backfill(result)

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


def launch_params(
    asset_keys: Sequence[AssetKeyLike],
    partition_names: Sequence[str] | None,
    *,
    title: str | None,
    description: str | None,
    tags: Mapping[str, str] | None,
) -> dict[str, Any]:
    """`LaunchBackfillParams` for an asset selection; refuses an empty selection up front."""
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
    return params


def parse_backfill(result: Mapping[str, Any]) -> BackfillStatus:
    """A `PartitionBackfill` object as a BackfillStatus."""
    assets = tuple(
        _asset_progress(entry)
        for entry in (result.get("assetBackfillData") or {}).get("assetBackfillStatuses") or []
    )
    error = result.get("error")
    return BackfillStatus(
        backfill_id=str(result["id"]),
        status=str(result["status"]),
        title=result.get("title"),
        is_asset_backfill=bool(result.get("isAssetBackfill")),
        partition_names=tuple(str(p) for p in result.get("partitionNames") or []),
        assets=assets,
        error=str(error["message"]).strip() if error else None,
    )


def _asset_progress(entry: Mapping[str, Any]) -> AssetBackfillProgress:
    key = asset_key_string(entry["assetKey"]["path"])
    if entry.get("__typename") == "AssetPartitionsStatusCounts":
        return AssetBackfillProgress(
            asset_key=key,
            targeted=int(entry["numPartitionsTargeted"]),
            in_progress=int(entry["numPartitionsInProgress"]),
            materialized=int(entry["numPartitionsMaterialized"]),
            failed=int(entry["numPartitionsFailed"]),
        )
    # an unpartitioned asset counts as one "partition"
    return AssetBackfillProgress(
        asset_key=key,
        targeted=1,
        in_progress=int(bool(entry.get("inProgress"))),
        materialized=int(bool(entry.get("materialized"))),
        failed=int(bool(entry.get("failed"))),
    )
