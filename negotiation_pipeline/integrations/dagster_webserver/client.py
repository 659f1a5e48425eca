"""`DagsterWebserverClient`: the product's client for a running Dagster webserver's GraphQL API.

Why not `dagster_graphql.DagsterGraphQLClient`: it has no asset-backfill method (it only submits
job runs and reads run status), and the asset backfill the UI launches is exactly what the
`backfill-cpm` command needs. The client is the union of the query rooms the product calls.
"""

from __future__ import annotations

from negotiation_pipeline.integrations.dagster_webserver.assets import AssetPartitionQueries
from negotiation_pipeline.integrations.dagster_webserver.backfills import BackfillQueries


class DagsterWebserverClient(BackfillQueries, AssetPartitionQueries):
    """Talks to one Dagster webserver. Use as a context manager (it owns an httpx client)."""
