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
    raise NotImplementedError("campaign validate")


# --- read-reply --------------------------------------------------------------------------------
def _add_read_reply_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("read-reply", help="read one reply email (.eml); print JSON")
    parser.add_argument("message", help="path to an RFC 5322 message file")
    parser.set_defaults(handler=_cmd_read_reply)


def _cmd_read_reply(args: argparse.Namespace) -> int:
    raise NotImplementedError("read-reply")


# --- simulate ----------------------------------------------------------------------------------
def _add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("simulate", help="negotiate with simulated influencers in-process")
    parser.add_argument("--campaigns", type=int, default=3)
    parser.add_argument("--influencers", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    raise NotImplementedError("simulate")


# --- audit -------------------------------------------------------------------------------------
def _add_audit_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="query the audit trail")
    parser.set_defaults(handler=_cmd_audit)


def _cmd_audit(args: argparse.Namespace) -> int:
    raise NotImplementedError("audit")


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
