"""`negotiation-pipeline control ...`: an operator acts on negotiations (pause, resume, stop,
take over, stop an agency, allow another sender). Every action is persisted and audited.

The actions are registered on `control_group` in `cli/__init__.py`, like every command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from negotiation_pipeline.cli.common import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    actor_option,
    actor_or_default,
    business_store,
    db_option,
    error,
    exits_with_code,
    pipeline_store_config,
    warning,
)

if TYPE_CHECKING:
    from negotiation_pipeline.store.base import NegotiationStore
    from negotiation_pipeline.workflow.events import PipelineEvent


@click.group("control")
def control_group() -> None:
    """Act on negotiations by thread id or influencer email.

    An email acts on every active negotiation with that influencer. Each change is saved in
    the store and audited. Prints one line per negotiation; exit 2 when nothing matched or
    nothing changed.
    """


def _run_action(action: str, target: str, db: str | None, actor: str | None) -> int:
    from datetime import UTC, datetime

    from negotiation_pipeline.workflow.control import (
        ControlError,
        NothingChangedError,
        control,
        stop_agency,
    )

    who = actor_or_default(actor)
    now = datetime.now(UTC)
    with business_store(db) as store:
        try:
            if action == "stop-agency":
                result = stop_agency(store, target, actor=who, now=now)
            else:
                result = control(store, action, target, actor=who, now=now)
        except NothingChangedError as exc:
            for line in exc.result.lines:
                click.echo(line)
            error(f"{action} {target}: nothing changed")
            return EXIT_INVALID
        except ControlError as exc:
            error(str(exc))
            return EXIT_INVALID
    for line in result.lines:
        click.echo(line)
    return EXIT_OK


def _action_command(name: str, summary: str, details: str = "") -> click.Command:
    @click.command(name, help=f"{summary}\n\n{details}".strip(), short_help=summary)
    @click.argument("target", metavar="THREAD_ID_OR_EMAIL")
    @db_option
    @actor_option
    @exits_with_code
    def command(target: str, db: str | None, actor: str | None) -> int:
        return _run_action(name, target, db, actor)

    return command


pause_command = _action_command(
    "pause", "Pause a negotiation.", "It remembers its state; resume restores it."
)
resume_command = _action_command(
    "resume", "Resume a paused or taken-over negotiation.",
    "A paused negotiation goes back to the state it was paused in; a taken-over one is handed "
    "back to the agent.",
)  # fmt: skip
stop_command = _action_command("stop", "Stop a negotiation for good.")
takeover_command = _action_command(
    "takeover", "A human takes over a negotiation.",
    "The agent stops answering and following up until `resume` hands it back.",
)  # fmt: skip


@click.command("stop-agency")
@click.argument("agency", metavar="AGENCY_NAME")
@db_option
@actor_option
@exits_with_code
def stop_agency_command(agency: str, db: str | None, actor: str | None) -> int:
    """Stop every active negotiation of a talent agency.

    AGENCY_NAME is matched case-insensitively.
    """
    return _run_action("stop-agency", agency, db, actor)


@click.command(
    "allow-sender", short_help="Let another address answer; its held replies are processed once."
)
@click.argument("target", metavar="THREAD_OR_EMAIL")
@click.argument("address", metavar="ADDRESS")
@db_option
@actor_option
@click.option(
    "--agent-email",
    envvar="AGENT_EMAIL",
    show_envvar=True,
    metavar="ADDRESS",
    help="Our own From address (default: the sandbox's).",
)
@exits_with_code
def allow_sender_command(
    target: str, address: str, db: str | None, actor: str | None, agent_email: str | None
) -> int:
    """Let ADDRESS answer in the negotiation(s) of THREAD_OR_EMAIL; its held replies are
    processed once.

    Besides the roster's influencer and manager addresses, ADDRESS may now answer. The replies
    from it that were held are processed oldest first, each exactly once. Our answers go out
    with the next run of the pipeline (a new reply or the hourly follow-ups); Slack hears
    about them as usual. Running it again is harmless.
    """
    from datetime import UTC, datetime

    from negotiation_pipeline.defs.shared.resources import SANDBOX_AGENT_EMAIL
    from negotiation_pipeline.settings.engine import load_engine_config
    from negotiation_pipeline.settings.files import ConfigError
    from negotiation_pipeline.workflow.allowed_senders import allow_sender
    from negotiation_pipeline.workflow.control import ControlError

    agent = (agent_email or "").strip() or SANDBOX_AGENT_EMAIL
    try:
        config = load_engine_config()
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        return EXIT_FAILURE
    with business_store(db) as store:
        try:
            result = allow_sender(
                store, target, address, actor=actor_or_default(actor), now=datetime.now(UTC),
                config=config, agent_addresses=[agent],
            )  # fmt: skip
        except ControlError as exc:
            error(str(exc))
            return EXIT_INVALID
        for line in result.lines:
            click.echo(line)
        _post_release_alerts(store, result.events, db)
    if result.released:
        click.echo(
            "answers are queued: the next advance_negotiations or run_followups run sends them"
        )
    return EXIT_OK


def _post_release_alerts(
    store: NegotiationStore, events: Sequence[PipelineEvent], db: str | None
) -> None:
    """Slack alerts and ClickUp comments for what the released replies caused (an agreement,
    an escalation...), through the same resources the pipeline builds from the environment.
    The work is committed already: a failure here is reported, never raised."""
    if not events:
        return
    import logging

    from negotiation_pipeline.definitions import slack_resource, task_source_resource
    from negotiation_pipeline.defs.negotiations.notifications import notify_events

    log = logging.getLogger("negotiation_pipeline.cli.control")
    try:
        # The sandbox's local files (Slack log, ClickUp comments) go with the store used.
        env, store_config, data_dir = pipeline_store_config(db)
        slack_config = slack_resource(env, data_dir, store_config)
        clickup_config = task_source_resource(env, data_dir, alerts=slack_config)
        with (
            slack_config.process_config_and_initialize_cm() as slack,
            clickup_config.process_config_and_initialize_cm() as clickup,
        ):
            result = notify_events(log, events, store, slack, clickup)
    except Exception as exc:  # the alerts are lost, the negotiation work is not
        warning(f"alerts not posted: {type(exc).__name__}: {exc}")
        return
    for problem in (*result.slack.errors, *result.comments.errors):
        warning(f"alert not posted: {problem}")
    if result.slack.pending > 0:
        warning(f"{result.slack.pending} Slack alert(s) still queued; a later run sends them")
