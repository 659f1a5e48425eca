"""`negotiation-pipeline campaign ...`: campaign intake tools (validate a ClickUp task file).

A task that validates may still not be what its author meant: a publish date already past, or
listed influencers the roster cannot supply. Those are warnings on stderr (exit 0), found with
the same roster lookup the pipeline does.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from negotiation_pipeline.cli.common import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, exits_with_code

if TYPE_CHECKING:
    from negotiation_pipeline.domain.campaigns.campaign import Campaign


@click.group("campaign")
def campaign_group() -> None:
    """Campaign intake tools."""


@campaign_group.command(
    "validate", short_help="Check a ClickUp task file and print the campaign it describes."
)
@click.argument("task_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--roster", "roster_source", envvar="ROSTER_URL", show_envvar=True, metavar="PATH_OR_URL",
    help="Roster to look the Influencer List up in when the task names none "
    "(default: the sandbox roster).",
)  # fmt: skip
@click.option(
    "--no-roster", is_flag=True, help="Do not read the roster (no check of the Influencer List)."
)
@exits_with_code
def validate_command(task_json: Path, roster_source: str | None, no_roster: bool) -> int:
    """Validate the ClickUp task in TASK_JSON and print the campaign as JSON.

    An invalid task prints one `<Form Label>: <problem>` line per bad field and exits 2. A
    valid one may still get warnings on stderr (exit 0): a publish date already past, and,
    when the roster can be read, each listed influencer it cannot supply and why.
    """
    from negotiation_pipeline.integrations.clickup.fields import (
        CampaignValidationError,
        FieldMapping,
        load_task_json,
        parse_campaign_task,
    )
    from negotiation_pipeline.settings.files import ConfigError

    try:
        task = load_task_json(task_json.read_bytes())
    except OSError as exc:
        click.echo(f"cannot read {task_json}: {exc.strerror or exc}", err=True)
        return EXIT_INVALID
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        click.echo(f"{task_json} is not a ClickUp task JSON object: {exc}", err=True)
        return EXIT_INVALID
    try:
        mapping = FieldMapping.load()
        campaign = parse_campaign_task(task, mapping)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        return EXIT_FAILURE
    except CampaignValidationError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        return EXIT_INVALID
    click.echo(campaign.model_dump_json(indent=2))
    today = datetime.now(ZoneInfo(mapping.timezone)).date()
    warnings = publish_date_warnings(campaign, today, mapping.label_for("publish_date"))
    if not no_roster:
        warnings += roster_warnings(campaign, roster_source, mapping.label_for("influencers"))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    return EXIT_OK


def publish_date_warnings(campaign: Campaign, today: date, label: str) -> list[str]:
    if campaign.publish_date is None or campaign.publish_date >= today:
        return []
    return [
        f"{label}: {campaign.publish_date.isoformat()} is already past (today is "
        f"{today.isoformat()}); influencers cannot publish by then"
    ]


def roster_warnings(campaign: Campaign, default_source: str | None, label: str) -> list[str]:
    """One warning per listed influencer the roster cannot supply; one saying the list was
    not checked when the roster cannot be read."""
    from negotiation_pipeline.domain.campaigns.roster import select_influencers
    from negotiation_pipeline.integrations.roster import RosterReadError, read_roster
    from negotiation_pipeline.sandbox.paths import SANDBOX_ROSTER

    if not campaign.influencers:  # the whole roster on the platform: nothing listed to find
        return []
    if campaign.roster_url:
        source, trusted = campaign.roster_url, False
    else:
        source, trusted = default_source or str(SANDBOX_ROSTER), True
    try:
        rows = read_roster(source, trusted=trusted)
    except RosterReadError as exc:
        return [f"{label} not checked: {exc}"]
    selection = select_influencers(rows, list(campaign.influencers), campaign.platform)
    return [f"{label}: {skip.identifier}: {skip.reason}" for skip in selection.skipped]
