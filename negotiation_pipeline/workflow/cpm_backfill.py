"""Recomputing `cpm_flexibility` on demand: which campaign partitions to backfill, and how the
progress of the running backfill is shown (used by `negotiation-pipeline backfill-cpm`).

The backfill itself is Dagster's asset backfill, launched on the running webserver and run by
its daemon (integrations/dagster_webserver/backfills.py), so it shows in the UI like one started
there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from negotiation_pipeline.integrations.dagster_webserver import (
    BackfillStatus,
    DagsterWebserverClient,
)

CPM_ASSET = "cpm_flexibility"
# cpm_flexibility reads the validated campaign and its influencer list; a campaign partition
# whose influencer list never materialized (e.g. the ClickUp form did not validate) cannot be
# recomputed, so a backfill over it could only fail.
READY_ASSET = "campaign_influencers"
_MAX_LISTED_IDS = 20


class CampaignSelectionError(ValueError):
    """The requested campaigns cannot be backfilled (unknown ids, not ingested, none at all)."""


@dataclass(frozen=True)
class CpmBackfillPlan:
    partitions: tuple[str, ...]  # campaign ids to recompute
    not_ready: tuple[str, ...]  # campaigns left out because their influencer list is missing


def _listing(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED_IDS])
    more = len(ids) - _MAX_LISTED_IDS
    return shown + (f" and {more} more" if more > 0 else "")


def plan_cpm_backfill(client: DagsterWebserverClient, requested: Sequence[str]) -> CpmBackfillPlan:
    """The campaign partitions to recompute: the `requested` ids (each must be a known campaign
    partition with a materialized influencer list), or, when none are requested, every campaign
    partition that has one. Raises CampaignSelectionError naming the offending ids."""
    known = client.asset_partition_keys(CPM_ASSET)
    ready = client.asset_partition_statuses(READY_ASSET).materialized
    if requested:
        wanted = list(dict.fromkeys(c.strip() for c in requested))
        unknown = [c for c in wanted if c not in set(known)]
        if unknown:
            raise CampaignSelectionError(
                f"unknown campaign id(s): {_listing(unknown)}; known campaigns: "
                f"{_listing(known) or 'none yet'}"
            )
        not_ready = [c for c in wanted if c not in ready]
        if not_ready:
            raise CampaignSelectionError(
                f"campaign(s) {_listing(not_ready)} have no influencer list yet "
                f"({READY_ASSET} never materialized: the ClickUp task did not validate or is "
                "still being ingested); fix the task and let clickup_campaign_sensor ingest it"
            )
        return CpmBackfillPlan(partitions=tuple(wanted), not_ready=())
    if not known:
        raise CampaignSelectionError(
            "no campaign partitions yet: clickup_campaign_sensor has not added any campaign"
        )
    # Sorted: the plan reads the same whatever order the sensor happened to add campaigns in.
    partitions = tuple(sorted(c for c in known if c in ready))
    skipped = tuple(sorted(c for c in known if c not in ready))
    if not partitions:
        raise CampaignSelectionError(
            f"none of the {len(known)} campaign(s) has an influencer list yet "
            f"({READY_ASSET} never materialized): {_listing(list(skipped))}"
        )
    return CpmBackfillPlan(partitions=partitions, not_ready=skipped)


def backfill_ui_url(webserver_url: str, backfill_id: str) -> str:
    return f"{webserver_url.rstrip('/')}/runs/b/{backfill_id}"


class ProgressPrinter:
    """Shows backfill progress: on a terminal one line rewritten in place, otherwise one plain
    line each time the progress changes (so CI logs and pipes stay readable)."""

    def __init__(
        self, stream: TextIO, *, live: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream
        self._live = live
        self._clock = clock
        self._started = clock()
        self._last_summary: str | None = None
        self._width = 0

    def __call__(self, status: BackfillStatus) -> None:
        summary = status.summary()
        elapsed = self._clock() - self._started
        line = f"backfill {status.backfill_id} [{elapsed:4.0f} s] {summary}"
        if self._live:
            # Pad with spaces so a shorter line fully covers the previous one.
            self._stream.write("\r" + line.ljust(self._width))
            self._width = max(self._width, len(line))
            self._stream.flush()
        elif summary != self._last_summary:
            self._stream.write(line + "\n")
            self._stream.flush()
        self._last_summary = summary

    def finish(self) -> None:
        """End the in-place line so the next output starts on a fresh line."""
        if self._live and self._last_summary is not None:
            self._stream.write("\n")
            self._stream.flush()
