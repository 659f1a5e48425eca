"""Influencer roster CSV: the operator's path or URL, or a campaign's public https URL."""

from negotiation_pipeline.integrations.roster.errors import RosterReadError, RosterSourceError
from negotiation_pipeline.integrations.roster.fetch import AccessRules, FetchLimits
from negotiation_pipeline.integrations.roster.reader import parse_roster_csv, read_roster

__all__ = [
    "AccessRules",
    "FetchLimits",
    "RosterReadError",
    "RosterSourceError",
    "parse_roster_csv",
    "read_roster",
]
