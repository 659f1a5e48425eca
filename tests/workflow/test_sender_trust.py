"""Only a thread's own side can steer it: advance_negotiations over a real SQLite file and a real
Maildir, with replies forged the way an outsider (or another influencer) would forge them."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.integrations.mail import ImapConfig, ImapReader, MaildirMailbox
from negotiation_pipeline.store import (
    AuditQuery,
    Controller,
    InboundStatus,
    SQLiteStore,
    StoredNegotiation,
)
from negotiation_pipeline.workflow.events import HumanTookOver, ReplyHeld
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import load_negotiation, thread_id_for
from negotiation_pipeline.workflow.replies import AdvanceResult, advance_negotiations
from tests.servers import free_port
from tests.workflow.support import (
    AGENT,
    MAILBOX,
    NOW,
    engine_config,
    flex_row,
    reply_to,
    sent_by_recipient,
    stored_campaign,
)

ANNA = "anna@gmail.com"  # influencer A
BEN = "ben@gmail.com"  # influencer B
ANNA_THREAD = thread_id_for("cmp-1", ANNA)
BEN_THREAD = thread_id_for("cmp-1", BEN)


def _start(
    store: SQLiteStore, mailbox: MaildirMailbox, managers: Sequence[str] = ()
) -> dict[str, EmailMessage]:
    """Anna's and Ben's negotiations, offers sent; returns each one's opening offer."""
    stored_campaign(store)
    rows = [
        flex_row("Anna Berg", ANNA),
        flex_row("Ben Cole", BEN, manager_emails=tuple(managers)),
    ]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=AGENT, now=NOW)
    deliver_pending(store, mailbox)
    sent = sent_by_recipient(mailbox)
    return {ANNA: sent[ANNA][-1], BEN: sent[BEN][-1]}


def _advance(store: SQLiteStore, mailbox: MaildirMailbox) -> AdvanceResult:
    return advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name=MAILBOX,
        agent_addresses=[f"Alex Morgan <{AGENT.address}>"],
        now=NOW,
    )


def _state(store: SQLiteStore, thread_id: str) -> NegotiationState:
    stored = store.states.load(thread_id)
    assert stored is not None
    return stored.state


def test_another_influencer_cannot_agree_in_someone_elses_thread(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    # Anna answers with Ben's Message-ID in In-Reply-To/References (copied or guessed).
    forged = reply_to(
        offers[BEN],
        "Deal, that works for me!",
        sender=f"Anna Berg <{ANNA}>",
        message_id="<hijack@gmail.com>",
    )
    mailbox.append_to_inbox(forged)

    result = _advance(store, mailbox)

    assert result.processed == 0 and result.quarantined == 1
    assert _state(store, BEN_THREAD) is NegotiationState.AWAITING_REPLY
    assert store.agreements.for_campaign("cmp-1") == []
    sent = sent_by_recipient(mailbox)
    assert len(sent[ANNA]) == 1 and len(sent[BEN]) == 1  # nobody got Ben's confirmed terms
    held = store.inbound.get("<hijack@gmail.com>", ANNA)
    assert held is not None and held.status is InboundStatus.QUARANTINED
    assert held.thread_id == BEN_THREAD
    assert "anna@gmail.com is not one of this negotiation's senders" in (held.detail or "")
    [audited] = store.audit.query(
        AuditQuery(thread_id=BEN_THREAD, event_type=EventType.EMAIL_RECEIVED)
    )
    assert audited.metadata is not None
    assert audited.metadata["status"].startswith("quarantined: ")
    assert audited.metadata["from"] == ANNA
    [alert] = [e for e in result.events if isinstance(e, ReplyHeld)]
    assert (alert.thread_id, alert.sender, alert.held_count) == (BEN_THREAD, ANNA, 1)
    assert load_negotiation(_stored(store, BEN_THREAD)).replies_received == 0


def _stored(store: SQLiteStore, thread_id: str) -> StoredNegotiation:
    stored = store.states.load(thread_id)
    assert stored is not None
    return stored


def test_the_roster_address_is_accepted_whatever_its_case_and_display_name(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    mailbox.append_to_inbox(
        reply_to(offers[BEN], "Deal, that works for me!", sender='"Benny C." <BEN@GMAIL.COM>')
    )
    result = _advance(store, mailbox)
    assert (result.processed, result.quarantined) == (1, 0)
    assert _state(store, BEN_THREAD) is NegotiationState.AGREED


def test_a_listed_manager_is_accepted_and_an_unlisted_one_is_held(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox, managers=["casey@brightline.com", "desk@brightline.com"])
    listed = reply_to(
        offers[BEN],
        "Hi Alex, Ben would do this for $1,500.\n\nCasey Miles\nTalent Manager",
        sender="Casey Miles <Casey@Brightline.com>",
        message_id="<casey@brightline.com>",
    )
    unlisted = reply_to(
        offers[ANNA],
        "Hi, Anna's rate is $1,200.",
        sender="Riley <riley@brightline.com>",
        message_id="<riley@brightline.com>",
    )
    mailbox.append_to_inbox(listed)
    mailbox.append_to_inbox(unlisted)

    result = _advance(store, mailbox)

    assert (result.processed, result.quarantined) == (1, 1)
    assert _state(store, BEN_THREAD) is NegotiationState.COUNTER_SENT
    assert _state(store, ANNA_THREAD) is NegotiationState.AWAITING_REPLY
    assert len(sent_by_recipient(mailbox)["casey@brightline.com"]) == 1  # we answered Casey
    assert "riley@brightline.com" not in sent_by_recipient(mailbox)


def test_several_held_replies_from_one_sender_alert_once(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    for n in range(3):
        mailbox.append_to_inbox(
            reply_to(offers[BEN], f"Deal at ${900 + n}!", sender=ANNA, message_id=f"<h{n}@x.com>")
        )
    first = _advance(store, mailbox)
    assert first.quarantined == 3
    assert len([e for e in first.events if isinstance(e, ReplyHeld)]) == 1
    assert len(store.inbound.quarantined(BEN_THREAD)) == 3


def test_a_message_id_collision_from_another_sender_is_not_dropped(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    mailbox.append_to_inbox(
        reply_to(offers[ANNA], "My rate is $1,500.", sender=ANNA, message_id="<same@id>")
    )
    mailbox.append_to_inbox(
        reply_to(offers[BEN], "My rate is $1,400.", sender=BEN, message_id="<same@id>")
    )

    result = _advance(store, mailbox)

    assert (result.processed, result.duplicates) == (2, 0)
    assert _state(store, ANNA_THREAD) is NegotiationState.COUNTER_SENT
    assert _state(store, BEN_THREAD) is NegotiationState.COUNTER_SENT
    first = store.inbound.get("<same@id>", ANNA)
    second = store.inbound.get("<same@id>", BEN)
    assert first is not None and first.thread_id == ANNA_THREAD
    assert second is not None and second.thread_id == BEN_THREAD


def test_a_colliding_message_id_from_a_stranger_is_held_not_dropped(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    mailbox.append_to_inbox(
        reply_to(offers[BEN], "My rate is $1,400.", sender=BEN, message_id="<same@id>")
    )
    mailbox.append_to_inbox(
        reply_to(offers[BEN], "Deal!", sender="mallory@evil.test", message_id="<same@id>")
    )
    result = _advance(store, mailbox)
    assert (result.processed, result.quarantined, result.duplicates) == (1, 1, 0)
    held = store.inbound.get("<same@id>", "mallory@evil.test")
    assert held is not None and held.status is InboundStatus.QUARANTINED


def test_the_same_message_delivered_twice_is_still_one_reply(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    raw = reply_to(offers[BEN], "My rate is $1,400.", sender=BEN, message_id="<twice@gmail.com>")
    mailbox.append_to_inbox(raw)
    mailbox.append_to_inbox(raw)
    result = _advance(store, mailbox)
    assert (result.processed, result.duplicates) == (1, 1)


def test_a_forged_message_from_our_own_address_is_held_not_a_takeover(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    forged = reply_to(
        offers[BEN],
        "Hi Ben, a colleague here: I'll handle this by hand.",
        sender=f"Alex Morgan <{AGENT.address}>",
        message_id="<forged-takeover@agency.test>",
    )
    mailbox.append_to_inbox(forged)
    later = reply_to(offers[BEN], "My rate is $1,400.", sender=BEN, message_id="<ben-1@gmail.com>")
    mailbox.append_to_inbox(later)

    result = _advance(store, mailbox)

    assert (result.quarantined, result.processed) == (1, 1)
    stored = _stored(store, BEN_THREAD)
    assert stored.controlled_by is Controller.AGENT
    assert stored.state is NegotiationState.COUNTER_SENT  # Ben's real reply was answered
    assert store.audit.query(AuditQuery(event_type=EventType.TAKEOVER)) == []
    held = store.inbound.get("<forged-takeover@agency.test>", AGENT.address)
    assert held is not None and held.status is InboundStatus.QUARANTINED
    assert "not in our sent mail" in (held.detail or "")
    assert not [e for e in result.events if isinstance(e, HumanTookOver)]


def test_a_real_human_reply_found_in_the_sent_maildir_takes_over_and_is_announced(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    by_hand = reply_to(
        offers[BEN],
        "Hi Ben, happy to call tomorrow at 10. Alex",
        sender=f"Alex Morgan <{AGENT.address}>",
        message_id="<by-hand@agency.test>",
    )
    mailbox.sent.add(by_hand)  # the colleague's mail client filed it in Sent
    mailbox.append_to_inbox(by_hand)
    later = reply_to(offers[BEN], "My rate is $1,400.", sender=BEN, message_id="<ben-2@gmail.com>")
    mailbox.append_to_inbox(later)

    result = _advance(store, mailbox)

    assert result.processed == 0 and result.skipped == 2
    assert _stored(store, BEN_THREAD).controlled_by is Controller.HUMAN
    [takeover] = store.audit.query(AuditQuery(event_type=EventType.TAKEOVER))
    assert takeover.thread_id == BEN_THREAD and takeover.metadata is not None
    assert takeover.metadata["trigger"] == "human_reply"
    assert takeover.metadata["verified_by"] == "sent folder"
    [announced] = [e for e in result.events if isinstance(e, HumanTookOver)]
    assert (announced.thread_id, announced.actor) == (BEN_THREAD, AGENT.address)
    assert len(sent_by_recipient(mailbox)[BEN]) == 1  # the agent stays quiet


class _SentFolderDown(MaildirMailbox):
    """The sandbox mailbox whose Sent-folder question goes to an IMAP server that refuses the
    connection (nothing listens on the port): a real MailError from a real socket."""

    def in_sent_folder(self, message_id: str) -> bool:
        config = ImapConfig(host="127.0.0.1", port=free_port(), security="plain", user="x")
        return ImapReader(config).already_sent(message_id)


def test_an_unanswerable_sent_folder_question_leaves_the_message_for_the_next_run(
    store: SQLiteStore, tmp_path: Path
) -> None:
    (tmp_path / "mail").mkdir()
    down = _SentFolderDown(tmp_path / "mail", AGENT)
    offers = _start(store, down)
    down.append_to_inbox(
        reply_to(
            offers[BEN],
            "Hi Ben, handling this by hand.",
            sender=AGENT.address,
            message_id="<by-hand@agency.test>",
        )
    )
    result = _advance(store, down)
    assert result.failed_uids == (1,) and result.quarantined == 0
    assert result.cursor is not None and result.cursor.last_uid == 0
    assert store.inbound.get("<by-hand@agency.test>") is None  # not decided either way
    errors = store.audit.query(AuditQuery(event_type=EventType.ERROR))
    assert any("mail server failure on uid 1" in str((e.metadata or {})["error"]) for e in errors)

    up = MaildirMailbox(tmp_path / "mail", AGENT)  # the server answers again: not in Sent
    retry = _advance(store, up)
    assert retry.quarantined == 1 and retry.failed_uids == ()


def _reply_to_queued(store: SQLiteStore, thread_id: str, sender: str, message_id: str) -> bytes:
    """A reply (raw UTF-8 headers, as SMTPUTF8 mail arrives) to our queued opening offer."""
    [ours] = store.outbox.for_thread(thread_id)
    return (
        f"From: {sender}\r\nTo: {AGENT.address}\r\nSubject: Re: {ours.subject}\r\n"
        f"Message-ID: {message_id}\r\nIn-Reply-To: {ours.message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nMy rate is $1,400.\r\n"
    ).encode()


def test_an_internationalised_roster_address_is_recognised_in_either_spelling(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    stored_campaign(store)
    rows = [flex_row("Jörg Müller", "jörg@bücher.de")]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=AGENT, now=NOW)
    thread_id = thread_id_for("cmp-1", "jörg@bücher.de")
    mailbox.append_to_inbox(
        _reply_to_queued(store, thread_id, "Jörg <JÖRG@xn--bcher-kva.DE>", "<u1@bucher.de>")
    )
    mailbox.append_to_inbox(
        _reply_to_queued(store, thread_id, "jörg@bücher.de.evil.test", "<u2@evil.test>")
    )
    result = advance_negotiations(
        store, mailbox, engine_config(), mailbox_name=MAILBOX,
        agent_addresses=[AGENT.address], now=NOW, limit=10,
    )  # fmt: skip
    assert (result.processed, result.quarantined) == (1, 1)
    assert _state(store, thread_id) is NegotiationState.COUNTER_SENT


def test_a_from_header_that_parsers_read_differently_is_held(
    store: SQLiteStore, mailbox: MaildirMailbox
) -> None:
    offers = _start(store, mailbox)
    # A lenient parser reads ben@gmail.com here; a receiving server's DMARC check may well read
    # mallory@evil.test (whose domain mallory controls).
    mailbox.append_to_inbox(
        reply_to(offers[BEN], "Deal!", sender="ben@gmail.com <mallory@evil.test>")
    )
    result = _advance(store, mailbox)
    assert (result.processed, result.quarantined) == (0, 1)
    assert _state(store, BEN_THREAD) is NegotiationState.AWAITING_REPLY
    [held] = store.inbound.quarantined(BEN_THREAD)
    assert "does not name exactly one address" in (held.detail or "")
