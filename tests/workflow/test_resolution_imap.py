"""Resolving an escalation over real mail servers (Dovecot IMAP, aiosmtpd SMTP on loopback): the
influencer's reply is read over IMAP, the human's counter leaves over SMTP once, threaded on her
email, even when the resolution is repeated."""

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
from negotiation_pipeline.store import AuditQuery, SQLiteStore
from negotiation_pipeline.workflow.opening import open_campaign_negotiations
from negotiation_pipeline.workflow.outbox import deliver_pending
from negotiation_pipeline.workflow.persistence import thread_id_for
from negotiation_pipeline.workflow.replies import advance_negotiations
from negotiation_pipeline.workflow.resolution import (
    ResolutionRequest,
    ResolutionResult,
    ResolveAction,
    deliver_resolution,
    resolve,
)
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


def test_a_human_counter_goes_out_once_over_smtp_threaded_on_her_reply(
    dovecot_server: DovecotServer, smtp_to_dovecot: SmtpServer, tmp_path: Path
) -> None:
    agent_account = dovecot_server.add_user()
    jane_account = dovecot_server.add_user()
    agent = SenderIdentity(agent_account.user, "Alex Morgan")
    mailbox = ImapSmtpMailbox(
        ImapReader(agent_account.imap_config()), SmtpSender(smtp_to_dovecot.smtp_config(), agent)
    )
    store = SQLiteStore(tmp_path / "negotiation.db")
    stored_campaign(store)
    rows = [flex_row("Jane Doe", jane_account.user)]
    open_campaign_negotiations(store, "cmp-1", engine_config(), rows=rows, sender=agent, now=NOW)
    assert deliver_pending(store, mailbox).sent == 1
    [offer] = _inbox(ImapReader(jane_account.imap_config()))

    # Jane answers over SMTP with an ask above the campaign's approval limit.
    ask = reply_to(
        offer,
        "My rate is $9,000 for this.",
        sender=f"Jane Doe <{jane_account.user}>",
        message_id="<jane-ask@mail.test>",
    )
    SmtpSender(smtp_to_dovecot.smtp_config(), SenderIdentity(jane_account.user)).send_raw(
        ask, agent.address
    )
    advanced = advance_negotiations(
        store,
        mailbox,
        engine_config(),
        mailbox_name="imap",
        agent_addresses=[agent.address],
        now=NOW,
    )
    thread = thread_id_for("cmp-1", jane_account.user)
    stored = store.states.load(thread)
    assert stored is not None and stored.state is NegotiationState.ESCALATED, advanced

    request = ResolutionRequest(
        target=jane_account.user, action=ResolveAction.COUNTER, amount="1500", note="client ok"
    )

    def decide() -> ResolutionResult:
        return resolve(
            store,
            request,
            config=engine_config(),
            actor="cli:lead",
            agent_addresses=[agent.address],
            now=NOW,
        )

    first = decide()
    again = decide()  # the operator runs the same command again before it was sent
    assert deliver_resolution(store, mailbox, again, now=NOW) == "sent"
    assert deliver_resolution(store, mailbox, first, now=NOW) == "sent"

    inbox = _inbox(ImapReader(jane_account.imap_config()))
    answers = [m for m in inbox if m["In-Reply-To"] == "<jane-ask@mail.test>"]
    assert len(answers) == 1, [m["Subject"] for m in inbox]
    body = answers[0].get_body(preferencelist=("plain",))
    assert body is not None and "$1,500" in body.get_content()
    stored = store.states.load(thread)
    assert stored is not None and stored.state is NegotiationState.COUNTER_SENT
    [transition] = store.audit.query(
        AuditQuery(thread_id=thread, event_type=EventType.STATE_TRANSITION, limit=1)
    )
    assert transition.metadata is not None and transition.metadata["actor"] == "cli:lead"
