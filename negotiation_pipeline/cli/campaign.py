"""`negotiation-pipeline campaign ...`: campaign intake tools (validate a ClickUp task file)."""

from __future__ import annotations

from pathlib import Path

import click

from negotiation_pipeline.cli.common import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, exits_with_code


@click.group("campaign")
def campaign_group() -> None:
    """Campaign intake tools."""


@campaign_group.command(
    "validate", short_help="Check a ClickUp task file and print the campaign it describes."
)
@click.argument("task_json", type=click.Path(dir_okay=False, path_type=Path))
@exits_with_code
def validate_command(task_json: Path) -> int:
    """Validate the ClickUp task in TASK_JSON and print the campaign as JSON.

    An invalid task prints one `<Form Label>: <problem>` line per bad field and exits 2.
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
        campaign = parse_campaign_task(task, FieldMapping.load())
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        return EXIT_FAILURE
    except CampaignValidationError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        return EXIT_INVALID
    click.echo(campaign.model_dump_json(indent=2))
    return EXIT_OK
