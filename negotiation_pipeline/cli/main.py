"""`negotiation-pipeline` command line.

Each subcommand has its own `_add_*_parser` and `_cmd_*` pair; keep them thin: parse arguments,
call the library, print (JSON where a program reads it), return an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from negotiation_pipeline.store.base import NegotiationStore
    from negotiation_pipeline.workflow.events import PipelineEvent

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2

Handler = Callable[[argparse.Namespace], int]


# --- campaign validate -------------------------------------------------------------------------
def _add_campaign_parser(sub: argparse._SubParsersAction) -> None:
    campaign = sub.add_parser("campaign", help="campaign intake tools")
    campaign_sub = campaign.add_subparsers(dest="campaign_command", required=True)
    validate = campaign_sub.add_parser(
        "validate", help="validate a ClickUp task JSON file; print the campaign as JSON"
    )
    validate.add_argument("task_json", help="path to a ClickUp task JSON file")
    validate.set_defaults(handler=_cmd_campaign_validate)


def _cmd_campaign_validate(args: argparse.Namespace) -> int:
    """Print the validated campaign as JSON (exit 0); invalid task → one `<Form Label>: <message>`
    line per bad field on stderr (exit 2)."""
    from pathlib import Path

    from negotiation_pipeline.integrations.clickup.fields import (
        CampaignValidationError,
        FieldMapping,
        load_task_json,
        parse_campaign_task,
    )
    from negotiation_pipeline.settings.files import ConfigError

    path = Path(args.task_json)
    try:
        task = load_task_json(path.read_bytes())
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        print(f"{path} is not a ClickUp task JSON object: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        campaign = parse_campaign_task(task, FieldMapping.load())
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except CampaignValidationError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_INVALID
    print(campaign.model_dump_json(indent=2))
    return EXIT_OK


# --- read-reply --------------------------------------------------------------------------------
def _add_read_reply_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("read-reply", help="read one reply email (.eml); print JSON")
    parser.add_argument("message", help="path to an RFC 5322 message file")
    parser.set_defaults(handler=_cmd_read_reply)


def _cmd_read_reply(args: argparse.Namespace) -> int:
    # Imported here: the mail parser and reply reader are only needed by this subcommand.
    import json
    from pathlib import Path

    from negotiation_pipeline.domain.reading.reader import read_reply
    from negotiation_pipeline.integrations.mail.mime import MalformedMessageError, parse_message
    from negotiation_pipeline.settings.engine import load_engine_config

    path = Path(args.message)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"read-reply: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        parsed = parse_message(raw)
    except MalformedMessageError as exc:
        print(f"read-reply: {path} is not a readable email: {exc}", file=sys.stderr)
        return EXIT_INVALID
    config = load_engine_config()
    reading = read_reply(
        parsed.text_body,
        confidence_threshold=config.policy.confidence_threshold,
        vocabulary=config.vocabulary,
    )
    result = {
        "intent": reading.intent.value,
        "proposed_rate": None if reading.proposed_rate is None else str(reading.proposed_rate),
        "currency": reading.currency,
        "confidence": reading.confidence,
        "new_text": reading.new_text,
    }
    print(json.dumps(result, ensure_ascii=False))
    return EXIT_OK


# --- simulate ----------------------------------------------------------------------------------
def _add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("simulate", help="negotiate with simulated influencers in-process")
    parser.add_argument("--campaigns", type=int, default=3, help="number of campaigns")
    parser.add_argument(
        "--influencers", type=int, default=10, help="simulated influencers per campaign"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same run)")
    parser.add_argument(
        "--table",
        action="store_true",
        help="print only the per-opponent table (markdown) instead of the JSON summary",
    )
    parser.set_defaults(handler=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    import json
    import time

    from negotiation_pipeline.sandbox.simulation.simulator import simulate
    from negotiation_pipeline.settings.engine import load_engine_config
    from negotiation_pipeline.settings.files import ConfigError

    if args.campaigns < 1 or args.influencers < 1:
        print("--campaigns and --influencers must be at least 1", file=sys.stderr)
        return EXIT_INVALID
    try:
        config = load_engine_config()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILURE
    summary = simulate(args.campaigns, args.influencers, args.seed, config, clock=time.perf_counter)
    print(summary["by_opponent_markdown"] if args.table else json.dumps(summary, indent=2))
    return EXIT_OK


# --- audit -------------------------------------------------------------------------------------
def _add_audit_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "audit",
        help="query the audit trail (newest first)",
        description="Query the audit trail. Filters combine with AND; dates are whole UTC days, "
        "both ends inclusive.",
    )
    parser.add_argument("--influencer", help="influencer name (case-insensitive, exact)")
    parser.add_argument("--campaign", help="campaign id (ClickUp task id)")
    parser.add_argument("--from", dest="from_date", metavar="YYYY-MM-DD", help="first day")
    parser.add_argument("--to", dest="to_date", metavar="YYYY-MM-DD", help="last day (included)")
    parser.add_argument("--event-type", help="one of the audit event types, e.g. agreement")
    parser.add_argument("--last", metavar="N{m,h,d,w}", help="only the last N minutes/hours/days")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.add_argument("--limit", type=int, default=50, help="at most N entries (default 50)")
    parser.add_argument("--db", help="SQLite file (default: $NEGOTIATION_DB, else .sandbox/)")
    parser.set_defaults(handler=_cmd_audit)


def _cmd_audit(args: argparse.Namespace) -> int:
    import sqlite3

    from negotiation_pipeline.store import (
        AuditFilterError,
        SQLiteStore,
        StoreAccessError,
        StoreError,
        build_audit_query,
        default_db_path,
        parse_last,
    )
    from negotiation_pipeline.store.audit_format import render

    try:  # validate every filter before touching the database
        since = None if args.last is None else parse_last(args.last)
        query = build_audit_query(
            args.influencer, args.campaign, args.from_date, args.to_date, args.event_type,
            since, args.limit,
        )  # fmt: skip
    except AuditFilterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    db_path = args.db or default_db_path()
    try:
        store = SQLiteStore(db_path, create=False)
        entries = store.audit.query(
            query.influencer, query.campaign, query.from_date, query.to_date, query.event_type,
            query.since, query.limit,
        )  # fmt: skip
        store.close()
    except StoreAccessError as exc:  # locked, damaged, not a database: names the file
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except StoreError as exc:
        print(f"error: {exc} (set NEGOTIATION_DB or pass --db)", file=sys.stderr)
        return EXIT_INVALID
    except sqlite3.DatabaseError as exc:
        print(f"error: cannot read audit database {db_path}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(render(entries, args.format))
    return EXIT_OK


# --- control -----------------------------------------------------------------------------------
def _add_control_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "control",
        help="pause, resume, stop or take over a negotiation; allow a sender",
        description="Act on negotiations by thread id or influencer email (an email acts on "
        "every active negotiation with that influencer). Persisted in the SQLite store and "
        "audited. Prints one line per negotiation; exit 2 when nothing matched or changed.",
    )
    actions = parser.add_subparsers(dest="control_command", required=True)
    helps = {
        "pause": "pause (remembers the state; resume restores it)",
        "resume": "resume a paused negotiation and/or hand a taken-over one back to the agent",
        "stop": "stop for good",
        "takeover": "a human takes over: the agent stops answering and following up",
    }
    for name, text in helps.items():
        action = actions.add_parser(name, help=text)
        action.add_argument("target", metavar="THREAD_ID_OR_EMAIL")
        _add_control_options(action)
    agency = actions.add_parser("stop-agency", help="stop every active negotiation of an agency")
    agency.add_argument("target", metavar="AGENCY_NAME", help="talent agency (case-insensitive)")
    _add_control_options(agency)
    _add_allow_sender_parser(actions)
    parser.set_defaults(handler=_cmd_control)


def _add_allow_sender_parser(actions: argparse._SubParsersAction) -> None:
    allow = actions.add_parser(
        "allow-sender",
        help="let an address answer in a negotiation; its held replies are processed once",
        description="Allow ADDRESS to answer in the negotiation(s) of THREAD_OR_EMAIL (besides "
        "the roster's influencer and manager addresses), then process the replies from it "
        "that were held, oldest first, each exactly once. Answers are queued and sent by the "
        "next advance_negotiations or run_followups run; alerts go to Slack as the pipeline's "
        "do. Running it again is harmless.",
    )
    allow.add_argument("target", metavar="THREAD_OR_EMAIL")
    allow.add_argument("address", metavar="ADDRESS", help="the sender's email address")
    allow.add_argument(
        "--db", help="store: SQLite file or postgresql:// URL (default: $NEGOTIATION_DB)"
    )
    allow.add_argument("--actor", help="who is acting, for the audit trail (default: cli:$USER)")
    allow.add_argument(
        "--agent-email",
        help="our own From address (default: $AGENT_EMAIL, else the sandbox's)",
    )
    allow.set_defaults(handler=_cmd_allow_sender)


def _add_control_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="SQLite file (default: $NEGOTIATION_DB, else .sandbox/)")
    parser.add_argument("--actor", help="who is acting, for the audit trail (default: cli:$USER)")


def _cmd_control(args: argparse.Namespace) -> int:
    import getpass
    from datetime import UTC, datetime

    from negotiation_pipeline.store import (
        SQLiteStore,
        StoreAccessError,
        StoreError,
        default_db_path,
    )
    from negotiation_pipeline.workflow.control import (
        ControlError,
        NothingChangedError,
        control,
        stop_agency,
    )

    actor = args.actor or f"cli:{getpass.getuser()}"
    db_path = args.db or default_db_path()
    now = datetime.now(UTC)
    try:
        store = SQLiteStore(db_path, create=False)
    except StoreAccessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except StoreError as exc:
        print(f"error: {exc} (set NEGOTIATION_DB or pass --db)", file=sys.stderr)
        return EXIT_INVALID
    try:
        if args.control_command == "stop-agency":
            result = stop_agency(store, args.target, actor=actor, now=now)
        else:
            result = control(store, args.control_command, args.target, actor=actor, now=now)
    except NothingChangedError as exc:
        for line in exc.result.lines:
            print(line)
        print(f"error: {args.control_command} {args.target}: nothing changed", file=sys.stderr)
        return EXIT_INVALID
    except ControlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except StoreAccessError as exc:  # e.g. locked by a running job for longer than the timeout
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.close()
    for line in result.lines:
        print(line)
    return EXIT_OK


def _cmd_allow_sender(args: argparse.Namespace) -> int:
    import getpass
    import os
    from datetime import UTC, datetime

    from negotiation_pipeline.defs.shared.resources import SANDBOX_AGENT_EMAIL
    from negotiation_pipeline.settings.engine import load_engine_config
    from negotiation_pipeline.settings.files import ConfigError
    from negotiation_pipeline.store import StoreError, open_store
    from negotiation_pipeline.workflow.control import ControlError, allow_sender

    actor = args.actor or f"cli:{getpass.getuser()}"
    agent = args.agent_email or os.environ.get("AGENT_EMAIL", "").strip() or SANDBOX_AGENT_EMAIL
    try:
        config = load_engine_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        store = open_store(args.db, create=False)
    except StoreError as exc:
        print(f"error: {exc} (set NEGOTIATION_DB or pass --db)", file=sys.stderr)
        return EXIT_INVALID
    try:
        result = allow_sender(
            store, args.target, args.address, actor=actor, now=datetime.now(UTC),
            config=config, agent_addresses=[agent],
        )  # fmt: skip
        for line in result.lines:
            print(line)
        _post_release_alerts(store, result.events, args.db)
    except ControlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        store.close()
    if result.released:
        print("answers are queued: the next advance_negotiations or run_followups run sends them")
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
    import os

    from negotiation_pipeline.definitions import (
        slack_resource,
        store_resource,
        task_source_resource,
    )
    from negotiation_pipeline.defs.negotiations.notifications import notify_events

    log = logging.getLogger("negotiation_pipeline.cli.main")
    # The sandbox's local files (Slack log, ClickUp comments) live next to the store used.
    env = {**os.environ, "NEGOTIATION_DB": db} if db else dict(os.environ)
    try:
        store_config, data_dir = store_resource(env)
        slack_config = slack_resource(env, data_dir, store_config)
        clickup_config = task_source_resource(env, data_dir)
        with (
            slack_config.process_config_and_initialize_cm() as slack,
            clickup_config.process_config_and_initialize_cm() as clickup,
        ):
            result = notify_events(log, events, store, slack, clickup)
    except Exception as exc:  # the alerts are lost, the negotiation work is not
        print(f"warning: alerts not posted: {type(exc).__name__}: {exc}", file=sys.stderr)
        return
    for error in (*result.slack.errors, *result.comments.errors):
        print(f"warning: alert not posted: {error}", file=sys.stderr)
    if result.slack.pending > 0:
        print(
            f"warning: {result.slack.pending} Slack alert(s) still queued; a later run sends them",
            file=sys.stderr,
        )


# --- backfill-cpm ------------------------------------------------------------------------------
BACKFILL_EXIT_TIMEOUT = 3  # still running when --timeout ran out (it goes on in Dagster)
BACKFILL_EXIT_INTERRUPTED = 130  # Ctrl-C while following (the backfill goes on in Dagster)


def _add_backfill_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "backfill-cpm",
        help="launch the cpm_flexibility asset backfill",
        description="Launch Dagster's asset backfill of cpm_flexibility over campaign partitions "
        "on the running webserver (its daemon runs it) and follow it to the end. Prints a JSON "
        "summary on stdout; progress goes to stderr. Exit 0 on COMPLETED_SUCCESS, 1 on a failed "
        "or canceled backfill or an unreachable webserver, 2 on bad campaign ids, 3 on timeout.",
    )
    parser.add_argument(
        "--campaign",
        action="append",
        default=[],
        metavar="ID",
        help="campaign id (ClickUp task id); repeat for several. Default: every campaign "
        "partition that has an influencer list",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="Dagster webserver URL (default: $DAGSTER_WEBSERVER_URL, else http://127.0.0.1:3000)",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, metavar="S", help="stop following after S s"
    )
    parser.add_argument(
        "--poll-interval", type=float, default=2.0, metavar="S", help="seconds between polls"
    )
    parser.add_argument("--title", default=None, help="backfill title shown in the Dagster UI")
    parser.add_argument(
        "--no-follow", action="store_true", help="print the backfill id and return at once"
    )
    parser.set_defaults(handler=_cmd_backfill_cpm)


def _cmd_backfill_cpm(args: argparse.Namespace) -> int:
    import json
    import os

    from negotiation_pipeline.integrations.dagster_webserver import (
        DEFAULT_WEBSERVER_URL,
        BackfillTimeoutError,
        DagsterWebserverClient,
        DagsterWebserverError,
    )
    from negotiation_pipeline.workflow.cpm_backfill import (
        CPM_ASSET,
        CampaignSelectionError,
        ProgressPrinter,
        backfill_ui_url,
        plan_cpm_backfill,
    )

    if args.timeout <= 0 or args.poll_interval <= 0:
        print("error: --timeout and --poll-interval must be positive", file=sys.stderr)
        return EXIT_INVALID
    url = args.url or os.environ.get("DAGSTER_WEBSERVER_URL") or DEFAULT_WEBSERVER_URL
    printer = ProgressPrinter(sys.stderr, live=sys.stderr.isatty())
    summary: dict[str, object] = {}
    try:
        with DagsterWebserverClient(url) as client:
            plan = plan_cpm_backfill(client, args.campaign)
            if plan.not_ready:
                print(
                    f"skipping {len(plan.not_ready)} campaign(s) without an influencer list: "
                    + ", ".join(plan.not_ready),
                    file=sys.stderr,
                )
            title = args.title or f"Recompute {CPM_ASSET} ({len(plan.partitions)} campaigns)"
            backfill_id = client.launch_partition_backfill(
                [CPM_ASSET], plan.partitions, title=title
            )
            summary = {
                "backfill_id": backfill_id,
                "url": backfill_ui_url(url, backfill_id),
                "partitions": list(plan.partitions),
                "skipped": list(plan.not_ready),
            }
            print(f"launched backfill {backfill_id}: {summary['url']}", file=sys.stderr)
            if args.no_follow:
                print(json.dumps({**summary, "status": "REQUESTED"}))
                return EXIT_OK
            status = client.follow_backfill(
                backfill_id,
                timeout_seconds=args.timeout,
                poll_interval_seconds=args.poll_interval,
                on_progress=printer,
            )
    except CampaignSelectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except BackfillTimeoutError as exc:
        printer.finish()
        print(f"error: {exc}: {summary.get('url')}", file=sys.stderr)
        return BACKFILL_EXIT_TIMEOUT
    except DagsterWebserverError as exc:
        printer.finish()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        printer.finish()
        print(
            f"stopped following; the backfill keeps running: {summary.get('url')}", file=sys.stderr
        )
        return BACKFILL_EXIT_INTERRUPTED
    printer.finish()
    summary["status"] = status.status
    summary["assets"] = [vars(a) for a in status.assets]
    print(json.dumps(summary))
    if status.succeeded:
        return EXIT_OK
    detail = f": {status.error}" if status.error else ""
    print(f"error: backfill ended {status.status}{detail}; see {summary['url']}", file=sys.stderr)
    return EXIT_FAILURE


# --- dev ---------------------------------------------------------------------------------------
def _add_dev_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "dev",
        help="run the Dagster UI and daemon locally (dagster dev, persistent .dagster_home)",
        description="Run `dagster dev -w workspace.yaml` from the project root with "
        "DAGSTER_HOME=<project>/.dagster_home (created, dagster.yaml copied in when missing or "
        "older). With no environment variables set, the sandbox runs. Arguments after `--` go "
        "to `dagster dev` unchanged.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to serve on")
    parser.add_argument("--port", "-p", type=int, default=3000, help="port to serve on")
    parser.add_argument(
        "--dagster-home", default=None, help="instance folder (default: <project>/.dagster_home)"
    )
    parser.add_argument(
        "dagster_args", nargs=argparse.REMAINDER, help="extra `dagster dev` arguments, after --"
    )
    parser.set_defaults(handler=_cmd_dev)


def _cmd_dev(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from negotiation_pipeline.cli.dev_server import (
        DAGSTER_HOME_DIR,
        DevServerError,
        dagster_dev_argv,
        find_project_root,
        prepare_dagster_home,
    )

    extra = list(args.dagster_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    try:
        root = find_project_root()
        home = Path(args.dagster_home).resolve() if args.dagster_home else root / DAGSTER_HOME_DIR
        copied = prepare_dagster_home(root, home)
    except (DevServerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    note = " (dagster.yaml copied in)" if copied else ""
    # dagster warns that ./dagster.yaml "will not be used": the copy in DAGSTER_HOME is used.
    print(f"DAGSTER_HOME={home}{note}; it holds the copy of ./dagster.yaml", file=sys.stderr)
    print(f"Dagster UI on http://{args.host}:{args.port}", file=sys.stderr)
    argv = dagster_dev_argv(args.host, args.port, extra)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(root)
    # exec, not a child process: Ctrl-C and SIGTERM reach `dagster dev` directly, and it shuts
    # down its webserver, daemon and code server itself.
    os.execve(argv[0], argv, {**os.environ, "DAGSTER_HOME": str(home)})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="negotiation-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_campaign_parser,
        _add_read_reply_parser,
        _add_simulate_parser,
        _add_audit_parser,
        _add_control_parser,
        _add_backfill_parser,
        _add_dev_parser,
    ):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
