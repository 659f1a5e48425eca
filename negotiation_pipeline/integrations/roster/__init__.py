"""Influencer roster CSV: read from a local path or an http(s) URL (SPEC §4)."""

from negotiation_pipeline.integrations.roster.reader import (
    RosterReadError,
    parse_roster_csv,
    read_roster,
)

__all__ = ["RosterReadError", "parse_roster_csv", "read_roster"]
