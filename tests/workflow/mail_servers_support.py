"""The agency's and the influencers' accounts on the loopback mail servers (Dovecot IMAP,
aiosmtpd SMTP relaying into Dovecot), for the workflow tests that run over real mail."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from negotiation_pipeline.integrations.mail import (
    ImapReader,
    ImapSmtpMailbox,
    SenderIdentity,
    SmtpSender,
)
from negotiation_pipeline.store import NegotiationStore
from negotiation_pipeline.workflow.replies import AdvanceResult, advance_negotiations
from tests.servers.dovecot import DovecotServer, ImapAccount
from tests.servers.smtp import SmtpServer
from tests.workflow.support import NOW, engine_config


@dataclass(frozen=True)
class AgentMail:
    """Our side: the account, who we send as, its IMAP reader and the IMAP+SMTP mailbox."""

    account: ImapAccount
    identity: SenderIdentity
    reader: ImapReader
    mailbox: ImapSmtpMailbox


def agent_mail(dovecot: DovecotServer, smtp: SmtpServer, name: str = "Alex Morgan") -> AgentMail:
    account = dovecot.add_user()
    identity = SenderIdentity(account.user, name)
    reader = ImapReader(account.imap_config())
    return AgentMail(
        account, identity, reader, ImapSmtpMailbox(reader, SmtpSender(smtp.smtp_config(), identity))
    )


def inbox(account: ImapAccount) -> list[EmailMessage]:
    """Every message in the account's INBOX, oldest first."""
    messages = []
    for item in ImapReader(account.imap_config()).fetch_new(None, 50).messages:
        parsed = email.message_from_bytes(item.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def send_over_smtp(smtp: SmtpServer, sender: str, raw: bytes, to: str) -> None:
    """`raw` as `sender` would send it from their own client, through the relay."""
    SmtpSender(smtp.smtp_config(), SenderIdentity(sender)).send_raw(raw, to)


def advance(
    store: NegotiationStore,
    agent: AgentMail,
    uids: Sequence[int] | None = None,
    uidvalidity: int | None = None,
) -> AdvanceResult:
    """One run of the reply job over the agent's IMAP mailbox (only `uids`, when given)."""
    return advance_negotiations(
        store,
        agent.mailbox,
        engine_config(),
        mailbox_name="imap",
        agent_addresses=[agent.identity.address],
        now=NOW,
        uids=uids,
        uidvalidity=uidvalidity,
    )
