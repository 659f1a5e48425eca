"""Several real advance_negotiations_job runs at once on one PostgreSQL store and one Maildir,
each in its own process: the scenario, the runs, and the checks that nothing was lost or done
twice. Used by tests/workflow/test_parallel_advance.py and bench/bench_parallel_advance.py.

The scenario: negotiations opened for real (opening offers through the workflow and delivered
into the Maildir), then `replies_per_thread` threaded replies per negotiation dropped into the
inbox round by round (every negotiation's first reply, then every second reply...), so one
negotiation's replies sit far apart and several runs reach them at the same time. The runs get
the uids the way inbox_sensor hands them out: consecutive batches, one per run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from negotiation_pipeline.domain.campaigns.cpm import FlexibilityRow
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import AuditQuery, NegotiationStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from tests.domain.negotiation.engine_support import make_campaign
from tests.store.conftest import StoreLocation
from tests.workflow.support import (
    AGENT,
    NOW,
    engine_config,
    flex_row,
    open_mailbox,
    reply_to,
    sent_by_recipient,
    sent_message_ids,
    stored_campaign,
)

MAILBOX_NAME = "sandbox-maildir"  # what the Maildir resource calls its mailbox
ADVANCE_JOB = "advance_negotiations_job"
START_TIMEOUT_S = 600  # every process has imported Dagster and built the definitions by then
RUN_TIMEOUT_S = 1800
# The run metadata counting the replies a run read and recorded itself.
HANDLED_KEYS = ("replies_processed", "unmatched", "skipped", "unreadable", "quarantined")
# Round by round: asks and haggling, then an acceptance, then a late note.
ROUND_TEXTS = (
    "My rate would be ${rate} for this.",
    "Could you do ${rate}? That is about as low as I go.",
    "Deal, that works for me!",
    "Thanks, speak soon.",
)


@dataclass(frozen=True)
class Scenario:
    location: StoreLocation
    root: Path  # Maildir at root/mail, the product's sandbox files at root/data
    uidvalidity: int
    uids: tuple[int, ...]
    replies: dict[str, list[str]]  # influencer address -> Message-IDs of their replies, in order

    def env(self) -> dict[str, str]:
        """The environment of one run: the store as a deployment names it (NEGOTIATION_DB),
        the scenario's Maildir, our address."""
        return {
            "NEGOTIATION_DB": _database_url(self.location),
            "NEGOTIATION_DATA_DIR": str(self.root / "data"),
            "NEGOTIATION_MAILDIR": str(self.root / "mail"),
            "NEGOTIATION_SANDBOX_DIR": str(self.root / "tasks"),
            "AGENT_EMAIL": AGENT.address,
            "AGENT_NAME": AGENT.name,
        }

    def batches(self, runs: int) -> list[list[int]]:
        """The uids split into `runs` consecutive batches, as inbox_sensor requests them."""
        size = -(-len(self.uids) // runs)
        return [list(self.uids[n : n + size]) for n in range(0, len(self.uids), size)]


@dataclass(frozen=True)
class RunSummary:
    success: bool
    started: float  # wall clock, after every process was ready
    ended: float
    cpu_seconds: float  # this process's CPU time during the run
    first_uid: int  # of the batch the run was given
    handled: int  # replies this run read and recorded (processed, skipped, held...)
    processed: int
    duplicates: int
    handled_by_other_runs: int
    waiting: int  # left for a later run behind their sender's earlier mail
    emails_sent: int
    error: str = ""


def _database_url(location: StoreLocation) -> str:
    return f"{location.target}?options=-csearch_path%3D{location.schema}"


def _rows(count: int, offset: int) -> list[FlexibilityRow]:
    return [
        flex_row(f"Creator {offset + n} Smith", f"creator{offset + n}@gmail.com")
        for n in range(count)
    ]


def prepare(
    location: StoreLocation,
    root: Path,
    *,
    campaigns: int,
    threads_per_campaign: int,
    replies_per_thread: int,
) -> Scenario:
    """Open and deliver the negotiations, then fill the inbox (not timed by the bench)."""
    store = location.open()
    mailbox = open_mailbox(root / "mail")
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "tasks").mkdir(parents=True, exist_ok=True)
    for index in range(campaigns):
        campaign = make_campaign(campaign_id=f"par-{index}", client_name=f"Client {index}")
        stored_campaign(store, campaign)
        rows = _rows(threads_per_campaign, index * threads_per_campaign)
        open_campaign_negotiations(
            store, campaign.campaign_id, engine_config(), rows=rows, sender=AGENT, now=NOW
        )
    deliver_pending(store, mailbox, now=NOW)
    openings = sorted(sent_by_recipient(mailbox).items())
    uids: list[int] = []
    replies: dict[str, list[str]] = {address: [] for address, _ in openings}
    for round_number in range(replies_per_thread):
        template = ROUND_TEXTS[round_number % len(ROUND_TEXTS)]
        for n, (address, sent) in enumerate(openings):
            body = template.replace("{rate}", f"{1500 - 10 * round_number + n % 40 * 5:,}")
            message_id = f"<r{round_number}.{n}@gmail.com>"
            raw = reply_to(sent[0], body, sender=address, message_id=message_id)
            uids.append(mailbox.append_to_inbox(raw))
            replies[address].append(message_id)
    store.close()
    return Scenario(location, root, mailbox.uidvalidity, tuple(uids), replies)


def _advance_in_process(
    env: dict[str, str], uidvalidity: int, uids: list[int], start: Barrier, results: Any
) -> None:
    """One real advance_negotiations_job run, in this (spawned) process."""
    os.environ.update(env)
    import dagster as dg

    from negotiation_pipeline.definitions import build_definitions
    from negotiation_pipeline.defs.negotiations.jobs import ADVANCE_OP

    job = build_definitions(env).resolve_job_def(ADVANCE_JOB)
    config = {"ops": {ADVANCE_OP: {"config": {"uidvalidity": uidvalidity, "uids": uids}}}}
    with dg.instance_for_test() as instance:
        start.wait(START_TIMEOUT_S)
        began, cpu_before = time.time(), time.process_time()
        result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
        ended, cpu = time.time(), time.process_time() - cpu_before
    metadata: dict[str, Any] = {}
    for event in result.all_node_events:
        if event.is_successful_output and event.node_name == ADVANCE_OP:
            data = event.step_output_data
            metadata = {key: value.value for key, value in data.metadata.items()}
    failure = next((e for e in result.all_node_events if e.is_step_failure), None)
    results.put(
        RunSummary(
            success=result.success,
            started=began,
            ended=ended,
            cpu_seconds=cpu,
            first_uid=uids[0],
            handled=sum(int(metadata.get(key, 0)) for key in HANDLED_KEYS),
            processed=int(metadata.get("replies_processed", 0)),
            duplicates=int(metadata.get("duplicates", 0)),
            handled_by_other_runs=int(metadata.get("handled_by_other_runs", 0)),
            waiting=int(metadata.get("waiting_for_earlier_mail", 0)),
            emails_sent=int(metadata.get("emails_sent", 0)),
            error="" if failure is None else str(failure.event_specific_data)[:2000],
        )
    )


def run_concurrently(scenario: Scenario, runs: int) -> list[RunSummary]:
    """`runs` advance runs, one process each, released together once all are ready."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(runs)
    results = spawn.Queue()
    env = scenario.env()
    workers = [
        spawn.Process(
            target=_advance_in_process, args=(env, scenario.uidvalidity, batch, start, results)
        )
        for batch in scenario.batches(runs)
    ]
    for worker in workers:
        worker.start()
    summaries = [results.get(timeout=START_TIMEOUT_S + RUN_TIMEOUT_S) for _ in workers]
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0] * len(workers)
    return summaries


@contextmanager
def _connection(location: StoreLocation) -> Iterator[Any]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(_database_url(location), autocommit=True, row_factory=dict_row) as conn:
        yield conn


def assert_exactly_once(scenario: Scenario) -> dict[str, int]:
    """Every reply recorded once, every email sent once, the cursor past everything, and each
    negotiation's row, outbox and audit trail telling the same story. Returns what happened."""
    total = sum(len(ids) for ids in scenario.replies.values())
    with _connection(scenario.location) as conn:
        inbound = conn.execute("SELECT message_id, status, detail FROM inbound_messages").fetchall()
        assert len(inbound) == total, "every reply recorded, none twice"
        assert len({row["message_id"] for row in inbound}) == total
        broken = [row for row in inbound if (row["detail"] or "").startswith("error")]
        assert broken == [], f"replies that failed: {broken[:3]}"
        outbox = conn.execute("SELECT message_id, status FROM outbox").fetchall()
        cursor = conn.execute("SELECT last_uid FROM mail_cursor").fetchone()
        leftovers = conn.execute("SELECT count(*) AS n FROM mail_uids").fetchone()
        sent_audits = Counter(
            json.loads(row["metadata"])["message_id"]
            for row in conn.execute(
                "SELECT metadata::text AS metadata FROM audit_log WHERE event_type = %s",
                (EventType.EMAIL_SENT.value,),
            )
        )
    assert {row["status"] for row in outbox} == {"sent"}, "nothing pending or failed"
    sent = sent_message_ids(scenario.root / "mail")
    assert {mid: n for mid, n in sent.items() if n > 1} == {}, "no email sent twice"
    assert set(sent) == {row["message_id"] for row in outbox}, "every queued email sent"
    assert sent_audits == Counter(sent), "one email_sent audit entry per email"
    assert cursor is not None and cursor["last_uid"] == max(scenario.uids)
    assert leftovers is not None and leftovers["n"] == 0, "the cursor passed every record"
    store = scenario.location.open()
    try:
        states = _assert_threads_consistent(store, scenario)
    finally:
        store.close()
    return {"replies": total, "emails_sent": len(sent), **states}


def _assert_threads_consistent(store: NegotiationStore, scenario: Scenario) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for campaign_id in sorted(record.campaign_id for record in store.campaigns.list_campaigns()):
        agreed = 0
        for stored in store.states.list_for_campaign(campaign_id):
            _assert_thread(store, stored.thread_id, scenario.replies[stored.influencer_email or ""])
            counts[stored.state.value] += 1
            agreed += stored.state is NegotiationState.AGREED
        record = store.campaigns.get(campaign_id)
        tracker = (record.cpm_tracker_data or {}) if record is not None else {}
        assert len(store.agreements.for_campaign(campaign_id)) == agreed
        assert len(tracker.get("agreements", [])) == agreed, "the CPM tracker lost no agreement"
    return dict(counts)


def _assert_thread(store: NegotiationStore, thread_id: str, replies: list[str]) -> None:
    """One negotiation's audit trail is one unbroken chain of transitions ending in its row's
    state (two transactions advancing it at once would both start from the same state), and
    its replies were read in the order they arrived."""
    trail = list(reversed(store.audit.query(AuditQuery(thread_id=thread_id, limit=1000))))
    received = [e for e in trail if e.event_type is EventType.EMAIL_RECEIVED]
    read = [(e.metadata or {}).get("message_id") for e in received]
    assert read == replies, f"{thread_id}: replies read as {read}, arrived as {replies}"
    changes = [e for e in trail if e.event_type is EventType.STATE_TRANSITION]
    steps = [step for entry in changes for step in (entry.metadata or {}).get("transitions", [])]
    for before, after in pairwise(steps):
        assert after[0] == before[2], f"{thread_id}: {before} then {after}"
    stored = store.states.load(thread_id)
    assert stored is not None
    assert steps and steps[-1][2] == stored.state.value, f"{thread_id}: row and audit disagree"
    rounds = [int((entry.metadata or {}).get("round_count", 0)) for entry in changes]
    assert rounds == sorted(rounds) and rounds[-1] == stored.round_count
    queued = [(e.metadata or {}).get("queued_message_id") for e in changes]
    emails = [email.message_id for email in store.outbox.for_thread(thread_id)]
    assert emails == [q for q in queued if q], f"{thread_id}: outbox and audit disagree"
