"""The business store as a Dagster resource: assets and ops never open a database connection
themselves; they open the store through this resource, once per use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.sqlite import open_store


class NegotiationStoreResource(dg.ConfigurableResource):
    """The business store (SQLite file or PostgreSQL URL). Assets never open a database
    connection themselves."""

    db_path: str = Field(
        description="SQLite file or postgresql:// URL of the business store (env NEGOTIATION_DB)"
    )
    message_id_secret: str = Field(
        default="",
        description="key of our Message-IDs; bind dg.EnvVar('NEGOTIATION_MESSAGE_ID_SECRET'), "
        "or leave empty for the key stored in the business store",
    )

    @contextmanager
    def open(self) -> Iterator[NegotiationStore]:
        store = open_store(self.db_path, message_id_secret=self.message_id_secret or None)
        try:
            yield store
        finally:
            store.close()
