"""What an operator reads in the Dagster UI and in `--help` speaks to them: no store tables,
cursors, run keys, number types or code names; every command option says what it does."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import dagster as dg
from click.testing import CliRunner

from negotiation_pipeline.cli import cli
from negotiation_pipeline.definitions import build_definitions

# Words that describe how the code works rather than what the operator sees or decides.
DEVELOPER_NOTES = re.compile(
    r"`asset_\w+`|table `|run_key|cursor|uidvalidity|\buids?\b|Decimal|\bfloat\b|transaction"
    r"|outbox|open-source Dagster|dg\.|EnvVar|COMPLETED_SUCCESS|validation gate|dagster\.yaml"
    r"|workspace\.yaml|audit entry|run_followups\b|advance_negotiations\b(?!_job)",
    re.IGNORECASE,
)


def _descriptions(defs: dg.Definitions) -> Iterator[tuple[str, str]]:
    for spec in defs.resolve_all_asset_specs():
        yield f"asset {spec.key.to_user_string()}", spec.description or ""
    for job in defs.resolve_all_job_defs():
        if job.name.startswith("__"):
            continue
        yield f"job {job.name}", job.description or ""
        for node in job.graph.node_defs:
            yield f"op {node.name}", node.description or ""
    for sensor in defs.sensors or []:
        yield f"sensor {sensor.name}", sensor.description or ""
    for schedule in defs.schedules or []:
        yield f"schedule {schedule.name}", schedule.description or ""
    for assets in defs.assets or []:
        if isinstance(assets, dg.AssetsDefinition):
            for check in assets.check_specs:
                yield f"check {check.name}", check.description or ""


def test_every_ui_description_is_there_and_free_of_developer_notes(
    sandbox_env: dict[str, str],
) -> None:
    described = list(_descriptions(build_definitions(sandbox_env)))
    assert len(described) > 20
    missing = [name for name, text in described if not text.strip()]
    noted = [f"{name}: {m.group(0)!r}" for name, t in described if (m := DEVELOPER_NOTES.search(t))]
    assert missing == [] and noted == []


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_help_page_speaks_to_the_operator() -> None:
    runner = CliRunner()
    pages = 0
    for path in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"], prog_name="negotiation-pipeline")
        assert result.exit_code == 0, path
        pages += 1
        note = DEVELOPER_NOTES.search(result.output)
        assert note is None, f"{' '.join(path)}: {note.group(0)!r}"
        assert "..." not in result.output.split("Commands:")[-1] or "Commands:" not in (
            result.output
        ), f"{' '.join(path)}: a command summary is cut"
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        silent = [
            param.name
            for param in command.params
            if isinstance(param, click.Option) and not (param.help or "").strip()
        ]
        assert silent == [], f"{' '.join(path)}: options without help: {silent}"
    assert pages > 15
