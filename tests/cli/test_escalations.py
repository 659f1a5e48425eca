"""The escalations, drafts, thread and control resolution commands, driven through click's CliRunner
against a real SQLite store or PostgreSQL schema and the sandbox Maildir the pipeline's
resources select."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from negotiation_pipeline.cli.control import control_group
from negotiation_pipeline.cli.escalations import (
    drafts_command,
    escalations_command,
)
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store.audit_filters import AuditQuery
from tests.cli.conftest import CliStore
from tests.cli.support import run_cli
from tests.workflow.escalated import JANE, JANE_THREAD, escalate_jane
from tests.workflow.support import open_mailbox, sent_by_recipient, sent_message_ids

# The resolution actions as the operator reaches them: sub-commands of `control`.
RESOLUTIONS = ("accept", "counter", "send-draft", "decline")
COMMANDS = {name: control_group.commands[name] for name in RESOLUTIONS}


@pytest.fixture
def env(cli_store_env: CliStore, monkeypatch: pytest.MonkeyPatch) -> CliStore:
    for name in ("DAGSTER_WEBSERVER_URL", "IMAP_HOST", "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    store = cli_store_env.open()
    escalate_jane(store, open_mailbox(cli_store_env.data_dir / "maildir"))
    store.close()
    return cli_store_env


def _jane_emails(env: CliStore) -> list[str]:
    return [
        m.get_content() for m in sent_by_recipient(open_mailbox(env.data_dir / "maildir"))[JANE]
    ]


def test_escalations_json_and_table(env: CliStore) -> None:
    runner = CliRunner()
    listed = runner.invoke(escalations_command, ["--format", "json"])
    assert listed.exit_code == 0, listed.output
    (item,) = json.loads(listed.output)
    assert item["thread_id"] == JANE_THREAD and item["their_ask"] == "9000.00"
    assert item["client_name"] == "Glow Labs" and item["draft"]["kind"]
    table = runner.invoke(escalations_command, ["--campaign", "cmp-1"])
    assert JANE_THREAD in table.output and "their ask: 9000.00 USD" in table.output
    none = runner.invoke(drafts_command, ["--format", "json"])
    assert none.exit_code == 0 and json.loads(none.output) == []


def test_accept_prints_one_json_line_and_sends_once(env: CliStore) -> None:
    runner = CliRunner()
    args = ["jane doe", "--rate", "$4,800", "--note", "budget ok", "--format", "json"]
    done = runner.invoke(COMMANDS["accept"], args)
    assert done.exit_code == 0, done.output
    (line,) = done.output.strip().splitlines()
    result = json.loads(line)
    assert result["state_after"] == "agreed" and result["amount"] == "4800.00"
    assert result["email"] == "sent" and result["decided_by"].startswith("cli:")
    again = runner.invoke(COMMANDS["accept"], args)
    assert again.exit_code == 0 and json.loads(again.output)["repeated"] is True
    emails = _jane_emails(env)
    assert len(emails) == 2 and "$4,800.00" in emails[-1]
    assert max(sent_message_ids(env.data_dir / "maildir").values()) == 1
    with env.opened() as store:
        entry = store.audit.query(
            AuditQuery(thread_id=JANE_THREAD, event_type=EventType.STATE_TRANSITION)
        )[0]
        assert store.view_refresh.pending() == ["cmp-1"]  # no webserver: the next run refreshes
    assert entry.metadata is not None and entry.metadata["note"] == "budget ok"
    assert "Resolved: Jane Doe" in (env.data_dir / "slack.jsonl").read_text()


def test_counter_send_draft_and_decline_readable_lines(env: CliStore, tmp_path: Path) -> None:
    runner = CliRunner()
    above = runner.invoke(COMMANDS["counter"], [JANE_THREAD, "2500"])
    assert above.exit_code == 2 and "--allow-above-ceiling" in above.output
    not_money = runner.invoke(COMMANDS["counter"], [JANE_THREAD, "twelve"])
    assert not_money.exit_code == 2 and "not money" in not_money.output
    edit = tmp_path / "draft.txt"
    edit.write_text("Hi Jane,\n\nWe can do $7,000.\n\nBest,\nAlex\n")
    refused = runner.invoke(COMMANDS["send-draft"], [JANE, "--edit", str(edit)])
    assert refused.exit_code == 2 and "validation gate" in refused.output
    sent = runner.invoke(COMMANDS["send-draft"], [JANE])
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith(f"{JANE_THREAD} (Jane Doe): send_draft")
    assert "email sent" in sent.output
    late = runner.invoke(COMMANDS["decline"], [JANE_THREAD])
    assert late.exit_code == 2 and "not waiting for a human" in late.output
    with env.opened() as store:
        stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.state is NegotiationState.COUNTER_SENT
    assert len(_jane_emails(env)) == 2


def test_decline_and_unknown_targets(env: CliStore) -> None:
    runner = CliRunner()
    unknown = runner.invoke(COMMANDS["decline"], ["Nobody Known"])
    assert unknown.exit_code == 2 and "no negotiation" in unknown.output
    done = runner.invoke(COMMANDS["decline"], [JANE, "--format", "json"])
    assert done.exit_code == 0 and json.loads(done.output)["state_after"] == "rejected"
    assert "step back" in _jane_emails(env)[-1]


def test_a_store_named_by_db_alone_gets_the_email_and_the_slack_note(env: CliStore) -> None:
    """--db is the only place the store is named: delivery goes through that same store."""
    done = run_cli(
        "control", "accept", JANE_THREAD, "--db", env.db, "--format", "json",
        env={"NEGOTIATION_DB": None},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stderr == ""  # no "not delivered now"
    result = json.loads(done.stdout)
    assert result["email"] == "sent" and result["slack"] == "posted"
    assert "Resolved: Jane Doe" in (env.data_dir / "slack.jsonl").read_text()
    with env.opened() as store:
        assert store.notifications.pending_count() == 0
        assert store.outbox.pending() == []


def test_thread_shows_the_escalated_conversation_by_id_and_by_email(env: CliStore) -> None:
    as_json = run_cli("thread", JANE_THREAD, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["thread_id"] == JANE_THREAD and data["client_name"] == "Glow Labs"
    assert data["state"] == "escalated"
    assert [e["direction"] for e in data["emails"]] == ["out", "in"]
    assert data["emails"][1]["text"] == "My rate is $9,000 for this."
    by_email = run_cli("thread", "Jane@Gmail.com", "--db", env.db)
    assert by_email.exit_code == 0, by_email.output
    assert "IN  ← [processed]" in by_email.stdout and "OUT → [sent]" in by_email.stdout
    unknown = run_cli("thread", "nobody@example.test")
    assert unknown.exit_code == 2 and "no negotiation" in unknown.stderr
