"""Exactly once on the real-mail path: Dovecot (IMAP) + aiosmtpd (SMTP), faults in between.

Each trial queues the opening offers of a few influencers (each a real Dovecot user), then a
child process delivers them through fault proxies (tests/servers/fault_proxy.py) that strike
once: a SIGKILL of the child or a cut connection, at SMTP DATA (the message's end never
reaches the server), after the 250 (when the client says QUIT), at APPEND of the Sent copy, or
after the server stored that APPEND (its OK never arrives). A recovery run then finishes the
work. Every email must have reached its influencer exactly once, the agent's Sent folder must
hold exactly one copy of each, and the outbox and audit must agree.

The case SMTP cannot settle is tried apart ("before_250": the server accepted the message and
the connection dies before its answer reaches us): the email is retried, so it arrives once or
twice, never zero times.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from negotiation_pipeline.integrations.mail import ImapReader, SenderIdentity
from negotiation_pipeline.store import OutboxStatus, SQLiteStore, build_audit_query
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from tests.servers.dovecot import (
    DovecotServer,
    ImapAccount,
    running_dovecot,
    skip_or_fail_without_dovecot,
)
from tests.servers.fault_proxy import SMTP_POINTS, Fault, FaultProxy
from tests.servers.smtp import SmtpServer, deliver_into, running_smtp
from tests.workflow.imap_crash_child import DeliverySpec, mailbox_for, run_delivery
from tests.workflow.support import NOW, engine_config, flex_row, stored_campaign

pytestmark = pytest.mark.mail

INFLUENCERS = 4
SEED = 20261201
RANDOM_TRIALS = 50
INHERENT_TRIALS = 10
SETTLED_POINTS = ("data", "after_250", "append", "append_answered")
ACTIONS = ("cut", "kill")
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["tests.workflow.imap_crash_child"])


@dataclass(frozen=True)
class Servers:
    dovecot: DovecotServer
    smtp: SmtpServer
    smtp_proxy: FaultProxy
    imap_proxy: FaultProxy


@dataclass(frozen=True)
class Outcome:
    deliveries: Counter[str]  # Message-ID → copies in the influencers' INBOXes
    sent_copies: Counter[str]  # Message-ID → copies in the agent's Sent folder
    queued: frozenset[str]
    child_exit: int | None
    struck: bool


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    skip_or_fail_without_dovecot()
    pool = (RANDOM_TRIALS + INHERENT_TRIALS + 20) * (INFLUENCERS + 1)
    with (
        running_dovecot(pool_size=pool) as dovecot,
        running_smtp(deliver_into(dovecot), user=None, password=None) as smtp,
        FaultProxy(smtp.host, smtp.port, "smtp") as smtp_proxy,
        FaultProxy(dovecot.host, dovecot.port, "imap") as imap_proxy,
    ):
        yield Servers(dovecot, smtp, smtp_proxy, imap_proxy)


def _queue_openings(root: Path, agent: ImapAccount, influencers: list[ImapAccount]) -> set[str]:
    store = SQLiteStore(root / "negotiation.db")
    try:
        stored_campaign(store)
        rows = [flex_row(f"Creator {n} Smith", acc.user) for n, acc in enumerate(influencers)]
        sender = SenderIdentity(agent.user, "Alex Morgan")
        config = engine_config()
        open_campaign_negotiations(store, "cmp-1", config, rows=rows, sender=sender, now=NOW)
        return {email.message_id for email in store.outbox.pending()}
    finally:
        store.close()


def _message_ids(account: ImapAccount, folder: str = "INBOX") -> Counter[str]:
    fetched = ImapReader(account.imap_config(mailbox=folder)).fetch_new(None, 500)
    return Counter(m.parsed.message_id for m in fetched.messages if m.parsed.message_id)


def _run_faulted_child(
    servers: Servers, spec: DeliverySpec, fault: Fault
) -> tuple[int | None, bool]:
    smtp_fault = fault if fault.point in SMTP_POINTS else None
    imap_fault = None if smtp_fault else fault
    proxies = (servers.smtp_proxy, servers.imap_proxy)
    struck_before = sum(len(p.struck) for p in proxies)
    servers.smtp_proxy.arm(smtp_fault)
    servers.imap_proxy.arm(imap_fault)
    process = _CONTEXT.Process(target=run_delivery, args=(spec,))
    process.start()
    for proxy in proxies:
        proxy.target_pid = process.pid
    process.join(60)
    if process.is_alive():
        process.kill()
        process.join(10)
    for proxy in proxies:
        proxy.arm(None)
        proxy.target_pid = None
    return process.exitcode, sum(len(p.struck) for p in proxies) > struck_before


def run_trial(servers: Servers, root: Path, fault: Fault) -> Outcome:
    root.mkdir(parents=True)
    dovecot = servers.dovecot
    agent = dovecot.add_user()
    influencers = [dovecot.add_user() for _ in range(INFLUENCERS)]
    queued = _queue_openings(root, agent, influencers)
    direct = DeliverySpec(
        db_path=str(root / "negotiation.db"),
        agent=agent.user,
        imap_port=dovecot.port,
        imap_password=agent.password,
        smtp_port=servers.smtp.port,
        result_path=str(root / "result.json"),
    )
    faulted = replace(direct, imap_port=servers.imap_proxy.port, smtp_port=servers.smtp_proxy.port)
    exit_code, struck = _run_faulted_child(servers, faulted, fault)

    store = SQLiteStore(direct.db_path)
    try:
        recovery = deliver_pending(store, mailbox_for(direct))
        assert recovery.retrying == () and recovery.failed == () and recovery.copies_unfiled == 0
        rows = [store.outbox.get(mid) for mid in queued]
        assert all(r is not None and r.status is OutboxStatus.SENT for r in rows), rows
        assert not any(r is not None and r.sent_copy_pending for r in rows)
        audited = Counter(
            (e.metadata or {}).get("message_id")
            for e in store.audit.query(build_audit_query(event_type="email_sent", limit=100))
        )
        assert audited == Counter(dict.fromkeys(queued, 1)), "one email_sent audit per email"
    finally:
        store.close()
    deliveries: Counter[str] = Counter()
    for account in influencers:
        deliveries.update(_message_ids(account))
    return Outcome(deliveries, _message_ids(agent, "Sent"), frozenset(queued), exit_code, struck)


def _check_exactly_once(outcome: Outcome, fault: Fault) -> None:
    assert outcome.struck, f"{fault}: the fault never happened"
    expected_exit = -signal.SIGKILL if fault.action == "kill" else 0
    assert outcome.child_exit == expected_exit, f"{fault}: child exit {outcome.child_exit}"
    assert outcome.deliveries == Counter(dict.fromkeys(outcome.queued, 1)), (
        f"{fault}: deliveries {dict(outcome.deliveries)}"
    )
    assert outcome.sent_copies == Counter(dict.fromkeys(outcome.queued, 1)), (
        f"{fault}: Sent copies {dict(outcome.sent_copies)}"
    )


def _check_inherent(outcome: Outcome, fault: Fault) -> int:
    """The server accepted, we never learned: each email arrives once, the struck one at most
    twice. Returns the number of duplicates."""
    assert outcome.struck, f"{fault}: the fault never happened"
    assert set(outcome.deliveries) == outcome.queued, "nothing lost"
    assert max(outcome.deliveries.values()) <= 2
    assert sum(outcome.deliveries.values()) <= len(outcome.queued) + 1
    assert outcome.sent_copies == Counter(dict.fromkeys(outcome.queued, 1))
    return sum(outcome.deliveries.values()) - len(outcome.queued)


def test_each_fault_point_and_action_settles_exactly_once(servers: Servers, tmp_path: Path) -> None:
    for point in SETTLED_POINTS:
        for action in ACTIONS:
            fault = Fault(point, action, occurrence=2)  # type: ignore[arg-type]
            outcome = run_trial(servers, tmp_path / f"{point}-{action}", fault)
            _check_exactly_once(outcome, fault)


def test_lost_answer_after_data_is_retried_never_lost(servers: Servers, tmp_path: Path) -> None:
    fault = Fault("before_250", "cut", occurrence=1)
    duplicates = _check_inherent(run_trial(servers, tmp_path / "before-250", fault), fault)
    assert duplicates == 1  # retried: the server had delivered it (documented)


@pytest.mark.slow
def test_seeded_trials_lose_nothing_and_send_nothing_twice(
    servers: Servers, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    tally: Counter[str] = Counter()
    lost = duplicates = 0
    for trial in range(RANDOM_TRIALS):
        fault = Fault(
            rng.choice(SETTLED_POINTS),  # type: ignore[arg-type]
            rng.choice(ACTIONS),  # type: ignore[arg-type]
            rng.randint(1, INFLUENCERS),
        )
        outcome = run_trial(servers, tmp_path / f"trial-{trial}", fault)
        lost += len(outcome.queued - set(outcome.deliveries))
        duplicates += sum(n - 1 for n in outcome.deliveries.values() if n > 1)
        _check_exactly_once(outcome, fault)
        tally[f"{fault.point}/{fault.action}"] += 1
    inherent_duplicates = 0
    for trial in range(INHERENT_TRIALS):
        fault = Fault("before_250", rng.choice(ACTIONS), rng.randint(1, INFLUENCERS))  # type: ignore[arg-type]
        outcome = run_trial(servers, tmp_path / f"inherent-{trial}", fault)
        inherent_duplicates += _check_inherent(outcome, fault)
    summary = {
        "trials": RANDOM_TRIALS,
        "emails_per_trial": INFLUENCERS,
        "lost": lost,
        "duplicates": duplicates,
        "by_fault": dict(sorted(tally.items())),
        "inherent_trials": INHERENT_TRIALS,
        "inherent_duplicates": inherent_duplicates,
    }
    print("imap crash trials:", json.dumps(summary))
