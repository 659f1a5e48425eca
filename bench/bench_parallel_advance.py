"""advance_negotiations_job runs side by side on PostgreSQL: replies handled per second with 1, 2
and 4 concurrent runs over the same backlog.

Run:  uv run python bench/bench_parallel_advance.py [--runs 1 2 4] [--campaigns 4]
          [--threads-per-campaign 500] [--replies-per-thread 1]

The default backlog is 2,000 negotiations with one reply each (2,000 senders: the common case,
an influencer answering our last email). `--threads-per-campaign 125 --replies-per-thread 4`
gives 500 negotiations with four replies each, one round after the other: each sender's
replies then sit in different runs' batches and are handled in arrival order, so the runs wait
for each other and the gain shrinks (the case the arrival-order rule exists for).

For each run count, a fresh store (its own schema on a throwaway PostgreSQL server, or on
NEGOTIATION_TEST_POSTGRES_URL) and a fresh Maildir get the same backlog (not timed): the
negotiations opened for real and their offers delivered, then `--replies-per-thread` threaded
replies per negotiation, round by round (tests/workflow/parallel_advance.py). Timed: the real
advance_negotiations_job, `execute_in_process` in one process per run, each given one of the
consecutive uid batches inbox_sensor would request; from the moment all processes are ready
(Dagster imported, definitions built) until the last run ends. Each run reads its replies,
answers them in its transactions and delivers the outbox (claims decide who sends what).
Afterwards (not timed) the exactly-once checks of the parallel test run on the result, so a
number is only reported for a correct run.

The machine's cores bound the gain: every run is a Python process doing CPU work (MIME, reading
replies, the engine, rendering) besides waiting on the database.
Prints one BENCH_RESULT line per run count; it does not write bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _results import emit

from tests.servers.postgres import running_postgres
from tests.store.conftest import StoreLocation, drop_schema
from tests.workflow.parallel_advance import (
    assert_exactly_once,
    prepare,
    run_concurrently,
)


def measure(url: str, runs: int, args: argparse.Namespace) -> dict[str, object]:
    location = StoreLocation("postgres", url, f"bench_{uuid.uuid4().hex[:12]}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
            scenario = prepare(
                location,
                Path(tmp),
                campaigns=args.campaigns,
                threads_per_campaign=args.threads_per_campaign,
                replies_per_thread=args.replies_per_thread,
            )
            summaries = run_concurrently(scenario, runs)
            failed = [s.error or "failed" for s in summaries if not s.success]
            if failed:
                raise SystemExit(f"{runs} run(s): a run failed: {failed[0]}")
            outcome = assert_exactly_once(scenario)
    finally:
        drop_schema(url, location.schema or "")
    seconds = max(s.ended for s in summaries) - min(s.started for s in summaries)
    replies = len(scenario.uids)
    return {
        "runs": runs,
        "replies": replies,
        "senders": len(scenario.replies),
        "seconds": round(seconds, 2),
        "replies_per_second": round(replies / seconds, 1),
        # CPU the run processes spent (not PostgreSQL's): with it above the cores free, more
        # runs only share the same CPU.
        "run_cpu_seconds": round(sum(s.cpu_seconds for s in summaries), 1),
        "read_per_run": sorted(s.handled for s in summaries),
        "emails_sent_per_run": sorted(s.emails_sent for s in summaries),
        "states_after": {k: v for k, v in outcome.items() if k not in ("replies", "emails_sent")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--threads-per-campaign", type=int, default=500)
    parser.add_argument("--replies-per-thread", type=int, default=1)
    args = parser.parse_args()
    # The runs log every event to stderr; the numbers are what this script is for.
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("DAGSTER_CLI_LOG_LEVEL", "ERROR")
    results = []
    print(
        json.dumps(
            {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
        ),
        file=sys.stderr,
    )
    with running_postgres() as server:
        for runs in args.runs:
            result = measure(server.url, runs, args)
            results.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
    for result in results:
        runs = int(str(result["runs"]))
        emit(
            f"advance_negotiations_job on PostgreSQL, {result['replies']} replies from "
            f"{result['senders']} senders, {runs} concurrent run{'s' if runs > 1 else ''}",
            float(str(result["replies_per_second"])),
            "replies/s",
            digits=1,
        )
    print(json.dumps({"bench": "parallel_advance", "results": results}))


if __name__ == "__main__":
    main()
