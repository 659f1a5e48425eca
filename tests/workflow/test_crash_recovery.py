"""SIGKILL at random moments during advance_negotiations, then recover in a fresh process.

Each trial copies one prepared workspace (SQLite file + Maildir with N pending replies), forks a
child that runs advance_negotiations, kills it after a random delay (seeded), then runs a second
child to completion. Afterwards every reply must be processed exactly once, every outbox email
sent exactly once (counted in the sent Maildir), and each negotiation row must agree with its
audit trail. Extra trials kill the child exactly between "sent" and "marked sent".
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.store import AuditQuery, SQLiteStore
from negotiation_pipeline.workflow import outbox as outbox_module
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import load_negotiation
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    crowd,
    engine_config,
    open_mailbox,
    reply_to,
    sent_by_recipient,
    sent_message_ids,
    stored_campaign,
)

REPLIES = 40
RANDOM_TRIALS = 25
SEED = 20260302
HOOK_ENV = "P1_CRASH_HOOK"  # read by the child only; product code knows nothing about it
_FORK = multiprocessing.get_context("fork")


def _prepare(root: Path) -> None:
    store = SQLiteStore(root / "negotiation.db")
    mailbox = open_mailbox(root / "mail")
    stored_campaign(store)
    open_campaign_negotiations(
        store, "cmp-1", engine_config(), rows=crowd(REPLIES), sender=AGENT, now=NOW
    )
    deliver_pending(store, mailbox)
    for n, (address, emails) in enumerate(sorted(sent_by_recipient(mailbox).items())):
        body = "Deal, that works for me!" if n % 3 == 0 else f"My rate would be ${1400 + n * 5}."
        mailbox.append_to_inbox(reply_to(emails[-1], body, sender=address))
    with sqlite3.connect(root / "negotiation.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def _child(root: str) -> None:
    """Runs in a forked process: one advance_negotiations run, result written as JSON."""
    code = 0
    try:
        if os.environ.get(HOOK_ENV) == "between_send_and_mark":
            mark = outbox_module._mark_sent

            def die_before_marking(*args, found_in_sent_store, **kwargs):
                if not found_in_sent_store:  # it is in the sent store; the outbox says pending
                    os.kill(os.getpid(), signal.SIGKILL)
                mark(*args, found_in_sent_store=found_in_sent_store, **kwargs)

            outbox_module._mark_sent = die_before_marking
        store = SQLiteStore(Path(root) / "negotiation.db")
        result = advance_negotiations(
            store,
            open_mailbox(Path(root) / "mail"),
            engine_config(),
            mailbox_name=MAILBOX,
            agent_addresses=[AGENT.address],
            now=NOW,
        )
        summary = {
            "processed": result.processed,
            "duplicates": result.duplicates,
            "sent": result.delivery.sent,
            "already_sent": result.delivery.already_sent,
            "failed": len(result.delivery.failed) + len(result.failed_uids),
        }
        (Path(root) / "result.json").write_text(json.dumps(summary))
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _run_child(root: Path, *, kill_after: float | None = None, hook: str | None = None) -> int:
    if hook:
        os.environ[HOOK_ENV] = hook
    try:
        process = _FORK.Process(target=_child, args=(str(root),))
        process.start()
    finally:
        os.environ.pop(HOOK_ENV, None)
    if kill_after is not None:
        process.join(kill_after)
        if process.is_alive():
            process.kill()  # SIGKILL: the child gets no chance to clean up
    process.join(60)
    assert process.exitcode is not None, "child did not finish"
    return process.exitcode


def _assert_consistent(root: Path) -> dict[str, int]:
    conn = sqlite3.connect(root / "negotiation.db")
    conn.row_factory = sqlite3.Row
    try:
        inbound = conn.execute("SELECT thread_id, status FROM inbound_messages").fetchall()
        assert len(inbound) == REPLIES, "every reply recorded exactly once"
        assert {row["status"] for row in inbound} == {"processed"}
        per_thread = Counter(row["thread_id"] for row in inbound)
        assert set(per_thread.values()) == {1}

        outbox = conn.execute("SELECT message_id, thread_id, status FROM outbox").fetchall()
        assert {row["status"] for row in outbox} == {"sent"}, "nothing left pending"
        sent = sent_message_ids(root / "mail")
        duplicates = {mid: n for mid, n in sent.items() if n > 1}
        assert not duplicates, f"sent twice: {duplicates}"
        assert set(sent) == {row["message_id"] for row in outbox}, "sent == outbox, none missing"
        audited_sends = Counter(
            json.loads(row["metadata"])["message_id"]
            for row in conn.execute("SELECT metadata FROM audit_log WHERE event_type='email_sent'")
        )
        assert audited_sends == Counter(sent), "one email_sent audit per email"

        cursor = conn.execute("SELECT last_uid FROM mail_cursor").fetchone()
        assert cursor["last_uid"] == REPLIES
    finally:
        conn.close()

    store = SQLiteStore(root / "negotiation.db")
    agreed = 0
    for stored in store.states.list_for_campaign("cmp-1"):
        negotiation = load_negotiation(stored)
        assert negotiation.replies_received == 1
        transitions = list(
            reversed(store.audit.query(AuditQuery(thread_id=stored.thread_id, limit=100)))
        )
        changes = [e for e in transitions if e.event_type.value == "state_transition"]
        received = [e for e in transitions if e.event_type.value == "email_received"]
        assert len(changes) == 2 and len(received) == 1, stored.thread_id
        assert changes[-1].negotiation_state == stored.state.value, "row matches its audit"
        queued = [e.metadata["queued_message_id"] for e in changes if e.metadata]
        emails = [e.message_id for e in store.outbox.for_thread(stored.thread_id)]
        assert emails == [q for q in queued if q], "outbox matches the audited decisions"
        agreed += stored.state is NegotiationState.AGREED
    agreements = store.agreements.for_campaign("cmp-1")
    assert len(agreements) == agreed
    record = store.campaigns.get("cmp-1")
    assert record is not None and record.cpm_tracker_data is not None
    assert len(record.cpm_tracker_data["agreements"]) == agreed, "tracker updated once each"
    store.close()
    return {"agreed": agreed}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-template")
    _prepare(root)
    return root


def _trial_copy(template: Path, tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(template, root)
    return root


def test_random_kills_recover_to_exactly_once(template: Path, tmp_path: Path) -> None:
    calibration = _trial_copy(template, tmp_path, "calibration")
    started = time.monotonic()
    assert _run_child(calibration) == 0
    full_run = time.monotonic() - started
    baseline = _assert_consistent(calibration)
    assert baseline["agreed"] > 0

    rng = random.Random(SEED)
    interrupted = 0
    for trial in range(RANDOM_TRIALS):
        root = _trial_copy(template, tmp_path, f"trial-{trial}")
        delay = rng.uniform(0.0, full_run)
        if _run_child(root, kill_after=delay) != 0:
            interrupted += 1
        assert _run_child(root) == 0, f"trial {trial}: recovery run failed"
        assert _assert_consistent(root) == baseline, f"trial {trial} (killed at {delay:.3f}s)"
        shutil.rmtree(root)
    # The delays really landed inside the run most of the time.
    assert interrupted >= RANDOM_TRIALS // 2, f"only {interrupted} runs were interrupted"


def test_kill_between_send_and_mark_never_sends_twice(template: Path, tmp_path: Path) -> None:
    root = _trial_copy(template, tmp_path, "send-mark")
    assert _run_child(root, hook="between_send_and_mark") == -signal.SIGKILL
    # One email is in the sent Maildir while the outbox still says pending.
    conn = sqlite3.connect(root / "negotiation.db")
    pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE status='pending'").fetchone()[0]
    conn.close()
    assert pending > 0

    assert _run_child(root) == 0
    summary = json.loads((root / "result.json").read_text())
    assert summary["already_sent"] == 1, "the recovery found the email and did not resend it"
    _assert_consistent(root)
