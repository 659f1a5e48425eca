"""Recomputing `cpm_flexibility` on demand: which campaign partitions to backfill, and how the
progress of the running backfill is shown (used by `negotiation-pipeline backfill-cpm`).

The backfill itself is Dagster's asset backfill, launched on the running webserver and run by
its daemon (integrations/dagster_webserver/backfills.py), so it shows in the UI like one started
there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from negotiation_pipeline.integrations.dagster_webserver import (
    BackfillStatus,
    DagsterWebserverClient,
    PartitionStatuses,
)

CPM_ASSET = "cpm_flexibility"
# cpm_flexibility reads the validated campaign and its influencer list; a campaign partition
# whose influencer list never materialized (e.g. the ClickUp form did not validate) cannot be
# recomputed, so a backfill over it could only fail.
READY_ASSET = "campaign_influencers"
CAMPAIGN_ASSET = "campaign"
_MAX_LISTED_IDS = 20

# Why a campaign partition cannot be recomputed, as the operator fixes it.
NOT_VALIDATED = "the ClickUp task did not validate (fix the form; the sensor then ingests it again)"
NO_INFLUENCER_LIST = (
    "the influencer list could not be built (the roster could not be read or used; see the "
    "campaign_influencers run)"
)
STILL_INGESTING = "still being ingested"
NEVER_INGESTED = "never ingested (no campaign_ingestion_job run yet)"


class CampaignSelectionError(ValueError):
    """The requested campaigns cannot be backfilled (unknown ids, not ingested, none at all)."""


@dataclass(frozen=True)
class CpmBackfillPlan:
    partitions: tuple[str, ...]  # campaign ids to recompute
    not_ready: tuple[str, ...]  # campaigns left out because their influencer list is missing
    reasons: Mapping[str, str] = field(default_factory=dict)  # not_ready id → why

    def skipped_by_reason(self) -> dict[str, list[str]]:
        """Why → the campaigns left out for it, in plan order."""
        grouped: dict[str, list[str]] = {}
        for campaign_id in self.not_ready:
            grouped.setdefault(self.reasons.get(campaign_id, NO_INFLUENCER_LIST), []).append(
                campaign_id
            )
        return grouped


def _why_not_ready(
    campaign_id: str, campaign: PartitionStatuses, influencers: PartitionStatuses
) -> str:
    if campaign_id in campaign.materializing or campaign_id in influencers.materializing:
        return STILL_INGESTING
    if campaign_id in campaign.failed:
        return NOT_VALIDATED
    if campaign_id in campaign.materialized:
        return NO_INFLUENCER_LIST
    return NEVER_INGESTED


def _listing(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_MAX_LISTED_IDS])
    more = len(ids) - _MAX_LISTED_IDS
    return shown + (f" and {more} more" if more > 0 else "")


def plan_cpm_backfill(client: DagsterWebserverClient, requested: Sequence[str]) -> CpmBackfillPlan:
    """The campaign partitions to recompute: the `requested` ids (each must be a known campaign
    partition with a materialized influencer list), or, when none are requested, every campaign
    partition that has one. Raises CampaignSelectionError naming the offending ids."""
    known = client.asset_partition_keys(CPM_ASSET)
    influencers = client.asset_partition_statuses(READY_ASSET)
    ready = influencers.materialized
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
            campaigns = client.asset_partition_statuses(CAMPAIGN_ASSET)
            why = "; ".join(f"{c}: {_why_not_ready(c, campaigns, influencers)}" for c in not_ready)
            raise CampaignSelectionError(
                f"campaign(s) {_listing(not_ready)} cannot be recomputed yet: {why}"
            )
        return CpmBackfillPlan(partitions=tuple(wanted), not_ready=())
    if not known:
        raise CampaignSelectionError(
            "no campaign partitions yet: clickup_campaign_sensor has not added any campaign"
        )
    # Sorted: the plan reads the same whatever order the sensor happened to add campaigns in.
    partitions = tuple(sorted(c for c in known if c in ready))
    skipped = tuple(sorted(c for c in known if c not in ready))
    reasons: dict[str, str] = {}
    if skipped:
        campaigns = client.asset_partition_statuses(CAMPAIGN_ASSET)
        reasons = {c: _why_not_ready(c, campaigns, influencers) for c in skipped}
    if not partitions:
        why = "; ".join(f"{c}: {reasons[c]}" for c in skipped[:_MAX_LISTED_IDS])
        raise CampaignSelectionError(
            f"none of the {len(known)} campaign(s) can be recomputed yet: {why}"
        )
    return CpmBackfillPlan(partitions=partitions, not_ready=skipped, reasons=reasons)


def backfill_ui_url(webserver_url: str, backfill_id: str) -> str:
    return f"{webserver_url.rstrip('/')}/runs/b/{backfill_id}"


# Longest silence while following: a line at least this often, changed or not, so a person
# watching (or a CI log) can tell a slow backfill from a stuck command.
PROGRESS_EVERY_S = 5.0


class ProgressPrinter:
    """Shows backfill progress: on a terminal one line rewritten in place, otherwise one plain
    line each time the progress changes, and at least every PROGRESS_EVERY_S (so CI logs and
    pipes stay readable and never go quiet)."""

    def __init__(
        self, stream: TextIO, *, live: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream
        self._live = live
        self._clock = clock
        self._started = clock()
        self._last_summary: str | None = None
        self._last_line_at = 0.0  # seconds since the start, as `elapsed`
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
        elif summary != self._last_summary or elapsed - self._last_line_at >= PROGRESS_EVERY_S:
            self._stream.write(line + "\n")
            self._stream.flush()
            self._last_line_at = elapsed
        self._last_summary = summary

    def finish(self) -> None:
        """End the in-place line so the next output starts on a fresh line."""
        if self._live and self._last_summary is not None:
            self._stream.write("\n")
            self._stream.flush()
