"""`negotiation-pipeline backfill-cpm`: launch the cpm_flexibility asset backfill on the running
Dagster webserver and follow it to the end."""

from __future__ import annotations

import sys

import click

from negotiation_pipeline.cli.common import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    error,
    exits_with_code,
)

EXIT_TIMEOUT = 3  # still running when --timeout ran out (it goes on in Dagster)
EXIT_INTERRUPTED = 130  # Ctrl-C while following (the backfill goes on in Dagster)

SECONDS = click.FloatRange(min=0, min_open=True)


@click.command("backfill-cpm", short_help="Launch and follow the cpm_flexibility backfill.")
@click.option(
    "--campaign", "campaigns", multiple=True, metavar="ID",
    help="Campaign id (ClickUp task id); repeat for several. Default: every campaign "
    "partition that has an influencer list.",
)  # fmt: skip
@click.option(
    "--url", envvar="DAGSTER_WEBSERVER_URL", show_envvar=True, metavar="URL",
    help="Dagster webserver URL (default: http://127.0.0.1:3000).",
)  # fmt: skip
@click.option(
    "--timeout", type=SECONDS, default=900.0, show_default=True, metavar="S",
    help="Stop following after S seconds (the backfill goes on).",
)  # fmt: skip
@click.option(
    "--poll-interval", type=SECONDS, default=2.0, show_default=True, metavar="S",
    help="Seconds between polls (at most 5: progress shows at least every 5 s).",
)  # fmt: skip
@click.option("--title", help="Backfill title shown in the Dagster UI.")
@click.option("--no-follow", is_flag=True, help="Print the backfill id and return at once.")
@exits_with_code
def backfill_cpm_command(
    campaigns: tuple[str, ...],
    url: str | None,
    timeout: float,
    poll_interval: float,
    title: str | None,
    no_follow: bool,
) -> int:
    """Recompute cpm_flexibility for campaigns with a backfill in the running Dagster.

    Launches the backfill on the Dagster webserver (`negotiation-pipeline dev` or your
    deployment) and follows it to the end: progress on stderr, a JSON summary on stdout.
    Exit 0 when every campaign was recomputed, 1 when the backfill failed or was canceled or
    the webserver cannot be reached, 2 for unknown campaign ids, 3 when --timeout ran out,
    130 when interrupted (the backfill goes on in Dagster in both last cases).
    """
    import json

    from negotiation_pipeline.integrations.dagster_webserver import (
        DEFAULT_WEBSERVER_URL,
        BackfillTimeoutError,
        DagsterWebserverClient,
        DagsterWebserverError,
    )
    from negotiation_pipeline.workflow.cpm_backfill import (
        CPM_ASSET,
        PROGRESS_EVERY_S,
        CampaignSelectionError,
        ProgressPrinter,
        backfill_ui_url,
        plan_cpm_backfill,
    )

    url = url or DEFAULT_WEBSERVER_URL
    printer = ProgressPrinter(sys.stderr, live=sys.stderr.isatty())
    summary: dict[str, object] = {}
    try:
        with DagsterWebserverClient(url) as client:
            plan = plan_cpm_backfill(client, list(campaigns))
            for why, skipped in plan.skipped_by_reason().items():
                click.echo(
                    f"skipping {len(skipped)} campaign(s), {why}: " + ", ".join(skipped),
                    err=True,
                )
            backfill_id = client.launch_partition_backfill(
                [CPM_ASSET],
                plan.partitions,
                title=title or f"Recompute {CPM_ASSET} ({len(plan.partitions)} campaigns)",
            )
            summary = {
                "backfill_id": backfill_id,
                "url": backfill_ui_url(url, backfill_id),
                "partitions": list(plan.partitions),
                "skipped": list(plan.not_ready),
                "skip_reasons": dict(plan.reasons),
            }
            click.echo(f"launched backfill {backfill_id}: {summary['url']}", err=True)
            if no_follow:
                click.echo(json.dumps({**summary, "status": "REQUESTED"}))
                return EXIT_OK
            status = client.follow_backfill(
                backfill_id,
                timeout_seconds=timeout,
                # Polled at least every PROGRESS_EVERY_S: progress never goes quiet longer.
                poll_interval_seconds=min(poll_interval, PROGRESS_EVERY_S),
                on_progress=printer,
            )
    except CampaignSelectionError as exc:
        error(str(exc))
        return EXIT_INVALID
    except BackfillTimeoutError as exc:
        printer.finish()
        error(f"{exc}: {summary.get('url')}")
        return EXIT_TIMEOUT
    except DagsterWebserverError as exc:
        printer.finish()
        error(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        printer.finish()
        click.echo(f"stopped following; the backfill keeps running: {summary.get('url')}", err=True)
        return EXIT_INTERRUPTED
    printer.finish()
    summary["status"] = status.status
    summary["assets"] = [vars(a) for a in status.assets]
    click.echo(json.dumps(summary))
    if status.succeeded:
        return EXIT_OK
    detail = f": {status.error}" if status.error else ""
    error(f"backfill ended {status.status}{detail}; see {summary['url']}")
    return EXIT_FAILURE
