"""Commands for the person a negotiation waits for: list open escalations and held drafts, and
resolve one (accept, counter, send the draft, decline) by thread id, influencer email or name.

Each control command prints one line: JSON with `--format json`, else a readable sentence. It
exits 0 when done (also when the same resolution was already done: nothing happens twice), 2
with the reason when the thread is not waiting for a person, the target is unknown or
ambiguous, the amount is not money or there is no store where --db/NEGOTIATION_DB points, and
1 when the store (unreachable, damaged) or the configuration is unusable.

After the decision is committed, the email it queued is sent through the outbox and the Slack
confirmation posted, with the same mailbox and Slack settings the pipeline uses. The campaign's
snapshots and report are marked for refresh; when DAGSTER_WEBSERVER_URL answers, a refresh of
those two assets is requested right away.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from negotiation_pipeline.cli.common import (
    EXIT_FAILURE,
    EXIT_INVALID,
    business_store,
    db_option,
    error,
    pipeline_store_config,
    warning,
)
from negotiation_pipeline.store import NegotiationStore

_FORMATS = click.Choice(["table", "json"])


def _fail(message: str, code: int) -> NoReturn:
    error(message)
    sys.exit(code)


_db_option = db_option
_campaign_option = click.option(
    "--campaign", metavar="ID", help="Only this campaign (its ClickUp task id)."
)


@click.command("escalations", short_help="List the negotiations waiting for a person.")
@_campaign_option
@click.option(
    "--format", "output", type=_FORMATS, default="table", show_default=True,
    help="A readable table, or one JSON list.",
)  # fmt: skip
@_db_option
def escalations_command(campaign: str | None, output: str, db: str | None) -> None:
    """Every open escalation: who, why, their ask, our offer, the ceiling and the held draft."""
    from negotiation_pipeline.workflow.escalations import format_table, list_escalations

    with business_store(db) as store:
        items = list_escalations(store, campaign)
    if output == "json":
        click.echo(json.dumps([item.to_dict() for item in items], ensure_ascii=False))
    else:
        click.echo(format_table(items))


@click.command("drafts", short_help="List the emails waiting for approval.")
@_campaign_option
@click.option(
    "--format", "output", type=_FORMATS, default="table", show_default=True,
    help="A readable table, or one JSON list.",
)  # fmt: skip
@_db_option
def drafts_command(campaign: str | None, output: str, db: str | None) -> None:
    """Emails waiting for approval (the campaign's approval mode): nothing is sent until
    `control send-draft` approves one."""
    from negotiation_pipeline.workflow.escalations import first_lines, format_drafts, list_drafts

    with business_store(db) as store:
        items = list_drafts(store, campaign)
    if output == "json":
        rows = [{**item.to_dict(), "first_lines": first_lines(item.draft_body)} for item in items]
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        click.echo(format_drafts(items))


def _deliver(store: NegotiationStore, db: str | None, result: Any) -> tuple[str, str]:
    """(email status, Slack status) after the committed resolution; never raises."""
    from negotiation_pipeline.definitions import mailbox_resource, slack_resource
    from negotiation_pipeline.workflow.resolution import deliver_resolution

    email_status = slack_status = "queued: the next pipeline run sends it"
    try:
        env, store_config, data_dir = pipeline_store_config(db)
        mail_config = mailbox_resource(env, data_dir)
        with mail_config.process_config_and_initialize_cm() as mail, mail.open() as box:
            email_status = deliver_resolution(store, box, result, now=datetime.now(UTC))
        slack_config = slack_resource(env, data_dir, store_config)
        with slack_config.process_config_and_initialize_cm() as slack:
            delivery = slack.deliver(store)
        slack_status = (
            "posted"
            if delivery.pending == 0 and not delivery.errors
            else (f"{delivery.pending} still queued")
        )
    except Exception as exc:  # the decision is committed; sending is retried by later runs
        warning(f"not delivered now: {type(exc).__name__}: {exc}")
    return email_status, slack_status


def _request_refresh(campaign_id: str) -> str:
    """Ask a running Dagster webserver to re-materialize the campaign's views."""
    url = os.environ.get("DAGSTER_WEBSERVER_URL", "").strip()
    if not url:
        return "marked stale: the next run refreshes the snapshots and report"
    from negotiation_pipeline.integrations.dagster_webserver import (
        DagsterWebserverClient,
        DagsterWebserverError,
    )

    try:
        with DagsterWebserverClient(url, timeout=5.0) as client:
            backfill = client.launch_partition_backfill(
                ["negotiation_snapshots", "campaign_report"],
                [campaign_id],
                title=f"refresh after a decision on {campaign_id}",
            )
    except (DagsterWebserverError, OSError) as exc:
        return f"marked stale (webserver not usable: {exc}); the next run refreshes them"
    return f"refresh requested (backfill {backfill})"


def _resolve(
    ctx: click.Context,
    target: str,
    action: str,
    *,
    amount: str | None = None,
    scenario: int | None = None,
    allow_above_ceiling: bool = False,
    text: str | None = None,
) -> None:
    from negotiation_pipeline.defs.shared.resources import SANDBOX_AGENT_EMAIL
    from negotiation_pipeline.settings.engine import load_engine_config
    from negotiation_pipeline.settings.files import ConfigError
    from negotiation_pipeline.workflow.resolution import (
        ResolutionError,
        ResolutionRequest,
        ResolveAction,
        resolve,
    )

    params = ctx.params
    actor = params.get("actor") or f"cli:{getpass.getuser()}"
    agent = os.environ.get("AGENT_EMAIL", "").strip() or SANDBOX_AGENT_EMAIL
    try:
        config = load_engine_config()
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", EXIT_FAILURE)
    request = ResolutionRequest(
        target=target,
        action=ResolveAction(action),
        amount=amount,
        scenario=scenario,
        allow_above_ceiling=allow_above_ceiling,
        text=text,
        note=params.get("note") or "",
    )
    db = params.get("db")
    with business_store(db) as store:
        try:
            result = resolve(
                store,
                request,
                config=config,
                actor=actor,
                agent_addresses=[agent],
                now=datetime.now(UTC),
            )
        except ResolutionError as exc:
            _fail(str(exc), EXIT_INVALID)
        email_status, slack_status = _deliver(store, db, result)
    refresh = _request_refresh(result.campaign_id)
    if params.get("output") == "json":
        out = {**result.to_dict(), "email": email_status, "slack": slack_status}
        click.echo(json.dumps({**out, "views": refresh}, ensure_ascii=False))
    else:
        click.echo(f"{result.line()}; email {email_status}; {refresh}")


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option(
            "--format",
            "output",
            type=_FORMATS,
            default="table",
            show_default=True,
            help="A readable line, or one JSON object.",
        ),
        click.option("--note", default="", help="Why, for the audit trail and the Slack note."),
        click.option(
            "--actor", metavar="NAME", help="Who decides, for the audit trail (default: cli:$USER)."
        ),
        _db_option,
    ):
        command = option(command)
    return command


@click.command("accept", short_help="Agree at their ask (or --rate) and confirm by email.")
@click.argument("thread")
@click.option("--rate", metavar="AMOUNT", help="Agree at this amount instead of their ask.")
@_common
@click.pass_context
def accept_command(ctx: click.Context, thread: str, rate: str | None, **_: Any) -> None:
    """Agree at their ask (or --rate): the confirmation email goes out."""
    _resolve(ctx, thread, "accept", amount=rate)


@click.command("counter", short_help="Send a counter offer at AMOUNT.")
@click.argument("thread")
@click.argument("amount")
@click.option(
    "--scenario", type=click.IntRange(1, 3), metavar="N",
    help="Offer the deliverables of scenario N (1-3) for this amount.",
)  # fmt: skip
@click.option(
    "--allow-above-ceiling", is_flag=True,
    help="Allow an amount above the ceiling (recorded as a human override).",
)  # fmt: skip
@_common
@click.pass_context
def counter_command(
    ctx: click.Context,
    thread: str,
    amount: str,
    scenario: int | None,
    allow_above_ceiling: bool,
    **_: Any,
) -> None:
    """Send a counter offer at AMOUNT.

    The email is checked like every email we send (amounts, name, promises); above the
    influencer's ceiling only with --allow-above-ceiling.
    """
    _resolve(
        ctx,
        thread,
        "counter",
        amount=amount,
        scenario=scenario,
        allow_above_ceiling=allow_above_ceiling,
    )


@click.command("send-draft", short_help="Send the held draft, as it is or edited.")
@click.argument("thread")
@click.option(
    "--edit",
    "edit_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Send the text of FILE instead (checked like every email we send).",
)
@_common
@click.pass_context
def send_draft_command(ctx: click.Context, thread: str, edit_file: Path | None, **_: Any) -> None:
    """Send the held draft as it is, or the edited text from --edit FILE."""
    text = None
    if edit_file is not None:
        try:
            text = edit_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"cannot read {edit_file}: {exc}", EXIT_INVALID)
    _resolve(ctx, thread, "send_draft", text=text)


@click.command("decline", short_help="Close the negotiation with a courteous email.")
@click.argument("thread")
@_common
@click.pass_context
def decline_command(ctx: click.Context, thread: str, **_: Any) -> None:
    """Close the negotiation with a courteous email; it ends `rejected`."""
    _resolve(ctx, thread, "decline")


__all__ = [
    "accept_command",
    "counter_command",
    "decline_command",
    "drafts_command",
    "escalations_command",
    "send_draft_command",
]
