"""The `negotiation-pipeline` command line (click): the root group `cli` and the console entry
point `main`.

One module per command group: campaign.py, read_reply.py, simulate.py, audit.py, control.py,
backfill.py, dev.py; shared options, exit codes and the store opener in common.py; option
types (money as Decimal) in params.py. Commands stay thin: parse options, call the library,
print (JSON where a program reads it), exit 0 (done), 1 (failure) or 2 (invalid input; click's
own usage errors are 2 too).

Adding a command is one line below, after writing it in its own module:

    cli.add_command(escalations_command)      # a new top-level command or group
    control_group.add_command(accept_command) # a new `control` action

A command that touches the business store opens it with `common.business_store(db)` and takes
the shared `@db_option` (which falls back to $NEGOTIATION_DB), so SQLite and PostgreSQL work
alike and no message shows a database password. Import heavy modules inside the command
function, not at module level: `--help` should not load Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from negotiation_pipeline.cli.audit import audit_command
from negotiation_pipeline.cli.backfill import backfill_cpm_command
from negotiation_pipeline.cli.campaign import campaign_group
from negotiation_pipeline.cli.common import EXIT_FAILURE, EXIT_INVALID, EXIT_OK
from negotiation_pipeline.cli.control import (
    allow_sender_command,
    control_group,
    pause_command,
    resume_command,
    stop_agency_command,
    stop_command,
    takeover_command,
)
from negotiation_pipeline.cli.dev import dev_command
from negotiation_pipeline.cli.escalations import (
    accept_command,
    counter_command,
    decline_command,
    drafts_command,
    escalations_command,
    send_draft_command,
)
from negotiation_pipeline.cli.read_reply import read_reply_command
from negotiation_pipeline.cli.simulate import simulate_command
from negotiation_pipeline.cli.thread import thread_command

PROG_NAME = "negotiation-pipeline"

__all__ = ["EXIT_FAILURE", "EXIT_INVALID", "EXIT_OK", "cli", "control_group", "main"]


@click.group(
    PROG_NAME,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="negotiation-pipeline", prog_name=PROG_NAME)
def cli() -> None:
    """Negotiate influencer rates by email: inspect and steer the negotiations, check campaign
    tasks and emails, run the simulator and the local Dagster UI."""


cli.add_command(campaign_group)
cli.add_command(read_reply_command)
cli.add_command(simulate_command)
cli.add_command(audit_command)
cli.add_command(control_group)
cli.add_command(backfill_cpm_command)
cli.add_command(dev_command)
cli.add_command(escalations_command)
cli.add_command(drafts_command)
cli.add_command(thread_command)

control_group.add_command(pause_command)
control_group.add_command(resume_command)
control_group.add_command(stop_command)
control_group.add_command(takeover_command)
control_group.add_command(stop_agency_command)
control_group.add_command(allow_sender_command)
control_group.add_command(accept_command)
control_group.add_command(counter_command)
control_group.add_command(send_draft_command)
control_group.add_command(decline_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (default: the process's arguments) and return the exit
    code; the console script exits with it."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name=PROG_NAME,
                        standalone_mode=False)  # fmt: skip
    except click.ClickException as exc:  # usage errors: message on stderr, exit 2
        exc.show()
        return exc.exit_code
    except click.Abort:  # Ctrl-C or end of input at a prompt
        click.echo("Aborted!", err=True)
        return EXIT_FAILURE
    return code if isinstance(code, int) else EXIT_OK
