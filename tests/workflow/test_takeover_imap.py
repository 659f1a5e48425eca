"""Human takeover over real mail servers (Dovecot IMAP, aiosmtpd SMTP on loopback): a reply from
our own address takes a thread over only when our IMAP Sent folder holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import AuditQuery, Controller, InboundStatus, SQLiteStore
from negotiation_pipeline.workflow.events import HumanTookOver, ReplyHeld
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import SmtpServer
from tests.workflow.mail_servers_support import advance, agent_mail, inbox, send_over_smtp
from tests.workflow.support import NOW, engine_config, flex_row, reply_to, stored_campaign

pytestmark = pytest.mark.mail


def test_only_a_reply_found_in_the_sent_folder_takes_a_thread_over(
    dovecot_server: DovecotServer, smtp_to_dovecot: SmtpServer, tmp_path: Path
) -> None:
    ours = agent_mail(dovecot_server, smtp_to_dovecot)
    agent, mailbox = ours.identity, ours.mailbox
    jane_account = dovecot_server.add_user()
    sam_account = dovecot_server.add_user()
    store = SQLiteStore(tmp_path / "negotiation.db")
    stored_campaign(store)
    rows = [flex_row("Jane Doe", jane_account.user), flex_row("Sam Lee", sam_account.user)]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=agent, now=NOW)
    assert deliver_pending(store, mailbox).sent == 2
    [jane_offer] = inbox(jane_account)
    [sam_offer] = inbox(sam_account)

    # A colleague answers Jane by hand: their client sends it and files the copy in Sent.
    by_hand = reply_to(
        jane_offer,
        "Hi Jane, I'll take this one from here. Alex",
        sender=f"Alex Morgan <{agent.address}>",
        message_id="<by-hand@agency.test>",
    )
    ours.reader.append(ours.account.imap_config().sent_folder, by_hand, r"(\Seen)")
    ours.reader.append("INBOX", by_hand)  # copied to our inbox (Bcc to self)
    # Someone else writes "from" us into Sam's thread over SMTP: not in our Sent folder.
    forged = reply_to(
        sam_offer,
        "A colleague here: we'll handle this by hand.",
        sender=f"Alex Morgan <{agent.address}>",
        message_id="<forged@agency.test>",
    )
    send_over_smtp(smtp_to_dovecot, sam_account.user, forged, agent.address)
    assert mailbox.in_sent_folder("<by-hand@agency.test>")
    assert not mailbox.in_sent_folder("<forged@agency.test>")

    result = advance(store, ours)

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
