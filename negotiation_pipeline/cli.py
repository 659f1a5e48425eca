"""`negotiation-pipeline` command line.

Each subcommand has its own `_add_*_parser` and `_cmd_*` pair; keep them thin: parse arguments,
call the library, print (JSON where a program reads it), return an exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

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

    from negotiation_pipeline.config_files import ConfigError
    from negotiation_pipeline.integrations.clickup.fields import (
        CampaignValidationError,
        FieldMapping,
        load_task_json,
        parse_campaign_task,
    )

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

    from negotiation_pipeline.domain.reply_reader import read_reply
    from negotiation_pipeline.integrations.mail.mime import MalformedMessageError, parse_message

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
    reading = read_reply(parsed.text_body)
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
    parser.set_defaults(handler=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    import json
    import time

    from negotiation_pipeline.config_files import ConfigError
    from negotiation_pipeline.domain.simulator import simulate
    from negotiation_pipeline.engine_config import load_engine_config

    if args.campaigns < 1 or args.influencers < 1:
        print("--campaigns and --influencers must be at least 1", file=sys.stderr)
        return EXIT_INVALID
    try:
        config = load_engine_config()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILURE
    summary = simulate(args.campaigns, args.influencers, args.seed, config, clock=time.perf_counter)
    print(json.dumps(summary, indent=2))
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
    parser = sub.add_parser("control", help="pause, resume, stop or take over a negotiation")
    parser.set_defaults(handler=_cmd_control)


def _cmd_control(args: argparse.Namespace) -> int:
    raise NotImplementedError("control")


# --- backfill-cpm ------------------------------------------------------------------------------
def _add_backfill_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("backfill-cpm", help="launch the cpm_flexibility asset backfill")
    parser.set_defaults(handler=_cmd_backfill_cpm)


def _cmd_backfill_cpm(args: argparse.Namespace) -> int:
    raise NotImplementedError("backfill-cpm")


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
    ):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
