"""End-to-end latency under `dagster dev`: a new ClickUp task → opening emails in the mailbox.

    uv run python bench/bench_e2e_latency.py [--trials 2] [--quick]

Starts the product the README's way (`negotiation-pipeline dev`: webserver, daemon, code server)
in a temporary sandbox with no campaign tasks, waits until it serves, then drops one
ClickUp-shaped task file into the sandbox task folder and measures how long it takes until every
influencer of that campaign has an opening email in the sandbox Maildir's sent folder. Each trial
adds a new task (a copy of a sandbox campaign under a new task id). The time is dominated by the
sensor interval (clickup_campaign_sensor ticks every 30 s) and run launch, which are reported
separately: the first new-task run's creation, its end, and the last opening email.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from bench._results import emit
from negotiation_pipeline.sandbox.paths import SANDBOX_DATA_DIR, SANDBOX_TASKS_DIR
from negotiation_pipeline.store import open_store
from tests.e2e.conftest import (
    REPO_ROOT,
    free_loopback_port,
    sandbox_environment,
    signals_not_ignored,
)
from tests.support.dagster_webserver import InspectingWebserverClient

TEMPLATE_TASK = SANDBOX_TASKS_DIR / "86b1aa001.json"
TRIAL_TIMEOUT_S = 300.0


def _serve(work_dir: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    env = sandbox_environment(work_dir)
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "negotiation_pipeline.cli", "dev",
        "--port", str(port), "--dagster-home", str(work_dir / "dagster_home"),
    ]  # fmt: skip
    log = (work_dir / "dagster_dev.log").open("wb")
    with signals_not_ignored():
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    return process, url, env


def _wait_serving(url: str, process: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    with InspectingWebserverClient(url, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"dagster dev exited with {process.returncode}")
            try:
                client.server_info()
                return
            except Exception:  # not up yet
                time.sleep(0.5)
    raise SystemExit("dagster dev did not come up")


def _opening_ids_sent(maildir: Path, db_path: Path, campaign_id: str) -> set[str]:
    """Message-IDs of the campaign's opening offers (each thread's first outbox email; the ids
    are keyed, so they are read from the store) that are in the sent folder."""
    if not db_path.exists():
        return set()
    with closing(open_store(db_path, create=False)) as store:
        openings = {
            emails[0].message_id
            for thread in store.states.list_for_campaign(campaign_id)
            if (emails := store.outbox.for_thread(thread.thread_id))
        }
    found: set[str] = set()
    for folder in ("new", "cur"):
        path = maildir / "sent" / folder
        for item in path.glob("*") if path.exists() else []:
            message = email.message_from_bytes(item.read_bytes())
            found.add("".join(str(message["Message-ID"]).split()))
    return found & openings


def _openings_queued(db_path: Path, campaign_id: str) -> int:
    """Threads of the campaign with an opening offer (one escalated at opening has none)."""
    if not db_path.exists():
        return 0
    with closing(open_store(db_path, create=False)) as store:
        threads = store.states.list_for_campaign(campaign_id)
        return sum(1 for t in threads if store.outbox.for_thread(t.thread_id))


def _one_trial(
    index: int, work_dir: Path, env: dict[str, str], client: InspectingWebserverClient
) -> dict[str, float]:
    task = json.loads(TEMPLATE_TASK.read_text(encoding="utf-8"))
    task_id = f"86bench{index:03d}"
    task["id"] = task_id
    task["date_updated"] = str(int(time.time() * 1000))
    db_path = Path(env["NEGOTIATION_DB"])
    maildir = db_path.parent / "maildir"
    tasks_dir = Path(env["NEGOTIATION_SANDBOX_DIR"])
    started = time.monotonic()
    staging = tasks_dir.parent / f".{task_id}.json"
    staging.write_text(json.dumps(task), encoding="utf-8")
    os.replace(staging, tasks_dir / f"{task_id}.json")  # appears whole, like a new ClickUp task
    run_seen = run_done = None
    while time.monotonic() - started < TRIAL_TIMEOUT_S:
        elapsed = time.monotonic() - started
        runs = client.runs(tags={"dagster/partition": task_id}, job_name="campaign_ingestion_job")
        if runs and run_seen is None:
            run_seen = elapsed
        if runs and runs[0].status in {"FAILURE", "CANCELED"}:
            raise SystemExit(f"ingestion of {task_id} ended {runs[0].status}")
        if runs and runs[0].status == "SUCCESS" and run_done is None:
            run_done = elapsed
        expected = _openings_queued(db_path, task_id)
        if (
            run_done is not None
            and expected
            and len(_opening_ids_sent(maildir, db_path, task_id)) >= expected
        ):
            return {
                "run_created_s": run_seen or elapsed,
                "run_succeeded_s": run_done,
                "all_offers_sent_s": elapsed,
                "offers": float(expected),
            }
        time.sleep(0.25)
    raise SystemExit(f"no opening emails for {task_id} within {TRIAL_TIMEOUT_S:.0f} s")


def run(trials: int) -> int:
    with tempfile.TemporaryDirectory(prefix="e2e-latency-") as tmp:
        work_dir = Path(tmp)
        shutil.copytree(SANDBOX_DATA_DIR, work_dir / "sandbox")
        for existing in (work_dir / "sandbox" / "clickup" / "tasks").glob("*.json"):
            existing.unlink()  # start with no campaign: only the benchmark's tasks arrive
        process, url, env = _serve(work_dir)
        try:
            _wait_serving(url, process)
            results = []
            with InspectingWebserverClient(url, timeout=30) as client:
                for index in range(trials):
                    results.append(_one_trial(index, work_dir, env, client))
                    print(json.dumps(results[-1]))
        finally:
            process.send_signal(2)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
    total = statistics.median(r["all_offers_sent_s"] for r in results)
    launch = statistics.median(r["run_created_s"] for r in results)
    print(f"trials: {trials}; median new task → run created {launch:.1f} s, → all "
          f"{results[0]['offers']:.0f} opening emails sent {total:.1f} s")  # fmt: skip
    emit("e2e: new ClickUp task → ingestion run created (median)", launch, "s", digits=1)
    emit("e2e: new ClickUp task → all opening emails in the mailbox (median)", total, "s", digits=1)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one trial")
    args = parser.parse_args()
    return run(1 if args.quick else args.trials)


if __name__ == "__main__":
    raise SystemExit(main())
