"""Where campaign tasks come from, as Dagster resources: the base a sensor asks for, and the real
ClickUp List over the v2 REST API (its token bound as `dg.EnvVar`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from negotiation_pipeline.defs.shared.slack_resources import SlackResource, api_error_notifier
from negotiation_pipeline.integrations.clickup.client import (
    DEFAULT_CLICKUP_API_URL,
    CampaignTaskSource,
    ClickUpClient,
)

DEFAULT_PAGES_PER_TICK = 5


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
    alerts: SlackResource | None = Field(
        default=None, description="where calls failing after their retries are reported"
    )

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        client = ClickUpClient(
            base_url=self.base_url,
            api_token=self.api_token,
            list_id=self.list_id,
            timeout=self.timeout_seconds,
            on_give_up=api_error_notifier(self.alerts),
        )
        try:
            yield client
        finally:
            client.close()
