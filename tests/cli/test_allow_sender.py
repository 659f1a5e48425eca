"""`negotiation-pipeline control allow-sender`: in-process through click's CliRunner and once as
a real process, over a real SQLite file and a PostgreSQL schema, with a reply held by a real
advance_negotiations run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, InboundStatus
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.cli.conftest import CliStore
from tests.cli.support import run_cli
from tests.workflow.opened_threads import negotiation, open_threads
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    flex_row,
    open_mailbox,
    reply_to,
    sent_by_recipient,
)

BEN = "ben@gmail.com"
CASEY = "casey@brightline.com"
BEN_THREAD = thread_id_for("cmp-1", BEN)


@pytest.fixture
def env(cli_store_env: CliStore, monkeypatch: pytest.MonkeyPatch) -> CliStore:
    """Sandbox environment (no Slack or ClickUp account): alerts land in the store's data
    folder (next to a SQLite file)."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "CLICKUP_API_TOKEN", "IMAP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENT_EMAIL", AGENT.address)
    return cli_store_env


def _hold(env: CliStore, text: str) -> MaildirMailbox:
    store = env.open()
    mailbox = open_mailbox(env.data_dir / "maildir")
    open_threads(store, [flex_row("Ben Cole", BEN)], mailbox=mailbox)
    offer = sent_by_recipient(mailbox)[BEN][-1]
    mailbox.append_to_inbox(reply_to(offer, text, sender=f"Casey <{CASEY}>"))
    result = advance_negotiations(
        store, mailbox, engine_config(), mailbox_name=MAILBOX,
        agent_addresses=[AGENT.address], now=NOW,
    )  # fmt: skip
    assert result.quarantined == 1
    store.close()
    return mailbox


def _slack_texts(env: CliStore) -> list[str]:
    path = env.data_dir / "slack.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]


def test_allow_sender_processes_the_held_reply_once_and_alerts(env: CliStore) -> None:
    _hold(env, "Deal, that works for Ben!")

    first = run_cli("control", "allow-sender", BEN_THREAD, CASEY, "--actor", "maria")
    assert first.exit_code == 0

    out = first.stdout.splitlines()
    assert out[0].startswith(f"{BEN_THREAD}: {CASEY} allowed; 1 held reply processed (")
    assert out[-1].startswith("answers are queued")
    with env.opened() as store:
        assert negotiation(store, BEN_THREAD).state is NegotiationState.AGREED
        [pending] = store.outbox.pending()
        takeovers = store.audit.query(
            AuditQuery(thread_id=BEN_THREAD, event_type=EventType.TAKEOVER)
        )
    assert pending.to_addr == CASEY  # the confirmation waits for the next delivery
    assert any(t.startswith("Deal agreed: Ben Cole") for t in _slack_texts(env))
    [allowance] = [e for e in takeovers if (e.metadata or {}).get("action") == "allow_sender"]
    assert allowance.metadata is not None and allowance.metadata["actor"] == "maria"

    again = run_cli("control", "allow-sender", "Ben@Gmail.com", CASEY)  # by email, again
    assert again.exit_code == 0
    assert again.stdout == (
        f"{BEN_THREAD}: {CASEY} was already allowed; no held reply to process\n"
    )
    with env.opened() as store:
        assert len(store.agreements.for_campaign("cmp-1")) == 1
    deals = [t for t in _slack_texts(env) if t.startswith("Deal agreed")]
    assert len(deals) == 1


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ([BEN_THREAD, "casey@@brightline.com"], "is not a valid email address"),
        ([BEN_THREAD, AGENT.address], "our own address"),
        (["cmp-1:nobody", CASEY], "no negotiation with thread id 'cmp-1:nobody'"),
        ([BEN_THREAD, CASEY, "--db", "{data_dir}/absent.db"], "not found"),
        ([BEN_THREAD], "Missing argument 'ADDRESS'"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(env: CliStore, args: list[str], named: str) -> None:
    _hold(env, "Ben would do $1,400.")
    result = run_cli("control", "allow-sender", *(a.format(data_dir=env.data_dir) for a in args))
    assert result.exit_code == 2
    assert named in result.stderr
    assert result.stdout == ""
    with env.opened() as store:
        held = store.inbound.quarantined(BEN_THREAD)
    assert [m.status for m in held] == [InboundStatus.QUARANTINED]


def test_allow_sender_as_a_real_process(env: CliStore) -> None:
    _hold(env, "Ben would do $1,400.")
    completed = subprocess.run(
        [sys.executable, "-m", "negotiation_pipeline.cli", "control", "allow-sender",
         BEN_THREAD, CASEY, "--db", env.db, "--actor", "ops"],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(), check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "1 held reply processed" in completed.stdout
    with env.opened() as store:
        assert negotiation(store, BEN_THREAD).state is NegotiationState.COUNTER_SENT


def test_the_store_named_by_db_alone_gets_the_alerts(env: CliStore) -> None:
    """--db is the only place the store is named: the Slack alert is queued in and delivered
    from that store, as when NEGOTIATION_DB names it."""
    _hold(env, "Deal, that works for Ben!")
    done = run_cli(
        "control", "allow-sender", BEN_THREAD, CASEY, "--db", env.db,
        env={"NEGOTIATION_DB": None},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stderr == ""  # no "alerts not posted"
    assert [t for t in _slack_texts(env) if t.startswith("Deal agreed: Ben Cole")]
    with env.opened() as store:
        assert store.notifications.pending_count() == 0
