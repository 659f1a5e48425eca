"""`negotiation-pipeline audit`: query the audit trail of the business store, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import click

from negotiation_pipeline.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    business_store,
    db_option,
    error,
    exits_with_code,
)
from negotiation_pipeline.cli.params import ParsedParamType
from negotiation_pipeline.domain.enums import EventType

if TYPE_CHECKING:
    from negotiation_pipeline.domain.audit import AuditEntry
    from negotiation_pipeline.store.base import NegotiationStore


def _day(text: str) -> date:
    from negotiation_pipeline.store.audit_filters import parse_day

    return parse_day(text)


def _duration(text: str) -> timedelta:
    from negotiation_pipeline.store.audit_filters import parse_last

    return parse_last(text)


def _limit(text: str) -> int:
    from negotiation_pipeline.store.audit_filters import MAX_LIMIT

    try:
        limit = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit} is out of range: expected 1..{MAX_LIMIT}")
    return limit


DAY = ParsedParamType("day", "YYYY-MM-DD", _day)
DURATION = ParsedParamType("duration", "N{m,h,d,w}", _duration)
LIMIT = ParsedParamType("limit", "N", _limit)


@click.command("audit")
@click.option("--influencer", metavar="NAME", help="Influencer name (case-insensitive, exact).")
@click.option("--campaign", metavar="ID", help="Campaign id (the ClickUp task id).")
@click.option("--from", "from_date", type=DAY, help="First day (UTC).")
@click.option("--to", "to_date", type=DAY, help="Last day (UTC, included).")
@click.option(
    "--event-type",
    type=click.Choice([kind.value for kind in EventType], case_sensitive=False),
    help="Only entries of this type.",
)
@click.option("--last", type=DURATION, help="Only the last N minutes, hours, days or weeks.")
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json", "csv"]),
    default="table", show_default=True, help="Output format.",
)  # fmt: skip
@click.option("--limit", type=LIMIT, default="50", show_default=True, help="At most N entries.")
@db_option
@exits_with_code
def audit_command(
    influencer: str | None,
    campaign: str | None,
    from_date: date | None,
    to_date: date | None,
    event_type: str | None,
    last: timedelta | None,
    output_format: str,
    limit: int,
    db: str | None,
) -> int:
    """Query the audit trail, newest first.

    Filters combine with AND; days are whole UTC days, both ends included.
    """
    from negotiation_pipeline.store import AuditFilterError, build_audit_query
    from negotiation_pipeline.store.audit_filters import MAX_LIMIT
    from negotiation_pipeline.store.audit_format import older_entries_note, render

    try:  # every filter is valid before the database is touched
        query = build_audit_query(
            influencer=influencer,
            campaign=campaign,
            from_date=from_date,
            to_date=to_date,
            event_type=event_type,
            since=last,
            limit=limit,
        )
    except AuditFilterError as exc:
        error(str(exc))
        return EXIT_INVALID
    with business_store(db) as store:
        # One entry beyond the limit tells whether the limit hid older ones (the store's own
        # cap allows no probe beyond it).
        probe = min(query.limit + 1, MAX_LIMIT)
        found = store.audit.query(replace(query, limit=probe))
        entries, older_hidden = found[: query.limit], len(found) > query.limit
        names = _client_names(store, entries) if output_format == "table" else {}
    click.echo(render(entries, output_format, names, older_hidden=older_hidden))
    if older_hidden and output_format != "table":
        click.echo(older_entries_note(len(entries)), err=True)  # stdout stays pure data
    return EXIT_OK


def _client_names(store: NegotiationStore, entries: Sequence[AuditEntry]) -> dict[str, str]:
    names: dict[str, str] = {}
    for campaign_id in dict.fromkeys(e.campaign_id for e in entries if e.campaign_id):
        record = store.campaigns.get(campaign_id)
        if record is not None and record.client_name:
            names[campaign_id] = record.client_name
    return names
