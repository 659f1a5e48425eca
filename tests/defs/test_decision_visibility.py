"""What an operator reads in the Dagster UI about each reply: the advance run's log lines, the
negotiation snapshot's columns, and the per-campaign conversations. On the real test instance,
the SQLite store and the sandbox Maildir, through inbox_sensor and advance_negotiations_job."""

from __future__ import annotations

import email.utils
import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Any

import dagster as dg
from click.testing import CliRunner

from negotiation_pipeline.cli.thread import thread_command
from negotiation_pipeline.defs.negotiations.assets import negotiation_snapshots
from negotiation_pipeline.defs.negotiations.conversations import CONVERSATIONS_KEY
from negotiation_pipeline.defs.negotiations.sensors import inbox_sensor
from negotiation_pipeline.domain.campaigns.report import SNAPSHOT_COLUMNS
from negotiation_pipeline.integrations.mail import reply_subject
from negotiation_pipeline.workflow.persistence import load_negotiation, thread_id_for
from tests.defs.conftest import VALID_LUMEN
from tests.defs.test_negotiation_loop import (  # noqa: F401 (the sandbox fixture)
    MAYA,
    THEO,
    Sandbox,
    influencer_reply,
    sandbox,
)

PRIYA = "priya.nair@example.test"
SOFIA = "sofia.alvarez@example.test"
JONAH = "jonah.brooks@example.test"
STRANGER = "someone@elsewhere.test"


def reply_from(box: Sandbox, thread_of: str, sender: str, text: str, message_id: str) -> bytes:
    ours = box.store().outbox.for_thread(thread_id_for(VALID_LUMEN, thread_of))[-1]
    message = EmailMessage()
    message["From"] = email.utils.formataddr(("", sender))
    message["To"] = "partnerships@northbeam.test"
    message["Subject"] = reply_subject(ours.subject)
    message["Message-ID"] = message_id
    message["In-Reply-To"] = ours.message_id
    message["References"] = ours.message_id
    message["Date"] = email.utils.formatdate()
    message.set_content(text)
    return message.as_bytes(policy=SMTP_POLICY)


def info_lines(box: Sandbox, result: dg.ExecuteInProcessResult) -> list[str]:
    """The run's INFO lines from ops, as the UI's run log shows them (the instance's event log,
    not captured stdout)."""
    return [
        record.user_message
        for record in box.instance.all_logs(result.run_id)
        if record.dagster_event is None and record.level == logging.INFO
    ]


def line_for(lines: list[str], needle: str) -> str:
    [line] = [line for line in lines if needle in line]
    return line


def ask_between_offer_and_ceiling(box: Sandbox, influencer_email: str) -> Decimal:
    stored = box.store().states.load(thread_id_for(VALID_LUMEN, influencer_email))
    assert stored is not None
    negotiation = load_negotiation(stored)
    assert negotiation.our_last_offer is not None
    return (negotiation.our_last_offer * Decimal("1.15")).quantize(Decimal(1))


def test_the_advance_run_log_has_one_line_per_reply_saying_what_we_read_and_decided(
    sandbox: Sandbox,  # noqa: F811
) -> None:
    sandbox.ingest()
    maildir = sandbox.maildir()
    theo_ask = ask_between_offer_and_ceiling(sandbox, THEO)
    maya = influencer_reply(sandbox, MAYA, "That works for me, let's do it!", "Maya Chen")
    for raw in (
        maya,
        maya,  # delivered twice
        influencer_reply(sandbox, THEO, f"I would need ${theo_ask:,} for this.", "Theo Martins"),
        reply_from(sandbox, PRIYA, PRIYA, "My rate is €1,500 for a reel.", "<p1@x.test>"),
        reply_from(sandbox, SOFIA, SOFIA, "When would the post need to go live?", "<s1@x.test>"),
        reply_from(sandbox, JONAH, STRANGER, "Jonah says yes\nFORGED LINE \x1b[31m", "<j1@x.test>"),
    ):
        maildir.append_to_inbox(raw)
    first_tick = sandbox.tick(inbox_sensor.name, cursor=None)
    [request] = first_tick.run_requests or []

    result = sandbox.advance(request)

    assert result.success
    lines = [line for line in info_lines(sandbox, result) if line.startswith("reply from")]
    assert len(lines) == 6
    campaign = "Lumen Skincare (86b1aa001)"
    assert all(campaign in line for line in lines)
    accepted = lines[0]
    assert accepted.startswith("reply from Maya Chen <maya.chen@example.test>")
    assert "they said: accept" in accepted and "we decided: accept at $1,325.00" in accepted
    assert "queued: our answer <neg." in accepted and "state now agreed" in accepted
    duplicate = lines[1]
    assert "duplicate, ignored: already handled before (processed: accept)" in duplicate

    countered = line_for(lines, "Theo Martins <theo@example.test>")
    assert f"they said: counter ${theo_ask:,}.00" in countered
    theo = sandbox.store().states.load(thread_id_for(VALID_LUMEN, THEO))
    assert theo is not None
    our_counter = load_negotiation(theo).our_last_offer
    assert our_counter is not None
    assert f"we decided: counter at ${our_counter:,.2f}, scenario 1" in countered
    assert "queued: our answer <neg." in countered

    euro = line_for(lines, "Priya Nair")
    assert "they said: counter 1,500.00 EUR" in euro
    assert "we decided: escalated because currency" in euro
    assert "queued: nothing (the draft waits for a human)" in euro

    question = line_for(lines, "Sofia Alvarez")
    assert "they said: question" in question and "we decided: question answered" in question

    held = line_for(lines, STRANGER)
    assert held.startswith(f"reply from {STRANGER} (thread of Jonah Brooks)")
    assert "held: someone@elsewhere.test is not one of this negotiation's senders" in held
    assert all("\n" not in line and "\x1b" not in line for line in lines)

    # A later reply in the escalated thread is recorded, not answered, and the line says why.
    maildir.append_to_inbox(
        reply_from(sandbox, PRIYA, PRIYA, "Any news on my rate?", "<p2@x.test>")
    )
    later_tick = sandbox.tick(inbox_sensor.name, cursor=first_tick.cursor)
    [later] = later_tick.run_requests or []
    skipped = info_lines(sandbox, sandbox.advance(later))
    line = line_for(skipped, "priya.nair@example.test (thread of Priya Nair)")
    assert "not answered: negotiation is escalated: waiting for a human decision" in line


def snapshot_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [snapshot] = [
        {name: value.value for name, value in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
        if event.asset_key == negotiation_snapshots.key
    ]
    return snapshot


def test_the_snapshot_says_what_each_thread_waits_for_and_keeps_an_euro_ask(
    sandbox: Sandbox,  # noqa: F811
) -> None:
    sandbox.ingest()
    maildir = sandbox.maildir()
    theo_ask = ask_between_offer_and_ceiling(sandbox, THEO)
    maildir.append_to_inbox(
        influencer_reply(sandbox, THEO, f"I would need ${theo_ask:,} for this.", "Theo Martins")
    )
    maildir.append_to_inbox(
        reply_from(sandbox, PRIYA, PRIYA, "My rate is €1,500 for a reel.", "<p1@x.test>")
    )
    maildir.append_to_inbox(influencer_reply(sandbox, MAYA, "Deal, let's do it!", "Maya Chen"))
    [request] = sandbox.tick(inbox_sensor.name, cursor=None).run_requests or []
    before = datetime.now(UTC)

    result = sandbox.advance(request)

    assert result.success
    snapshot = snapshot_of(result)
    assert snapshot["client"] == "Lumen Skincare"
    table = snapshot["snapshot_table"]
    assert [column.name for column in table.schema.columns] == list(SNAPSHOT_COLUMNS)
    rows = {record.data["influencer"]: record.data for record in table.records}
    assert set(rows) == {"Maya Chen", "Theo Martins", "Priya Nair", "Sofia Alvarez", "Jonah Brooks"}
    assert all(row["client"] == "Lumen Skincare" for row in rows.values())

    priya = rows["Priya Nair"]
    assert priya["state"] == "escalated"
    assert priya["their_ask"] == "1,500.00 EUR"
    assert priya["escalation_reason"].startswith("currency")
    assert priya["next_step"].startswith("waiting for a human because currency")
    assert priya["last_email_in"].endswith(
        "Re: Paid Instagram partnership with Lumen Skincare for Priya"
    )

    theo = rows["Theo Martins"]
    assert theo["their_ask"] == f"${theo_ask:,}.00" and theo["escalation_reason"] == ""
    stored = sandbox.store().states.load(thread_id_for(VALID_LUMEN, THEO))
    assert stored is not None
    negotiation = load_negotiation(stored)
    last = negotiation.last_activity
    assert last is not None and last >= before - timedelta(seconds=1)
    due = (last + timedelta(days=3)).strftime(
        "%Y-%m-%d %H:%M UTC"
    )  # policy: follow up after 3 days
    assert theo["next_step"] == (
        f"waiting for reply since {last.strftime('%Y-%m-%d %H:%M UTC')}; follow-up due at {due}"
    )
    [counter] = [e for e in sandbox.store().outbox.for_thread(stored.thread_id)][-1:]
    assert theo["last_email_out"].endswith(counter.subject)
    assert theo["deliverables"] and theo["usage_rights"]

    maya = rows["Maya Chen"]
    assert maya["next_step"] == "none: the negotiation ended (agreed)"
    assert maya["deliverables"] and maya["usage_rights"]
    jonah = rows["Jonah Brooks"]
    assert jonah["last_email_in"] == "" and jonah["their_ask"] == ""
    assert jonah["next_step"].startswith("waiting for reply since")
    # the markdown table carries the same columns
    assert "| next_step |" in snapshot["snapshot"] and "1,500.00 EUR" in snapshot["snapshot"]


def materialized(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict[str, Any]:
    [metadata] = [
        {name: value.value for name, value in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
        if event.asset_key == key
    ]
    return metadata


def test_each_campaign_s_conversations_are_readable_in_the_ui_and_the_terminal(
    sandbox: Sandbox,  # noqa: F811
) -> None:
    sandbox.ingest()
    maildir = sandbox.maildir()
    theo_ask = ask_between_offer_and_ceiling(sandbox, THEO)
    maildir.append_to_inbox(
        influencer_reply(sandbox, THEO, f"I would need ${theo_ask:,} for this.", "Theo Martins")
    )
    huge = "When would the post go live? " + "blah " * 40_000 + "\n# HEADING\n| a | b |"
    maildir.append_to_inbox(reply_from(sandbox, SOFIA, SOFIA, huge, "<s-huge@x.test>"))
    [request] = sandbox.tick(inbox_sensor.name, cursor=None).run_requests or []

    result = sandbox.advance(request)

    assert result.success
    shown = materialized(result, CONVERSATIONS_KEY)
    assert shown["dagster/row_count"] == 5
    assert shown["emails_in"] == 2 and shown["emails_out"] == 5 + 2  # 5 offers, 2 answers
    markdown = shown["conversations"]
    theo_part = markdown[markdown.index("### Theo Martins") :].split("\n---\n")[0]
    assert "← in** (processed)" in theo_part and "→ out** (sent)" in theo_part
    assert f"I would need ${theo_ask:,} for this." in theo_part
    assert "*Decision:* send counter: concede along the curve" in theo_part
    assert "Lumen Skincare (86b1aa001)" in theo_part
    # bounded: the 200 KB reply shows as a preview, its markdown cannot restructure the page
    assert len(markdown) < 30_000
    assert "more characters]" in markdown and "\n# HEADING" not in markdown

    # the same conversation in the terminal, by thread id or by the influencer's email
    runner = CliRunner()
    db = sandbox.env["NEGOTIATION_DB"]
    theo_thread = thread_id_for(VALID_LUMEN, THEO)
    as_json = runner.invoke(thread_command, [theo_thread, "--format", "json", "--db", db])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["client_name"] == "Lumen Skincare" and data["thread_id"] == theo_thread
    assert [e["direction"] for e in data["emails"]] == ["out", "in", "out"]
    assert data["emails"][1]["text"] == f"I would need ${theo_ask:,} for this."
    assert data["emails"][2]["decision"].startswith("send counter")
    as_text = runner.invoke(thread_command, [THEO, "--db", db])
    assert as_text.exit_code == 0
    assert "IN  ← [processed]" in as_text.output and "OUT → [sent]" in as_text.output
    sofia = runner.invoke(thread_command, [SOFIA, "--format", "json", "--db", db])
    [reply] = [e for e in json.loads(sofia.output)["emails"] if e["direction"] == "in"]
    assert len(reply["text"]) < 4_100
    unknown = runner.invoke(thread_command, ["nobody@example.test", "--db", db])
    assert unknown.exit_code == 2 and "no negotiation" in unknown.output
