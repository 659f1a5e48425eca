"""advance_negotiations over a real SQLite file and a real Maildir mailbox."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from negotiation_pipeline.domain.enums import EventType, NegotiationEvent, NegotiationState
from negotiation_pipeline.domain.negotiation.engine import apply_event
from negotiation_pipeline.integrations.mail import MaildirMailbox
from negotiation_pipeline.store import AuditQuery, Controller, InboundStatus, SQLiteStore
from negotiation_pipeline.workflow.events import AgreementReached, Escalated, FinalState
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import (
    load_negotiation,
    save_negotiation,
    thread_id_for,
)
from negotiation_pipeline.workflow.replies import (
    AdvanceResult,
    advance_negotiations,
    list_new_mail,
)
from tests.store.conftest import StoreLocation
from tests.workflow.faults import FailingInserts, fail_inserts
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    flex_row,
    open_mailbox,
    reply_to,
    sent_by_recipient,
    sent_message_ids,
    stored_campaign,
)

JANE = "jane@gmail.com"
JANE_THREAD = thread_id_for("cmp-1", JANE)


def _start(store: SQLiteStore, mailbox: MaildirMailbox, *emails: str) -> None:
    stored_campaign(store)
    rows = [flex_row(f"Person {n} Doe", address) for n, address in enumerate(emails)] or [
        flex_row()
    ]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=AGENT, now=NOW)
    deliver_pending(store, mailbox)


FAILING_REPLY = "<fails@gmail.com>"


def _advance(
    store: SQLiteStore,
    mailbox: MaildirMailbox,
    uids: Sequence[int] | None = None,
    uidvalidity: int | None = None,
) -> AdvanceResult:
    """One run over everything new, or over the given batch (as inbox_sensor passes it)."""
    return advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=[f"Alex Morgan <{AGENT.address}>"],
        now=NOW,
        uids=uids,
        uidvalidity=uidvalidity,
    )


def _fail_outbox_inserts(location: StoreLocation) -> FailingInserts:
    """A real database failure inside a reply's transaction (after its inbound row was
    written) for our answer to the failing reply; drop it with `.stop()`."""
    return fail_inserts(location, "outbox", column="in_reply_to", value=FAILING_REPLY)


def _last_sent(mailbox: MaildirMailbox, address: str = JANE) -> EmailMessage:
    return sent_by_recipient(mailbox)[address][-1]


def test_full_conversation_reaches_agreement(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    _start(store, mailbox)
    opening = _last_sent(mailbox)
    mailbox.append_to_inbox(reply_to(opening, "Thanks! My rate for this package is $1,500."))
    first = _advance(store, mailbox)

    assert (first.processed, first.delivery.sent) == (1, 1)
    assert first.touched_campaigns == ("cmp-1",)
    counter = _last_sent(mailbox)
    assert counter["Subject"] == "Re: " + opening["Subject"]
    assert counter["In-Reply-To"] is not None
    assert str(opening["Message-ID"]) in str(counter["References"])
    assert "$1,040.00" in counter.get_content()  # the curve's first step from $1,000 toward $1,620
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.state is NegotiationState.COUNTER_SENT

    mailbox.append_to_inbox(reply_to(counter, "Deal, $1,040 works for me!"))
    second = _advance(store, mailbox)

    assert second.processed == 1
    agreed = AgreementReached(
        JANE_THREAD,
        "cmp-1",
        "Jane Doe",
        Decimal("1040.00"),
        Decimal("20.80"),  # on the agreed package's 50,000 expected views
        Decimal("30"),
        deliverables=("1 Instagram Reel", "3 Instagram Stories", "Usage rights: 90 days"),
    )
    assert second.events == (
        agreed,
        FinalState(JANE_THREAD, "cmp-1", "Jane Doe", NegotiationState.AGREED),
    )
    confirmation = _last_sent(mailbox)
    assert "confirmed at $1,040.00" in confirmation.get_content()
    assert confirmation["To"] == "Jane Doe <jane@gmail.com>"
    (agreement,) = store.agreements.for_campaign("cmp-1")
    assert (agreement.rate, agreement.cpm) == (Decimal("1040.00"), Decimal("20.80"))
    assert agreement.package is not None
    assert (agreement.package["scenario"], agreement.package["usage_rights"]) == (1, "90 days")
    record = store.campaigns.get("cmp-1")
    assert record is not None and record.cpm_tracker_data is not None
    assert record.cpm_tracker_data["agreements"] == [{"cpm": "20.80", "engagement_rate": "4.2"}]
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.state is NegotiationState.AGREED
    assert load_negotiation(stored).agreed_rate == Decimal("1040.00")
    # The audit trail tells the whole story, in order, with the reason for every move.
    entries = list(reversed(store.audit.query(AuditQuery(thread_id=JANE_THREAD))))
    counter_move = [e for e in entries if e.event_type is EventType.STATE_TRANSITION][1]
    assert counter_move.metadata is not None, "a counter records the strategy behind it"
    strategy = counter_move.metadata["strategy"]
    assert strategy["rule"] == "concede along the curve toward their ask"
    assert (strategy["offer"], strategy["ceiling"], strategy["curve"]) == (
        "$1,040.00",
        "$1,620.00",
        "exponent 0.6",
    )
    agreement_entry = next(e for e in entries if e.event_type is EventType.AGREEMENT)
    assert agreement_entry.metadata is not None, "an agreement records the package agreed"
    assert agreement_entry.metadata["package"]["expected_views"] == 50_000
    trail = [e.event_type for e in entries]
    assert trail == [
        EventType.STATE_TRANSITION,  # opening offer queued
        EventType.EMAIL_SENT,
        EventType.EMAIL_RECEIVED,
        EventType.STATE_TRANSITION,  # counter queued
        EventType.EMAIL_SENT,
        EventType.EMAIL_RECEIVED,
        EventType.AGREEMENT,
        EventType.STATE_TRANSITION,  # confirmation queued
        EventType.EMAIL_SENT,
    ]
    received = store.audit.query(
        AuditQuery(thread_id=JANE_THREAD, event_type=EventType.EMAIL_RECEIVED)
    )
    assert received[-1].intent_classification == "counter"
    assert received[-1].metadata is not None and received[-1].metadata["proposed_rate"] == "1500"


def test_prices_per_deliverable_are_totalled_over_the_offered_package(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    # The opening offer covers 1 Instagram Reel and 3 Instagram Stories.
    _start(store, mailbox, JANE, "sam@gmail.com")
    mailbox.append_to_inbox(
        reply_to(_last_sent(mailbox), "I charge $250 per story and $800 per reel.")
    )
    mailbox.append_to_inbox(
        reply_to(
            _last_sent(mailbox, "sam@gmail.com"),
            "Thanks! My rate is $300 per story.",
            sender="Sam <sam@gmail.com>",
        )
    )
    result = _advance(store, mailbox)

    assert result.processed == 2
    jane = store.audit.query(AuditQuery(thread_id=JANE_THREAD, event_type=EventType.EMAIL_RECEIVED))
    assert jane[0].metadata is not None and jane[0].metadata["proposed_rate"] == "1550"
    jane_state = store.states.load(JANE_THREAD)
    assert jane_state is not None and jane_state.state is NegotiationState.COUNTER_SENT
    # A price for the stories alone says nothing of the reel: a person totals it, never $300.
    sam = store.states.load(thread_id_for("cmp-1", "sam@gmail.com"))
    assert sam is not None and sam.state is NegotiationState.ESCALATED
    assert load_negotiation(sam).agreed_rate is None


def test_duplicate_reply_is_processed_once(store: SQLiteStore, mailbox: MaildirMailbox) -> None:
    _start(store, mailbox)
    raw = reply_to(_last_sent(mailbox), "Could you do $1,500?", message_id="<dup-1@gmail.com>")
    mailbox.append_to_inbox(raw)
    mailbox.append_to_inbox(raw)  # the same message delivered twice (two uids)

    result = _advance(store, mailbox)
    again = _advance(store, mailbox)

    assert (result.processed, result.duplicates) == (1, 1)
    assert (again.processed, again.duplicates) == (0, 0)  # the cursor moved past both
    assert len(sent_by_recipient(mailbox)[JANE]) == 2  # opening + one counter
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and load_negotiation(stored).replies_received == 1


def test_unmatched_and_auto_replies_are_recorded_not_answered(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox)
    stranger = reply_to(
        _last_sent(mailbox),
        "Hi, I'd love to collaborate, my rate is $900.",
        sender="Stranger <someone@else.com>",
        message_id="<stranger@else.com>",
        threaded=False,
    )
    ooo = reply_to(
        _last_sent(mailbox),
        "I am out of the office until Monday.",
        message_id="<ooo@gmail.com>",
        extra_headers={"Auto-Submitted": "auto-replied"},
    )
    mailbox.append_to_inbox(stranger)
    mailbox.append_to_inbox(ooo)

    result = _advance(store, mailbox)

    assert (result.processed, result.unmatched, result.skipped) == (0, 1, 1)
    unmatched = store.inbound.get("<stranger@else.com>")
    assert unmatched is not None and unmatched.status is InboundStatus.UNMATCHED
    auto = store.inbound.get("<ooo@gmail.com>")
    assert auto is not None and auto.status is InboundStatus.SKIPPED
    assert auto.thread_id == JANE_THREAD and "Auto-Submitted" in (auto.detail or "")
    assert result.delivery.sent == 0 and len(sent_by_recipient(mailbox)[JANE]) == 1


def test_reply_without_threading_headers_matches_by_sender_and_subject(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox)
    raw = reply_to(_last_sent(mailbox), "My rate would be $1,500.", threaded=False)
    mailbox.append_to_inbox(raw)
    result = _advance(store, mailbox)
    assert result.processed == 1
    assert len(sent_by_recipient(mailbox)[JANE]) == 2


def test_paused_and_human_controlled_threads_are_skipped(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox, "paused@gmail.com", "human@gmail.com")
    paused_thread = thread_id_for("cmp-1", "paused@gmail.com")
    stored = store.states.load(paused_thread)
    assert stored is not None
    paused = apply_event(load_negotiation(stored), NegotiationEvent.PAUSE, NOW)
    with store.transaction() as uow:
        save_negotiation(uow, paused, stored.campaign, stored.cpm_tracker_data)
    store.states.set_controlled_by(thread_id_for("cmp-1", "human@gmail.com"), Controller.HUMAN)
    for address in ("paused@gmail.com", "human@gmail.com"):
        parent = _last_sent(mailbox, address)
        mailbox.append_to_inbox(reply_to(parent, "I'd need $1,500.", sender=address))

    result = _advance(store, mailbox)

    assert (result.processed, result.skipped) == (0, 2)
    assert result.delivery.sent == 0
    details = sorted(
        store.audit.query(AuditQuery(event_type=EventType.EMAIL_RECEIVED, limit=10)),
        key=lambda e: e.thread_id or "",
    )
    statuses = {e.thread_id: (e.metadata or {})["status"] for e in details}
    assert statuses[paused_thread] == "skipped: negotiation is paused"
    assert "human controls" in statuses[thread_id_for("cmp-1", "human@gmail.com")]
    still = store.states.load(paused_thread)
    assert still is not None and still.state is NegotiationState.PAUSED
    assert still.pre_pause_state is NegotiationState.AWAITING_REPLY


def test_human_reply_from_our_address_takes_the_thread_over(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox)
    theirs = reply_to(_last_sent(mailbox), "Hmm, can we hop on a call?", message_id="<q@gmail.com>")
    mailbox.append_to_inbox(theirs)
    _advance(store, mailbox)
    # A colleague answers Jane by hand from the shared agency address.
    their_message = _last_sent(mailbox)  # our automatic answer to the question
    human = reply_to(
        their_message,
        "Hi Jane, happy to call tomorrow at 10. Alex",
        sender=f"Alex Morgan <{AGENT.address}>",
        message_id="<by-hand@agency.test>",
    )
    mailbox.sent.add(human)  # their mail client filed it in Sent: the proof it is ours
    mailbox.append_to_inbox(human)
    later = reply_to(their_message, "Great, and my rate is $1,500.", message_id="<l@gmail.com>")
    mailbox.append_to_inbox(later)
    sent_before = len(sent_by_recipient(mailbox)[JANE])

    result = _advance(store, mailbox)

    assert result.processed == 0 and result.skipped == 2
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.controlled_by is Controller.HUMAN
    (takeover,) = store.audit.query(AuditQuery(event_type=EventType.TAKEOVER))
    assert takeover.thread_id == JANE_THREAD
    assert takeover.metadata is not None and takeover.metadata["trigger"] == "human_reply"
    assert len(sent_by_recipient(mailbox)[JANE]) == sent_before  # the agent stays quiet
    own = store.inbound.get("<by-hand@agency.test>")
    assert own is not None and own.status is InboundStatus.OWN


def test_our_own_sent_copy_in_the_inbox_is_ignored(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox)
    (raw,) = mailbox.sent_messages()
    mailbox.append_to_inbox(raw)  # e.g. the server files a copy of our own mail in INBOX
    result = _advance(store, mailbox)
    assert result.skipped == 1 and result.processed == 0
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.controlled_by is Controller.AGENT


def test_unreadable_and_broken_replies_do_not_stop_the_others(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox, "broken@gmail.com", JANE)
    broken_thread = thread_id_for("cmp-1", "broken@gmail.com")
    stored = store.states.load(broken_thread)
    assert stored is not None
    # A corrupt negotiation record (missing "terms"): the engine cannot load it.
    context = dict(stored.context)
    del context["terms"]
    store.states.save(
        broken_thread, stored.state_machine, context, stored.campaign, {}, stored.round_count
    )
    mailbox.append_to_inbox(b" \r\n")  # not a message at all
    broken_parent = _last_sent(mailbox, "broken@gmail.com")
    mailbox.append_to_inbox(reply_to(broken_parent, "$1,500 please", sender="broken@gmail.com"))
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $1,500."))

    result = _advance(store, mailbox)

    assert (result.unreadable, result.skipped, result.processed) == (1, 1, 1)
    assert result.cursor is not None and result.cursor.last_uid == 3
    errors = store.audit.query(AuditQuery(event_type=EventType.ERROR))
    assert any("unreadable" in str((e.metadata or {}).get("error")) for e in errors)
    assert any("missing field 'terms'" in str((e.metadata or {}).get("error")) for e in errors)
    assert len(sent_by_recipient(mailbox)[JANE]) == 2  # Jane still got her counter
    assert _advance(store, mailbox).unreadable == 0  # recorded once, cursor moved on


def test_database_failure_rolls_back_that_reply_only(
    store: SQLiteStore, mailbox: MaildirMailbox, store_location: StoreLocation
) -> None:
    _start(store, mailbox, "first@gmail.com", JANE)
    mailbox.append_to_inbox(
        reply_to(
            _last_sent(mailbox, "first@gmail.com"),
            "I'd need $1,500.",
            sender="first@gmail.com",
            message_id="<fails@gmail.com>",
        )
    )
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $1,500."))
    failing = _fail_outbox_inserts(store_location)

    result = _advance(store, mailbox)

    assert result.failed_uids == (1,) and result.processed == 1
    assert result.cursor is not None and result.cursor.last_uid == 0  # uid 1 not handled yet
    assert store.inbound.get("<fails@gmail.com>") is None  # rolled back whole
    first = store.states.load(thread_id_for("cmp-1", "first@gmail.com"))
    assert first is not None and first.state is NegotiationState.AWAITING_REPLY

    failing.stop()
    retry = _advance(store, mailbox)
    assert (retry.processed, retry.duplicates, retry.failed_uids) == (1, 0, ())
    # uid 2 was recorded as handled by the first run: not fetched and read again.
    assert retry.handled_elsewhere == 1
    assert retry.cursor is not None and retry.cursor.last_uid == 2
    assert len(sent_by_recipient(mailbox)["first@gmail.com"]) == 2


def test_a_later_batch_retries_the_reply_an_earlier_run_failed_on(
    store: SQLiteStore, mailbox: MaildirMailbox, store_location: StoreLocation
) -> None:
    """The sensor passes only the new batch's uids; the run still handles the reply an earlier
    run failed on, so the cursor never jumps over an unhandled reply."""
    _start(store, mailbox, "first@gmail.com", JANE)
    mailbox.append_to_inbox(
        reply_to(
            _last_sent(mailbox, "first@gmail.com"),
            "I'd need $1,500.",
            sender="first@gmail.com",
            message_id="<fails@gmail.com>",
        )
    )
    failing = _fail_outbox_inserts(store_location)
    first_batch = list_new_mail(store, mailbox, MAILBOX, 100)
    failed = _advance(store, mailbox, first_batch.uids, first_batch.uidvalidity)
    assert failed.failed_uids == (1,)
    failing.stop()

    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $1,500."))  # uid 2
    later = _advance(store, mailbox, [2], first_batch.uidvalidity)

    assert (later.processed, later.failed_uids) == (2, ())
    assert later.cursor is not None and later.cursor.last_uid == 2
    assert store.inbound.get("<fails@gmail.com>") is not None
    assert len(sent_by_recipient(mailbox)["first@gmail.com"]) == 2  # offer + our counter


def test_a_later_batch_run_before_any_cursor_exists_never_jumps_the_earlier_replies(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    """Runs handed consecutive batches may start in any order (parallel runs, or the first
    run died before it stored a cursor): the second batch's run must not move the cursor over
    the first batch's replies that nobody has handled."""
    _start(store, mailbox, "first@gmail.com", JANE)
    mailbox.append_to_inbox(
        reply_to(
            _last_sent(mailbox, "first@gmail.com"), "I'd need $1,500.", sender="first@gmail.com"
        )
    )
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $1,500."))  # uid 2
    batch = list_new_mail(store, mailbox, MAILBOX, 100)
    assert store.mail_cursors.get(MAILBOX) is None

    later = _advance(store, mailbox, [2], batch.uidvalidity)

    assert later.processed == 2  # uid 1 too: it lies between the (missing) cursor and uid 2
    assert later.cursor is not None and later.cursor.last_uid == 2
    assert list_new_mail(store, mailbox, MAILBOX, 100).uids == ()
    assert len(sent_by_recipient(mailbox)["first@gmail.com"]) == 2  # offer + our counter


def test_uidvalidity_change_rescans_without_reprocessing(
    store: SQLiteStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    _start(store, mailbox)
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $1,500."))
    assert _advance(store, mailbox).processed == 1
    shutil.rmtree(tmp_path / "mail" / "state")  # the sandbox's UIDVALIDITY change
    rebuilt = open_mailbox(tmp_path / "mail")

    batch = list_new_mail(store, rebuilt, MAILBOX, 100)
    result = _advance(store, rebuilt)

    assert batch.uids == (1,) and batch.uidvalidity == rebuilt.uidvalidity
    assert (result.processed, result.duplicates) == (0, 1)
    assert result.cursor is not None and result.cursor.uidvalidity == rebuilt.uidvalidity
    assert max(sent_message_ids(tmp_path / "mail").values()) == 1


def test_stale_uidvalidity_from_the_sensor_is_relisted(
    store: SQLiteStore, mailbox: MaildirMailbox, tmp_path: Path
) -> None:
    _start(store, mailbox)
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $1,500."))
    batch = list_new_mail(store, mailbox, MAILBOX, 100)
    shutil.rmtree(tmp_path / "mail" / "state")
    rebuilt = open_mailbox(tmp_path / "mail")
    result = _advance(store, rebuilt, batch.uids, batch.uidvalidity)
    assert result.processed == 1 and result.cursor is not None
    assert result.cursor == replace(result.cursor, last_uid=1)


def test_list_new_mail_is_ids_only_with_a_stable_batch_key(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox)
    empty = list_new_mail(store, mailbox, MAILBOX, 10)
    assert empty.uids == () and empty.batch_key.endswith(":none")
    for n in range(3):
        mailbox.append_to_inbox(
            reply_to(_last_sent(mailbox), f"rate ${1500 + n}", message_id=f"<m{n}@gmail.com>")
        )
    batch = list_new_mail(store, mailbox, MAILBOX, 2)
    assert batch.uids == (1, 2)
    assert batch.batch_key == f"{MAILBOX}:{mailbox.uidvalidity}:1-2"
    assert list_new_mail(store, mailbox, MAILBOX, 2) == batch  # nothing handled: same key
    _advance(store, mailbox, batch.uids, batch.uidvalidity)
    assert list_new_mail(store, mailbox, MAILBOX, 2).uids == (3,)


def test_escalation_queues_nothing_and_reports_the_draft(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox)
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $9,000 for this."))
    result = _advance(store, mailbox)
    (escalated,) = [e for e in result.events if isinstance(e, Escalated)]
    assert escalated.reason == "over_approval_limit" and escalated.their_rate == Decimal("9000")
    assert result.delivery.sent == 0
    stored = store.states.load(JANE_THREAD)
    assert stored is not None and stored.state is NegotiationState.ESCALATED
    # A further reply while escalated waits for the human.
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "Any news?"))
    assert _advance(store, mailbox).skipped == 1


def test_mail_removed_after_listing_does_not_block_the_cursor(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    _start(store, mailbox)
    mailbox.append_to_inbox(reply_to(_last_sent(mailbox), "My rate is $1,500."))
    batch = list_new_mail(store, mailbox, MAILBOX, 10)
    for key in list(mailbox.inbox.keys()):
        mailbox.inbox.remove(key)  # deleted by someone between the sensor tick and the run
    result = _advance(store, mailbox, batch.uids, batch.uidvalidity)
    assert result.processed == 0
    assert result.cursor is not None and result.cursor.last_uid == batch.uids[-1]
