"""Sandbox only: simulated influencers answer the emails we "sent" into the sandbox Maildir.

Each email in the Maildir's sent folder that is still the newest email of a negotiation waiting
for a reply is answered by the persona behind that thread (`simulator.influencer_for_thread`,
seeded by the thread id). The reply goes into the Maildir inbox with proper threading headers,
where `inbox_sensor` finds it like any real reply. So `dagster dev` on a fresh clone shows offers,
replies, counters and agreements without any account.

The reply's Message-ID is derived from ours: answering the same email twice (a reset sensor
cursor) produces the same Message-ID, which the negotiation job dedupes.
"""

from __future__ import annotations

import email.utils
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP as SMTP_POLICY

from negotiation_pipeline.domain.negotiation.emails import EmailKind
from negotiation_pipeline.domain.negotiation.emails import OutgoingEmail as DraftEmail
from negotiation_pipeline.integrations.mail import (
    MaildirMailbox,
    bare_address,
    references_for,
    reply_subject,
)
from negotiation_pipeline.sandbox.simulation.simulator import (
    SimulatedInfluencer,
    influencer_for_thread,
)
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.records import OutboxEmail
from negotiation_pipeline.workflow.persistence import load_negotiation


@dataclass(frozen=True)
class SandboxAnswers:
    seen_sent: int  # sent emails looked at so far (the sensor's cursor)
    answered: tuple[str, ...]  # thread ids that got a reply in the inbox
    silent: tuple[str, ...]  # thread ids whose person chose not to answer (ghost, deal done)


def answer_sent_mail(
    store: NegotiationStore, maildir: MaildirMailbox, *, seen_sent: int, now: datetime
) -> SandboxAnswers:
    """Answer every email sent after the first `seen_sent` ones (oldest first)."""
    sent = maildir.sent_messages()
    newest_by_thread: dict[str, OutboxEmail] = {}
    for raw in sent[seen_sent:]:
        message_id = (BytesHeaderParser().parsebytes(raw).get("Message-ID") or "").strip()
        row = store.outbox.get(message_id) if message_id else None
        if row is not None and row.thread_id is not None:
            newest_by_thread[row.thread_id] = row
    answered: list[str] = []
    silent: list[str] = []
    for thread_id, ours in newest_by_thread.items():
        reply = _reply_to(store, thread_id, ours, maildir, now)
        if reply is None:
            silent.append(thread_id)
            continue
        maildir.append_to_inbox(reply)
        answered.append(thread_id)
    return SandboxAnswers(len(sent), tuple(answered), tuple(silent))


def _reply_to(
    store: NegotiationStore,
    thread_id: str,
    ours: OutboxEmail,
    maildir: MaildirMailbox,
    now: datetime,
) -> bytes | None:
    stored = store.states.load(thread_id)
    if stored is None:
        return None
    thread_emails = store.outbox.for_thread(thread_id)
    if not thread_emails or thread_emails[-1].message_id != ours.message_id:
        return None  # a newer email of ours superseded it: only that one gets an answer
    negotiation = load_negotiation(stored)
    if not negotiation.is_waiting:
        return None  # agreed, exited, escalated, paused...: nothing to answer
    person = influencer_for_thread(negotiation)
    # The persona only looks at the kind to stay silent after an agreement or exit, which the
    # waiting check above already rules out.
    draft = DraftEmail(ours.to_addr, ours.subject, ours.body, EmailKind.COUNTER)
    text = person.answer(draft, negotiation, stored.campaign)
    if text is None:
        return None
    return reply_bytes(person, ours, text, agent_address=maildir.sender.address, now=now)


def reply_bytes(
    person: SimulatedInfluencer, ours: OutboxEmail, text: str, *, agent_address: str, now: datetime
) -> bytes:
    """The influencer's reply as it would arrive: threaded on our email, from them to us."""
    sender_domain = bare_address(person.sender).rsplit("@", 1)[-1] or "sandbox.test"
    digest = hashlib.sha256(ours.message_id.encode()).hexdigest()[:24]
    message = EmailMessage()
    message["From"] = person.sender
    message["To"] = agent_address
    message["Subject"] = reply_subject(ours.subject)
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = f"<sandbox-{digest}@{sender_domain}>"
    message["In-Reply-To"] = ours.message_id
    message["References"] = " ".join(
        references_for(tuple((ours.references or "").split()), ours.message_id)
    )
    message.set_content(text)
    return message.as_bytes(policy=SMTP_POLICY)
