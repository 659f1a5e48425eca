"""A small client for a running Dagster webserver's GraphQL API (raw POSTs to `/graphql`).

`transport` posts documents and judges the HTTP answer, `errors` turns GraphQL error unions into
exceptions, `backfills` and `assets` hold the queries the product calls, and `client` joins them
into `DagsterWebserverClient`. The names callers need are re-exported here.
"""

from negotiation_pipeline.integrations.dagster_webserver.assets import (
    AssetKeyLike,
    PartitionStatuses,
    asset_key_path,
    asset_key_string,
)
from negotiation_pipeline.integrations.dagster_webserver.backfills import (
    AssetBackfillProgress,
    BackfillStatus,
    BackfillTimeoutError,
)
from negotiation_pipeline.integrations.dagster_webserver.client import DagsterWebserverClient
from negotiation_pipeline.integrations.dagster_webserver.errors import (
    DagsterOperationError,
    describe_error,
)
from negotiation_pipeline.integrations.dagster_webserver.transport import (
    DEFAULT_LOCATION_NAME,
    DEFAULT_REPOSITORY_NAME,
    DEFAULT_WEBSERVER_URL,
    DagsterWebserverError,
    GraphQLRequestError,
    WebserverUnreachableError,
)

__all__ = [
    "DEFAULT_LOCATION_NAME",
    "DEFAULT_REPOSITORY_NAME",
    "DEFAULT_WEBSERVER_URL",
    "AssetBackfillProgress",
    "AssetKeyLike",
    "BackfillStatus",
    "BackfillTimeoutError",
    "DagsterOperationError",
    "DagsterWebserverClient",
    "DagsterWebserverError",
    "GraphQLRequestError",
    "PartitionStatuses",
    "WebserverUnreachableError",
    "asset_key_path",
    "asset_key_string",
    "describe_error",
]
