"""The influencer roster CSV as a Dagster resource: the campaign's own roster (untrusted, https
to a public host only) or the operator's default, read within size and time limits."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from negotiation_pipeline.defs.shared.slack_resources import SlackResource, api_error_notifier
from negotiation_pipeline.integrations.roster.fetch import DEFAULT_MAX_BYTES, FetchLimits
from negotiation_pipeline.integrations.roster.reader import RosterRow, read_roster


class RosterResource(dg.ConfigurableResource):
    """The influencer roster CSV: the campaign's own roster URL, else this default.

    The default is the operator's (ROSTER_URL): a path or any http(s) URL. A campaign's URL
    comes from the ClickUp form and may only be https to a public host."""

    default_source: str = Field(
        description="path or http(s) URL of the default roster (ROSTER_URL)"
    )
    timeout_seconds: float = Field(default=60.0, gt=0, description="total time per download")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0, description="largest roster accepted")
    alerts: SlackResource | None = Field(
        default=None, description="where downloads failing after their retries are reported"
    )

    def read(self, campaign_url: str | None = None) -> list[RosterRow]:
        """The campaign's roster when it names one, else the operator's default roster."""
        if campaign_url:
            return read_roster(
                campaign_url,
                trusted=False,
                limits=self._limits(),
                on_give_up=api_error_notifier(self.alerts),
            )
        return read_roster(
            self.default_source,
            trusted=True,
            limits=self._limits(),
            on_give_up=api_error_notifier(self.alerts),
        )

    def _limits(self) -> FetchLimits:
        return FetchLimits(
            max_bytes=self.max_bytes,
            connect_timeout_s=min(10.0, self.timeout_seconds),
            read_timeout_s=min(30.0, self.timeout_seconds),
            total_timeout_s=self.timeout_seconds,
        )
