"""Asset queries the product asks the webserver: which partitions an asset has, and which of them
are materialized, failed or materializing (the `backfill-cpm` command plans with these)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from negotiation_pipeline.integrations.dagster_webserver.errors import (
    DagsterOperationError,
    error_fields,
    unwrap,
)
from negotiation_pipeline.integrations.dagster_webserver.transport import GraphQLTransport

AssetKeyLike = str | Sequence[str]

ASSET_NODE_ERRORS = ("AssetNotFoundError",)

ASSET_PARTITION_KEYS = (
    """
query AssetPartitionKeys($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode { isPartitioned partitionKeys }
"""
    + error_fields(*ASSET_NODE_ERRORS)
    + "} }"
)

ASSET_PARTITION_STATUSES = (
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
    + error_fields(*ASSET_NODE_ERRORS)
    + "} }"
)


@dataclass(frozen=True)
class PartitionStatuses:
    """Latest state of the partitions of one asset. A partition whose run failed upstream can
    be both failed and unmaterialized."""

    materialized: frozenset[str]
    failed: frozenset[str]
    unmaterialized: frozenset[str]
    materializing: frozenset[str]


def asset_key_path(asset_key: AssetKeyLike) -> list[str]:
    """`"a/b"` or `["a", "b"]` → `["a", "b"]` (Dagster's string form joins the path with '/')."""
    if isinstance(asset_key, str):
        return asset_key.split("/")
    return list(asset_key)


def asset_key_string(asset_key: AssetKeyLike) -> str:
    return "/".join(asset_key_path(asset_key))


class AssetPartitionQueries(GraphQLTransport):
    """The partition questions about one asset."""

    def asset_partition_keys(self, asset_key: AssetKeyLike) -> list[str]:
        """Every partition key of a partitioned asset (for dynamic partitions: those added)."""
        data = self.execute(ASSET_PARTITION_KEYS, {"key": {"path": asset_key_path(asset_key)}})
        result = unwrap("assetNodeOrError", data.get("assetNodeOrError"), "AssetNode")
        if not result.get("isPartitioned"):
            raise DagsterOperationError(
                "assetNodeOrError", "AssetNode", f"{asset_key_string(asset_key)} is not partitioned"
            )
        return [str(k) for k in result.get("partitionKeys") or []]

    def asset_partition_statuses(self, asset_key: AssetKeyLike) -> PartitionStatuses:
        """Which partitions of a single-dimension partitioned asset are materialized, failed,
        never materialized or materializing now."""
        data = self.execute(ASSET_PARTITION_STATUSES, {"key": {"path": asset_key_path(asset_key)}})
        result = unwrap("assetNodeOrError", data.get("assetNodeOrError"), "AssetNode")
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
