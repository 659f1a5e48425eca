"""Human takeover over real mail servers (Dovecot IMAP, aiosmtpd SMTP on loopback): a reply from
our own address takes a thread over only when our IMAP Sent folder holds it."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.integrations.mail import (
    ImapReader,
    ImapSmtpMailbox,
    SenderIdentity,
    SmtpSender,
)
from negotiation_pipeline.store import AuditQuery, Controller, InboundStatus, SQLiteStore
from negotiation_pipeline.workflow.events import HumanTookOver, ReplyHeld
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import advance_negotiations
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.workflow.support import NOW, engine_config, flex_row, reply_to, stored_campaign

pytestmark = pytest.mark.mail


def _inbox(reader: ImapReader) -> list[EmailMessage]:
    messages = []
    for item in reader.fetch_new(None, 50).messages:
        parsed = email.message_from_bytes(item.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def test_only_a_reply_found_in_the_sent_folder_takes_a_thread_over(
    dovecot_server: DovecotServer, smtp_to_dovecot: SmtpServer, tmp_path: Path
) -> None:
    agent_account = dovecot_server.add_user()
    jane_account = dovecot_server.add_user()
    sam_account = dovecot_server.add_user()
    agent = SenderIdentity(agent_account.user, "Alex Morgan")
    agent_reader = ImapReader(agent_account.imap_config())
    mailbox = ImapSmtpMailbox(agent_reader, SmtpSender(smtp_to_dovecot.smtp_config(), agent))
    store = SQLiteStore(tmp_path / "negotiation.db")
    stored_campaign(store)
    rows = [flex_row("Jane Doe", jane_account.user), flex_row("Sam Lee", sam_account.user)]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=agent, now=NOW)
    assert deliver_pending(store, mailbox).sent == 2
    [jane_offer] = _inbox(ImapReader(jane_account.imap_config()))
    [sam_offer] = _inbox(ImapReader(sam_account.imap_config()))

    # A colleague answers Jane by hand: their client sends it and files the copy in Sent.
    by_hand = reply_to(
        jane_offer,
        "Hi Jane, I'll take this one from here. Alex",
        sender=f"Alex Morgan <{agent.address}>",
        message_id="<by-hand@agency.test>",
    )
    agent_reader.append(agent_account.imap_config().sent_folder, by_hand, r"(\Seen)")
    agent_reader.append("INBOX", by_hand)  # copied to our inbox (Bcc to self)
    # Someone else writes "from" us into Sam's thread over SMTP: not in our Sent folder.
    forged = reply_to(
        sam_offer,
        "A colleague here: we'll handle this by hand.",
        sender=f"Alex Morgan <{agent.address}>",
        message_id="<forged@agency.test>",
    )
    SmtpSender(smtp_to_dovecot.smtp_config(), SenderIdentity(sam_account.user)).send_raw(
        forged, agent.address
    )
    assert mailbox.in_sent_folder("<by-hand@agency.test>")
    assert not mailbox.in_sent_folder("<forged@agency.test>")

    result = advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name="imap",
        agent_addresses=[agent.address],
        now=NOW,
    )

    jane = store.states.load(thread_id_for("cmp-1", jane_account.user))
    sam = store.states.load(thread_id_for("cmp-1", sam_account.user))
    assert jane is not None and jane.controlled_by is Controller.HUMAN
    assert sam is not None and sam.controlled_by is Controller.AGENT
    assert sam.state is NegotiationState.AWAITING_REPLY
    [took_over] = [e for e in result.events if isinstance(e, HumanTookOver)]
    assert took_over.thread_id == jane.thread_id
    [held] = [e for e in result.events if isinstance(e, ReplyHeld)]
    assert held.thread_id == sam.thread_id and held.from_our_address
    [takeover] = store.audit.query(AuditQuery(event_type=EventType.TAKEOVER))
    assert takeover.thread_id == jane.thread_id
    row = store.inbound.get("<forged@agency.test>", agent.address)
    assert row is not None and row.status is InboundStatus.QUARANTINED
    assert result.quarantined == 1
