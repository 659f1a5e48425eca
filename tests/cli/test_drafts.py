"""`drafts` and `control send-draft` for emails a campaign's approval mode holds, through
click's CliRunner on a real SQLite store or PostgreSQL schema and the sandbox Maildir the
pipeline's resources use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from negotiation_pipeline.cli.control import control_group
from negotiation_pipeline.cli.escalations import drafts_command
from negotiation_pipeline.domain.enums import ApprovalMode
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from tests.cli.conftest import CliStore
from tests.domain.negotiation.engine_support import make_campaign
from tests.workflow.escalated import JANE, JANE_THREAD
from tests.workflow.support import (
    AGENT,
    NOW,
    engine_config,
    flex_row,
    open_mailbox,
    sent_by_recipient,
    stored_campaign,
)


@pytest.fixture
def env(cli_store_env: CliStore, monkeypatch: pytest.MonkeyPatch) -> CliStore:
    for name in ("DAGSTER_WEBSERVER_URL", "IMAP_HOST", "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    store = cli_store_env.open()
    stored_campaign(store, make_campaign(approval_mode=ApprovalMode.REVIEW_EVERY_EMAIL))
    open_campaign_negotiations(
        store, "cmp-1", engine_config(), rows=[flex_row()], sender=AGENT, now=NOW
    )
    store.close()
    return cli_store_env


def _sent(env: CliStore) -> list[str]:
    by_recipient = sent_by_recipient(open_mailbox(env.data_dir / "maildir"))
    return [m.get_content() for m in by_recipient.get(JANE, [])]


def test_drafts_lists_the_held_opening_then_send_draft_edited_sends_it_once(
    env: CliStore, tmp_path: Path
) -> None:
    runner = CliRunner()
    listed = runner.invoke(drafts_command, ["--format", "json"])
    assert listed.exit_code == 0, listed.output
    (item,) = json.loads(listed.output)
    assert item["thread_id"] == JANE_THREAD and item["influencer"] == "Jane Doe"
    assert item["campaign_id"] == "cmp-1" and item["client_name"] == "Glow Labs"
    assert item["status"] == "awaiting_approval" and item["since"]
    assert item["draft"]["kind"] == "opening_offer" and item["draft"]["amount"] == "1000.00"
    assert item["draft"]["subject"] and item["first_lines"][0].startswith("Hi Jane")
    table = runner.invoke(drafts_command, [])
    assert "awaiting_approval" in table.output and f"send-draft {JANE_THREAD}" in table.output
    assert _sent(env) == []

    edited = tmp_path / "edit.txt"
    edited.write_text(item["draft"]["body"].rstrip() + "\n\nP.S. Loved your spring series.\n")
    args = [JANE_THREAD, "--edit", str(edited), "--format", "json"]
    done = runner.invoke(control_group.commands["send-draft"], args)
    assert done.exit_code == 0, done.output
    result = json.loads(done.output.strip().splitlines()[-1])
    assert result["state_after"] == "awaiting_reply" and result["email"] == "sent"
    again = runner.invoke(control_group.commands["send-draft"], args)
    assert again.exit_code == 0 and json.loads(again.output)["repeated"] is True
    (sent,) = _sent(env)
    assert "P.S. Loved your spring series." in sent
    assert json.loads(runner.invoke(drafts_command, ["--format", "json"]).output) == []


def test_an_edit_that_breaks_the_gate_is_refused_and_nothing_is_sent(
    env: CliStore, tmp_path: Path
) -> None:
    edited = tmp_path / "edit.txt"
    edited.write_text("Hi Jane, we can pay $99,000 for this.\n")
    done = CliRunner().invoke(
        control_group.commands["send-draft"], [JANE_THREAD, "--edit", str(edited)]
    )
    assert done.exit_code == 2
    assert "validation gate" in done.output
    assert _sent(env) == []
    listed = json.loads(CliRunner().invoke(drafts_command, ["--format", "json"]).output)
    assert len(listed) == 1  # the draft still waits
