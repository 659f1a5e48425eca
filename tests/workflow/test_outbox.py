"""deliver_pending: send after commit, once; one bad email does not block the others."""

from __future__ import annotations

from pathlib import Path

from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, OutboxEmail, OutboxStatus, SQLiteStore
from negotiation_pipeline.workflow.control import pause, resume, stop, takeover
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.sent_copies import to_outgoing
from tests.workflow.opened_threads import open_threads
from tests.workflow.support import NOW, flex_row, sent_message_ids


def _queue(store: SQLiteStore, n: int, to_addr: str = "jane@gmail.com") -> OutboxEmail:
    email = OutboxEmail(
        message_id=f"<neg.t.{n}@agency.test>",
        to_addr=to_addr,
        subject=f"Offer {n}",
        body=f"Body {n}",
        thread_id="t",
        campaign_id="cmp-1",
        in_reply_to="<theirs.1@gmail.com>",
        references="<neg.t.0@agency.test> <theirs.1@gmail.com>",
    )
    assert store.outbox.add(email)
    return email


def test_one_unsendable_email_fails_for_good_and_the_rest_go_out(
    store: SQLiteStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    _queue(store, 1)
    broken = _queue(store, 2, to_addr="victim@x.com\nBcc: everyone@x.com")
    _queue(store, 3)

    result = deliver_pending(store, mailbox)

    assert (result.sent, result.already_sent) == (2, 0)
    assert [message_id for message_id, _ in result.failed] == [broken.message_id]
    assert "HeaderInjectionError" in result.failed[0][1]
    assert set(sent_message_ids(tmp_path / "mail")) == {
        "<neg.t.1@agency.test>",
        "<neg.t.3@agency.test>",
    }
    # An address that can never be sent is given up, not retried on every later run.
    assert store.outbox.pending() == []
    stored = store.outbox.get(broken.message_id)
    assert stored is not None and stored.status is OutboxStatus.FAILED
    assert stored.last_error is not None and "line break" in stored.last_error
    (error,) = store.audit.query(AuditQuery(event_type=EventType.ERROR))
    assert error.metadata is not None and error.metadata["message_id"] == broken.message_id
    assert error.metadata["reason"] == "delivery_failed"
    (event,) = result.events
    assert event.message_id == broken.message_id and not event.escalated
    assert deliver_pending(store, mailbox).events == ()  # Slack hears once


def test_crash_after_send_before_mark_does_not_resend(
    store: SQLiteStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    email = _queue(store, 1)
    mailbox.send_once(to_outgoing(email))  # the earlier run sent it and died before marking

    result = deliver_pending(store, mailbox)

    assert (result.sent, result.already_sent) == (0, 1)
    assert sent_message_ids(tmp_path / "mail") == {email.message_id: 1}
    stored = store.outbox.get(email.message_id)
    assert stored is not None and stored.status is OutboxStatus.SENT
    (audit,) = store.audit.query(AuditQuery(event_type=EventType.EMAIL_SENT))
    assert audit.metadata is not None and audit.metadata["found_in_sent_store"] is True


def test_threading_headers_reach_the_wire(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    _queue(store, 1)
    deliver_pending(store, mailbox)
    (raw,) = mailbox.sent_messages()
    assert b"In-Reply-To: <theirs.1@gmail.com>" in raw
    assert b"References: <neg.t.0@agency.test> <theirs.1@gmail.com>" in raw
    assert deliver_pending(store, mailbox).sent == 0  # nothing pending any more


def test_maildir_send_interrupted_after_reserving_its_file_name_completes_once(
    store: SQLiteStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    from negotiation_pipeline.integrations.mail.maildir import _sent_key

    email = _queue(store, 1)
    # The state a SIGKILL leaves between "marker written" and "file renamed into sent/new".
    mailbox._sent_marker(email.message_id).write_text(_sent_key(email.message_id) + "\n")
    assert not mailbox.already_sent(email.message_id)

    assert deliver_pending(store, mailbox).sent == 1
    assert mailbox.send_once(to_outgoing(email)) is False
    assert sent_message_ids(tmp_path / "mail") == {email.message_id: 1}


def test_queued_email_of_a_paused_stopped_or_taken_over_thread_is_held(
    store: SQLiteStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    """An offer queued before a human stepped in never goes out behind their back; a paused
    thread's email goes out once it is resumed."""
    rows = [flex_row(f"Person {n}", f"p{n}@gmail.com") for n in range(3)]
    paused, stopped, taken = open_threads(store, rows)  # queued, not sent yet
    pause(store, paused, actor="test", now=NOW)
    stop(store, stopped, actor="test", now=NOW)
    takeover(store, taken, actor="test", now=NOW)

    held = deliver_pending(store, mailbox)

    assert (held.sent, held.failed, len(held.held)) == (0, (), 3)
    assert not sent_message_ids(tmp_path / "mail")
    assert len(store.outbox.pending()) == 3  # kept, not lost

    resume(store, paused, actor="test", now=NOW)
    after_resume = deliver_pending(store, mailbox)
    assert (after_resume.sent, len(after_resume.held)) == (1, 2)
    (sent_offer,) = store.outbox.for_thread(paused)
    assert set(sent_message_ids(tmp_path / "mail")) == {sent_offer.message_id}
