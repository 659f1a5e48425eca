"""SMTP (aiosmtpd, STARTTLS + AUTH) delivering into a real Dovecot: the whole mail loop."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from negotiation_pipeline.integrations.mail.base import (
    DeliveryError,
    MailError,
    OutgoingEmail,
    SenderIdentity,
)
from negotiation_pipeline.integrations.mail.imap import ImapReader
from negotiation_pipeline.integrations.mail.imap_smtp import ImapSmtpMailbox
from negotiation_pipeline.integrations.mail.smtp import SmtpSender
from negotiation_pipeline.integrations.mail.thread_headers import (
    InMemoryThreadIndex,
    is_auto_reply,
    is_own_message,
    make_message_id,
    match_reply,
    references_for,
    reply_subject,
)
from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import Certificate, SmtpServer, running_smtp

pytestmark = pytest.mark.mail

AGENT = SenderIdentity("agent-loop@agency.test", "Agency Team")


@pytest.fixture
def accounts(dovecot_server: DovecotServer) -> tuple[str, str]:
    """A fresh agent mailbox and a fresh influencer mailbox (both real Dovecot users)."""
    agent = dovecot_server.add_user().user
    influencer = dovecot_server.add_user().user
    return agent, influencer


def _mailbox(
    dovecot: DovecotServer, smtp: SmtpServer, user: str, identity: SenderIdentity
) -> ImapSmtpMailbox:
    reader = ImapReader(dovecot.account(user).imap_config())
    return ImapSmtpMailbox(reader, SmtpSender(smtp.smtp_config(), identity))


def test_outreach_and_reply_round_trip_with_threading_headers(
    dovecot_server: DovecotServer, smtp_to_dovecot: SmtpServer, accounts: tuple[str, str]
) -> None:
    agent_user, influencer_user = accounts
    agent_identity = SenderIdentity(agent_user, "Agency Team")
    agent = _mailbox(dovecot_server, smtp_to_dovecot, agent_user, agent_identity)
    influencer = _mailbox(
        dovecot_server, smtp_to_dovecot, influencer_user, SenderIdentity(influencer_user, "Sam")
    )
    index = InMemoryThreadIndex()

    # 1. We send the opening offer.
    opening_id = make_message_id("thread-42", 0, "agency.test")
    agent.send(
        OutgoingEmail(
            message_id=opening_id,
            to_addr=influencer_user,
            to_name="Sam Creator",
            subject="Collaboration with Acme",
            body="Hi Sam,\nWe can offer $1,000.00 for one reel.\n",
        ),
        date=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    index.remember("thread-42", opening_id, influencer_user, "Collaboration with Acme")
    received = smtp_to_dovecot.messages[-1]
    assert received.tls and received.authenticated_as == smtp_to_dovecot.user
    assert agent.already_sent(opening_id)

    # 2. The influencer receives it over IMAP with our headers intact, and replies over SMTP.
    inbox = influencer.fetch_new(None).messages
    assert len(inbox) == 1
    opening = inbox[0].parsed
    assert opening.message_id == opening_id
    assert opening.subject == "Collaboration with Acme"
    assert opening.from_addr == agent_user and opening.from_name == "Agency Team"
    assert opening.date == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    reply_id = "<sam-reply-1@creators.test>"
    influencer.send(
        OutgoingEmail(
            message_id=reply_id,
            to_addr=agent_user,
            to_name="Agency Team",
            subject=reply_subject(opening.subject),
            body="I could do $1,400.\n\nOn Mon, Agency wrote:\n> We can offer $1,000.00\n",
            in_reply_to=opening.message_id,
            references=references_for(opening.references, opening.message_id),
        )
    )

    # 3. We read the reply, match it to the thread, and answer it once.
    result = agent.fetch_new(None)
    assert len(result.messages) == 1
    reply = result.messages[0].parsed
    assert reply.message_id == reply_id
    assert reply.in_reply_to == opening_id and reply.references == (opening_id,)
    assert reply.subject == "Re: Collaboration with Acme"
    assert not is_own_message(reply, [f"Agency Team <{agent_user}>"])
    assert not is_auto_reply(reply)
    assert match_reply(reply, index) == "thread-42"

    counter_id = make_message_id("thread-42", 1, "agency.test")
    counter = OutgoingEmail(
        message_id=counter_id,
        to_addr=reply.from_addr,
        to_name=reply.from_name,
        subject=reply_subject(reply.subject),
        body="We can do $1,200.00.\n",
        in_reply_to=reply.message_id,
        references=references_for(reply.references, reply.message_id),
    )
    assert agent.send_once(counter) is True
    sent_count = len(smtp_to_dovecot.messages)
    assert agent.send_once(counter) is False  # a retry after a crash finds it in Sent
    assert len(smtp_to_dovecot.messages) == sent_count

    got = influencer.fetch_new(influencer.fetch_new(None).cursor)  # nothing new after cursor
    assert got.messages == ()
    counter_seen = influencer.fetch_new(None).messages[-1].parsed
    assert counter_seen.subject == "Re: Collaboration with Acme"  # not "Re: Re:"
    assert counter_seen.references == (opening_id, reply_id)
    assert counter_seen.in_reply_to == reply_id
    assert agent.fetch_new(result.cursor).messages == ()  # our own sent mail is not in INBOX


def test_header_injection_is_rejected_before_sending() -> None:
    with pytest.raises(ValueError, match="line break"):
        OutgoingEmail(
            message_id="<a@b.test>",
            to_addr="x@y.test\r\nBcc: victim@z.test",
            to_name="X",
            subject="s",
            body="b",
        )
    email_ = OutgoingEmail(
        message_id="<a@b.test>",
        to_addr="x@y.test",
        to_name="Evil\r\nBcc: victim@z.test",
        subject="Hello\r\nBcc: victim@z.test",
        body="b",
    )
    assert "\n" not in email_.subject and "\r" not in email_.to_name


def test_wrong_smtp_password_is_a_clear_error_without_the_password(
    dovecot_server: DovecotServer, smtp_to_dovecot: SmtpServer, accounts: tuple[str, str]
) -> None:
    sender = SmtpSender(smtp_to_dovecot.smtp_config(password="not-the-password-123"), AGENT)
    email_ = OutgoingEmail("<w@agency.test>", accounts[1], "Sam", "Hi", "body")
    with pytest.raises(MailError, match="login refused") as caught:
        sender.send(email_)
    assert "not-the-password-123" not in str(caught.value)


def test_plain_connection_to_starttls_only_server_fails(
    smtp_to_dovecot: SmtpServer, accounts: tuple[str, str]
) -> None:
    sender = SmtpSender(smtp_to_dovecot.smtp_config(security="plain"), AGENT)
    with pytest.raises(MailError):
        sender.send(OutgoingEmail("<p@agency.test>", accounts[1], "Sam", "Hi", "body"))
    assert smtp_to_dovecot.messages == []


def test_unknown_recipient_is_refused(
    smtp_to_dovecot: SmtpServer, accounts: tuple[str, str]
) -> None:
    sender = SmtpSender(smtp_to_dovecot.smtp_config(), AGENT)
    with pytest.raises(DeliveryError, match=r"refused: 550 cannot deliver to nobody-here") as err:
        sender.send(OutgoingEmail("<u@agency.test>", "nobody-here@creators.test", "", "Hi", "b"))
    assert err.value.permanent and not err.value.transport


def test_plain_smtp_without_auth_delivers(
    dovecot_server: DovecotServer, server_certificate: Certificate, accounts: tuple[str, str]
) -> None:
    received: list[tuple[str, bytes]] = []
    with running_smtp(
        lambda rcpt, raw: received.append((rcpt, raw)), user=None, password=None
    ) as smtp:
        SmtpSender(smtp.smtp_config(), AGENT).send(
            OutgoingEmail("<plain@agency.test>", accounts[1], "Sam", "Hi", "body")
        )
    assert [rcpt for rcpt, _ in received] == [accounts[1]]
    assert b"Message-ID: <plain@agency.test>" in received[0][1]
