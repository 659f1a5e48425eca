"""Follow-ups on real SQLite files and a real Maildir: one reminder, then stale, never twice."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from negotiation_pipeline.domain.enums import EventType, NegotiationEvent, NegotiationState
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.settings.engine import load_templates
from negotiation_pipeline.settings.files import packaged_config_dir
from negotiation_pipeline.store import AuditQuery, Controller, OutboxStatus, SQLiteStore
from negotiation_pipeline.workflow.events import Escalated, FinalState, MarkedStale
from negotiation_pipeline.workflow.followups import FollowUpResult, run_followups
from negotiation_pipeline.workflow.persistence import keyed_message_id
from tests.workflow.opened_threads import negotiation, open_threads, rewrite
from tests.workflow.support import (
    AGENT,
    NOW,
    engine_config,
    flex_row,
    sent_message_ids,
)

DAY = timedelta(days=1)
FIRST = engine_config().policy.follow_up.first_after_days
STALE = engine_config().policy.follow_up.stale_after_days


def _followups(
    store: SQLiteStore, mailbox: MaildirMailbox, days: float, config: EngineConfig | None = None
) -> FollowUpResult:
    return run_followups(
        store, mailbox, config or engine_config(), sender=AGENT, now=NOW + days * DAY
    )


def test_one_follow_up_threads_under_our_last_email_and_is_sent_once(
    tmp_path: Path, store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    (opening,) = store.outbox.for_thread(jane)

    early = _followups(store, mailbox, FIRST - 0.5)
    assert early.followed_up == () and early.checked == 1
    assert len(store.outbox.for_thread(jane)) == 1

    result = _followups(store, mailbox, FIRST)

    assert result.followed_up == (jane,) and result.marked_stale == () and result.events == ()
    assert result.delivery.sent == 1 and result.delivery.failed == ()
    follow_up = store.outbox.for_thread(jane)[-1]
    secret = store.installation.message_id_secret()
    assert follow_up.message_id == keyed_message_id(secret, jane, 1, AGENT.domain)
    assert follow_up.in_reply_to == opening.message_id
    assert follow_up.references == opening.message_id
    assert follow_up.subject == f"Re: {opening.subject}"
    assert follow_up.to_addr == "jane@gmail.com"
    assert follow_up.status is OutboxStatus.SENT
    assert "$1,000" in follow_up.body  # our standing offer
    after = negotiation(store, jane)
    assert after.followups_sent == 1 and after.state is NegotiationState.AWAITING_REPLY
    assert after.last_activity == NOW + FIRST * DAY
    audit = store.audit.query(
        AuditQuery(thread_id=jane, event_type=EventType.STATE_TRANSITION, limit=1)
    )
    assert audit[0].metadata is not None
    assert audit[0].metadata["action"] == "follow_up"
    assert audit[0].metadata["queued_message_id"] == follow_up.message_id

    # The wire copy carries the threading headers.
    raw = next(
        m
        for m in mailbox.sent_messages()
        if follow_up.message_id.encode() in m.split(b"\r\n\r\n")[0]
    )
    wire = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(wire["In-Reply-To"]) == opening.message_id
    assert str(wire["Subject"]).startswith("Re: ")

    again = _followups(store, mailbox, FIRST)  # same moment, e.g. a retried schedule tick
    assert again.followed_up == () and again.delivery.sent == 0
    assert len(store.outbox.for_thread(jane)) == 2
    assert set(sent_message_ids(tmp_path / "mail").values()) == {1}


def test_silence_after_the_follow_up_marks_stale_once_with_events(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    _followups(store, mailbox, FIRST)

    not_yet = _followups(store, mailbox, FIRST + STALE - 0.5)
    assert not_yet.marked_stale == ()

    result = _followups(store, mailbox, FIRST + STALE)

    assert result.marked_stale == (jane,) and result.followed_up == ()
    assert result.events == (
        MarkedStale(jane, "cmp-1", "Jane Doe", STALE),
        FinalState(jane, "cmp-1", "Jane Doe", NegotiationState.STALE),
    )
    stale = negotiation(store, jane)
    assert stale.state is NegotiationState.STALE
    assert stale.history[-1] == (NegotiationState.AWAITING_REPLY, "timeout", NegotiationState.STALE)
    assert len(store.outbox.for_thread(jane)) == 2  # no email for the stale mark

    later = _followups(store, mailbox, FIRST + STALE + 10)
    assert later.events == () and later.checked == 0  # stale is never followed up again


def test_only_agent_controlled_threads_waiting_for_a_reply_are_followed_up(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    rows = [
        flex_row("Ana Ruiz", "ana@gmail.com"),
        flex_row("Ben Cho", "ben@gmail.com"),
        flex_row("Cara Dunn", "cara@gmail.com"),
        flex_row("Dev Patel", "dev@gmail.com"),
        flex_row("Eve Moss", "eve@gmail.com"),
    ]
    ana, ben, cara, dev, eve = open_threads(store, rows, mailbox=mailbox)
    rewrite(store, ben, controlled_by=Controller.HUMAN)
    rewrite(store, cara, NegotiationEvent.PAUSE)
    rewrite(store, dev, NegotiationEvent.RECEIVE_REPLY, NegotiationEvent.ESCALATE)
    rewrite(
        store, eve, NegotiationEvent.RECEIVE_REPLY, NegotiationEvent.SEND_COUNTER
    )  # counter_sent waits too

    result = _followups(store, mailbox, FIRST)

    assert set(result.followed_up) == {ana, eve}
    assert result.checked == 2
    for untouched in (ben, cara, dev):
        assert len(store.outbox.for_thread(untouched)) == 1
        assert negotiation(store, untouched).followups_sent == 0


def test_a_follow_up_failing_the_gate_escalates_and_sends_nothing(
    tmp_path: Path, store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    templates_dir = tmp_path / "config" / "templates"
    templates_dir.mkdir(parents=True)
    for source in (packaged_config_dir() / "templates").glob("*.j2"):
        text = source.read_text(encoding="utf-8")
        if (
            source.name == "follow_up.txt.j2"
        ):  # a template edit that promises money we never offered
            text = text.replace("still stands.", "still stands, plus a $9,999 bonus.")
        (templates_dir / source.name).write_text(text, encoding="utf-8")
    config = replace(engine_config(), templates=load_templates(tmp_path / "config"))
    (jane,) = open_threads(store, mailbox=mailbox)

    result = _followups(store, mailbox, FIRST, config)

    assert result.escalated == (jane,) and result.followed_up == ()
    escalated, final = result.events
    assert isinstance(escalated, Escalated) and escalated.reason == "validation_failed"
    assert escalated.draft_body is not None and "$9,999" in escalated.draft_body
    assert final == FinalState(jane, "cmp-1", "Jane Doe", NegotiationState.ESCALATED)
    assert negotiation(store, jane).state is NegotiationState.ESCALATED
    assert len(store.outbox.for_thread(jane)) == 1  # nothing queued, nothing sent
    assert store.audit.query(AuditQuery(thread_id=jane, event_type=EventType.ESCALATION, limit=5))
