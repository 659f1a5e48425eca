"""Dagster resources of the campaign pipeline: thin wrappers that open the real parts.

Each resource only holds configuration (paths, URLs, the ClickUp token as `dg.EnvVar`) and opens
the integration object per use, so Dagster can copy and rebind it freely and nothing is shared
across runs. Resources are bound in `negotiation_pipeline/definitions.py` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from negotiation_pipeline.integrations.clickup.client import (
    DEFAULT_CLICKUP_API_URL,
    CampaignTaskSource,
    ClickUpClient,
)
from negotiation_pipeline.integrations.clickup.sandbox import SandboxTaskSource
from negotiation_pipeline.integrations.roster.reader import RosterRow, read_roster
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.sqlite import SQLiteStore

DEFAULT_PAGES_PER_TICK = 5


class NegotiationStoreResource(dg.ConfigurableResource):
    """The business store (SQLite file). Assets never open sqlite3 themselves."""

    db_path: str = Field(description="SQLite file of the business store (env NEGOTIATION_DB)")

    @contextmanager
    def open(self) -> Iterator[NegotiationStore]:
        store = SQLiteStore(Path(self.db_path))
        try:
            yield store
        finally:
            store.close()


class CampaignTaskSourceResource(dg.ConfigurableResource):
    """Where campaign tasks come from. Bind a subclass: ClickUp or the sandbox folder."""

    pages_per_tick: int = Field(
        default=DEFAULT_PAGES_PER_TICK,
        gt=0,
        description="ClickUp list pages (100 tasks each) one sensor tick may read",
    )

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        raise NotImplementedError(f"{type(self).__name__} does not open a task source")
        yield  # pragma: no cover


class ClickUpTaskSourceResource(CampaignTaskSourceResource):
    """The real ClickUp List, over the v2 REST API."""

    api_token: str = Field(description="personal token; bind dg.EnvVar('CLICKUP_API_TOKEN')")
    list_id: str = Field(description="the List the campaign form creates tasks in")
    base_url: str = DEFAULT_CLICKUP_API_URL
    timeout_seconds: float = Field(default=30.0, gt=0)

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        client = ClickUpClient(
            base_url=self.base_url,
            api_token=self.api_token,
            list_id=self.list_id,
            timeout=self.timeout_seconds,
        )
        try:
            yield client
        finally:
            client.close()


class SandboxTaskSourceResource(CampaignTaskSourceResource):
    """A folder of ClickUp-shaped task JSON files (no ClickUp account needed); comments on
    tasks are appended to `<comments_folder>/clickup_comments.jsonl`."""

    folder: str = Field(description="folder of ClickUp task JSON files")
    comments_folder: str = Field(description="where comments on sandbox tasks are written")

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        yield SandboxTaskSource(Path(self.folder), Path(self.comments_folder))


class RosterResource(dg.ConfigurableResource):
    """The influencer roster CSV: the campaign's own roster URL, else this default."""

    default_source: str = Field(description="path or https URL of the default roster (ROSTER_URL)")
    timeout_seconds: float = Field(default=30.0, gt=0)

    def read(self, source: str | None = None) -> list[RosterRow]:
        return read_roster(source or self.default_source, timeout=self.timeout_seconds)
