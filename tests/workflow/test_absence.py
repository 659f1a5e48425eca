"""Out-of-office replies hold the follow-up until after the return date they name.

Real SQLite files and a real Maildir: the notice goes through advance_negotiations, the
follow-up through run_followups, and what reaches the sent folder is checked.
"""

from __future__ import annotations

import email.policy
import email.utils
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, InboundStatus, SQLiteStore
from negotiation_pipeline.workflow.followups import FollowUpResult, run_followups
from negotiation_pipeline.workflow.replies import AdvanceResult, advance_negotiations
from tests.workflow.opened_threads import negotiation, open_threads
from tests.workflow.support import AGENT, MAILBOX, NOW, engine_config, sent_by_recipient

JANE = "jane@gmail.com"
DAY = timedelta(days=1)
FIRST = engine_config().policy.follow_up.first_after_days
STALE = engine_config().policy.follow_up.stale_after_days
BERLIN = timezone(timedelta(hours=1))
# NOW is Monday 2 March 2026, 09:00 UTC. "Back on Monday 16 March" + one business day of grace:
# Tuesday 17 March, 00:00 in the sender's zone (+01:00) = 16 March, 23:00 UTC.
HELD_UNTIL = datetime(2026, 3, 16, 23, 0, tzinfo=UTC)
OOO_ID = "<ooo-16-march@gmail.com>"


def _notice(
    parent: EmailMessage,
    body: str,
    *,
    sent_at: datetime,
    subject: str | None = None,
    sender: str = "Jane Doe <jane@gmail.com>",
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """A message answering `parent` (threaded), dated `sent_at` in its own zone."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(parent["From"])
    message["Subject"] = subject or "Re: " + str(parent["Subject"])
    message["Date"] = email.utils.format_datetime(sent_at)
    message["Message-ID"] = message_id or email.utils.make_msgid(domain="gmail.com")
    parent_id = str(parent["Message-ID"]).strip()
    message["In-Reply-To"] = parent_id
    message["References"] = parent_id
    for name, value in (headers or {}).items():
        message[name] = value
    quoted = "\n".join(f"> {line}" for line in parent.get_content().splitlines())
    message.set_content(f"{body}\n\nOn Mon, Mar 2, 2026 Alex Morgan wrote:\n{quoted}\n")
    return message.as_bytes(policy=email.policy.SMTP)


def _advance(store: SQLiteStore, mailbox: MaildirMailbox, now: datetime) -> AdvanceResult:
    return advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=[AGENT.address],
        now=now,
    )


def _followups(store: SQLiteStore, mailbox: MaildirMailbox, now: datetime) -> FollowUpResult:
    return run_followups(store, mailbox, engine_config(), sender=AGENT, now=now)


def _sent_to_jane(mailbox: MaildirMailbox) -> list[EmailMessage]:
    return sent_by_recipient(mailbox).get(JANE, [])


def _ooo_back_on_16_march(mailbox: MaildirMailbox) -> bytes:
    return _notice(
        _sent_to_jane(mailbox)[-1],
        "Thank you for your message. I am out of the office and back on Monday 16 March.\n"
        "For urgent matters please contact my assistant.",
        sent_at=(NOW + timedelta(hours=1)).astimezone(BERLIN),
        subject="Automatic reply: Re: Partnership with Acme",
        headers={"Auto-Submitted": "auto-replied"},
        message_id=OOO_ID,
    )


def test_notice_with_a_return_date_holds_the_follow_up_until_after_it(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    mailbox.append_to_inbox(_ooo_back_on_16_march(mailbox))

    advanced = _advance(store, mailbox, NOW + timedelta(hours=1))

    assert (advanced.processed, advanced.skipped) == (0, 1)
    stored = store.states.load(jane)
    assert stored is not None and stored.followup_not_before == HELD_UNTIL
    assert stored.state is NegotiationState.AWAITING_REPLY  # nothing else changed
    skipped = store.inbound.get(OOO_ID)
    assert skipped is not None and skipped.status is InboundStatus.SKIPPED
    assert "Auto-Submitted" in (skipped.detail or "") and "2026-03-16" in (skipped.detail or "")
    (received,) = store.audit.query(
        AuditQuery(thread_id=jane, event_type=EventType.EMAIL_RECEIVED, limit=5)
    )
    assert received.metadata is not None
    assert received.metadata["return_date"] == "2026-03-16"
    assert received.metadata["followup_not_before"] == HELD_UNTIL.isoformat()
    assert "back on monday 16 march" in received.metadata["return_phrase"]
    assert received.metadata["status"].startswith("skipped: Auto-Submitted: auto-replied")

    # Normally due after FIRST days of silence; held instead, up to the last moment.
    for moment in (NOW + FIRST * DAY, NOW + 10 * DAY, HELD_UNTIL - timedelta(seconds=1)):
        held = _followups(store, mailbox, moment)
        assert held.followed_up == () and held.marked_stale == () and held.held == (jane,)
        assert len(_sent_to_jane(mailbox)) == 1  # the opening only

    after = _followups(store, mailbox, HELD_UNTIL)

    assert after.followed_up == (jane,) and after.held == ()
    follow_up = _sent_to_jane(mailbox)[-1]
    assert len(_sent_to_jane(mailbox)) == 2 and "$1,000" in follow_up.get_content()
    assert negotiation(store, jane).followups_sent == 1
    (transition,) = store.audit.query(
        AuditQuery(thread_id=jane, event_type=EventType.STATE_TRANSITION, limit=1)
    )
    assert transition.metadata is not None
    assert transition.metadata["action"] == "follow_up"
    assert transition.metadata["held_until"] == HELD_UNTIL.isoformat()


def test_notice_without_a_date_keeps_the_usual_follow_up(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    notice = _notice(
        _sent_to_jane(mailbox)[-1],
        "I am currently out of the office with limited access to email.",
        sent_at=NOW + timedelta(hours=1),
        headers={"Auto-Submitted": "auto-replied"},
    )
    mailbox.append_to_inbox(notice)

    advanced = _advance(store, mailbox, NOW + timedelta(hours=1))

    assert advanced.skipped == 1
    stored = store.states.load(jane)
    assert stored is not None and stored.followup_not_before is None
    (received,) = store.audit.query(
        AuditQuery(thread_id=jane, event_type=EventType.EMAIL_RECEIVED, limit=5)
    )
    assert received.metadata is not None and "return_date" not in received.metadata
    result = _followups(store, mailbox, NOW + FIRST * DAY)
    assert result.followed_up == (jane,) and len(_sent_to_jane(mailbox)) == 2


def test_notice_without_auto_reply_headers_is_recognised_by_its_text(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    notice = _notice(
        _sent_to_jane(mailbox)[-1],
        "Hi,\nI'm currently on vacation with limited access to email.\n"
        "I'll be back on Monday 16 March and will reply then.\nJane",
        sent_at=(NOW + timedelta(hours=1)).astimezone(BERLIN),
    )
    mailbox.append_to_inbox(notice)

    advanced = _advance(store, mailbox, NOW + timedelta(hours=1))

    assert (advanced.processed, advanced.skipped, advanced.events) == (0, 1, ())
    stored = store.states.load(jane)
    assert stored is not None and stored.followup_not_before == HELD_UNTIL
    assert stored.state is NegotiationState.AWAITING_REPLY  # not escalated as "unclear"
    assert _followups(store, mailbox, NOW + FIRST * DAY).held == (jane,)


def test_a_person_answering_while_away_is_read_as_a_reply(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    answer = _notice(
        _sent_to_jane(mailbox)[-1],
        "I'm on vacation until 16 March, but quickly: I'd need $1,400 for this.",
        sent_at=NOW + timedelta(hours=1),
    )
    mailbox.append_to_inbox(answer)

    advanced = _advance(store, mailbox, NOW + timedelta(hours=1))

    assert advanced.processed == 1 and advanced.skipped == 0
    stored = store.states.load(jane)
    assert stored is not None and stored.followup_not_before is None
    assert negotiation(store, jane).their_last_ask is not None


def test_a_real_reply_after_the_notice_releases_the_hold(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    mailbox.append_to_inbox(_ooo_back_on_16_march(mailbox))
    _advance(store, mailbox, NOW + timedelta(hours=1))
    reply_at = NOW + 2 * DAY
    counter = _notice(_sent_to_jane(mailbox)[-1], "My rate would be $1,300.", sent_at=reply_at)
    mailbox.append_to_inbox(counter)

    advanced = _advance(store, mailbox, reply_at)

    assert advanced.processed == 1
    stored = store.states.load(jane)
    assert stored is not None and stored.followup_not_before is None
    assert stored.state is NegotiationState.COUNTER_SENT
    assert len(_sent_to_jane(mailbox)) == 2  # opening + our counter
    # Our counter is followed up on the usual timing again.
    result = _followups(store, mailbox, reply_at + FIRST * DAY)
    assert result.followed_up == (jane,) and len(_sent_to_jane(mailbox)) == 3


def test_a_notice_after_our_follow_up_defers_the_stale_mark(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    assert _followups(store, mailbox, NOW + FIRST * DAY).followed_up == (jane,)
    notice_at = NOW + (FIRST + 0.5) * DAY  # Thursday 5 March, 21:00 UTC
    notice = _notice(
        _sent_to_jane(mailbox)[-1],
        "Out of office until 20 March. I will answer when I am back.",
        sent_at=notice_at,
        headers={"X-Autoreply": "yes"},
    )
    mailbox.append_to_inbox(notice)
    _advance(store, mailbox, notice_at)
    # Until Friday 20 March + one business day: Monday 23 March, 00:00 UTC.
    held_until = datetime(2026, 3, 23, 0, 0, tzinfo=UTC)
    stored = store.states.load(jane)
    assert stored is not None and stored.followup_not_before == held_until

    early = _followups(store, mailbox, NOW + (FIRST + STALE) * DAY)  # usually stale now
    assert early.marked_stale == () and early.held == (jane,)
    assert negotiation(store, jane).state is NegotiationState.AWAITING_REPLY

    late = _followups(store, mailbox, held_until)
    assert late.marked_stale == (jane,)
    assert len(_sent_to_jane(mailbox)) == 2  # one follow-up in all, never a second


def test_a_bounce_naming_a_date_changes_nothing(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    bounce = _notice(
        _sent_to_jane(mailbox)[-1],
        "Delivery to the following recipient failed permanently. Retry until 16 March.",
        sent_at=NOW + timedelta(hours=1),
        subject="Undeliverable: Re: Partnership",
        sender="Mail Delivery Subsystem <mailer-daemon@gmail.com>",
        headers={"Auto-Submitted": "auto-replied"},
    )
    mailbox.append_to_inbox(bounce)

    advanced = _advance(store, mailbox, NOW + timedelta(hours=1))

    assert advanced.skipped == 1
    stored = store.states.load(jane)
    assert stored is not None and stored.followup_not_before is None
    assert _followups(store, mailbox, NOW + FIRST * DAY).followed_up == (jane,)


def test_a_sender_clock_far_off_is_not_trusted_for_relative_dates(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    notice = _notice(
        _sent_to_jane(mailbox)[-1],
        "Out of office, back on Friday.",
        sent_at=NOW - 200 * DAY,  # a clock months behind
        headers={"Auto-Submitted": "auto-replied"},
    )
    mailbox.append_to_inbox(notice)

    _advance(store, mailbox, NOW + timedelta(hours=1))

    stored = store.states.load(jane)
    # Friday after our own today (Monday 2 March): 6 March, + 1 business day → Monday 9 March.
    assert stored is not None
    assert stored.followup_not_before == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)


def test_a_notice_read_days_later_counts_from_its_own_date(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    (jane,) = open_threads(store, mailbox=mailbox)
    notice = _notice(
        _sent_to_jane(mailbox)[-1],
        "Out of office, back on Friday.",
        sent_at=NOW + timedelta(hours=1),  # Monday 2 March
        headers={"Auto-Submitted": "auto-replied"},
    )
    mailbox.append_to_inbox(notice)

    _advance(store, mailbox, NOW + 5 * DAY)  # the pipeline was down until Saturday

    stored = store.states.load(jane)
    # Friday after the notice: 6 March, + 1 business day → Monday 9 March (not the 16th).
    assert stored is not None
    assert stored.followup_not_before == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
