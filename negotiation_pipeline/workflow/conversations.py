"""A negotiation's conversation as an operator reads it: every email in and out, in order, with
what we decided about it, without opening the database or the Maildir.

Emails in come from the audit trail (each read reply keeps its subject, its new text and what
the reader found); emails out from the outbox; our decision from the `state_transition` entry
that answered a reply or queued an email. Rendering (markdown for the Dagster UI, a dict for
JSON) bounds every piece of outside text, so a thread of huge replies stays a readable size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType
from negotiation_pipeline.domain.previews import cell, preview
from negotiation_pipeline.store.audit_filters import AuditQuery
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.records import OutboxEmail, StoredNegotiation
from negotiation_pipeline.workflow.snapshots import moment_text

MAX_AUDIT_ENTRIES = 1_000  # per thread and kind; a thread never gets near this many emails
EMAIL_TEXT_CHARS = 1_500  # of one email's text in a rendering
CAMPAIGN_MARKDOWN_CHARS = 200_000  # of a whole campaign's conversations in the UI
CAMPAIGN_THREADS = 50  # threads rendered per campaign (the snapshot lists them all)


@dataclass(frozen=True)
class ConversationEmail:
    at: datetime | None
    direction: str  # "in" (from their side) or "out" (ours)
    subject: str
    text: str  # in: the reply's new text (quotes and signature removed); out: our email
    decision: str  # what we did about it / why we sent it
    status: str  # in: processed, skipped..., quarantined...; out: pending, sent, failed
    sent_at: datetime | None = None  # out: when the mail server took it (`at` is when queued)


@dataclass(frozen=True)
class Conversation:
    thread_id: str
    campaign_id: str
    client_name: str
    influencer_name: str
    influencer_email: str
    state: str
    emails: tuple[ConversationEmail, ...]


def thread_conversation(store: NegotiationStore, thread_id: str) -> Conversation | None:
    """One thread's conversation, None for an unknown thread id."""
    stored = store.states.load(thread_id)
    return None if stored is None else _conversation(store, stored)


def campaign_conversations(store: NegotiationStore, campaign_id: str) -> list[Conversation]:
    return [_conversation(store, stored) for stored in store.states.list_for_campaign(campaign_id)]


def _conversation(store: NegotiationStore, stored: StoredNegotiation) -> Conversation:
    thread_id = stored.thread_id
    transitions = store.audit.query(
        AuditQuery(
            thread_id=thread_id, event_type=EventType.STATE_TRANSITION, limit=MAX_AUDIT_ENTRIES
        )
    )
    received = store.audit.query(
        AuditQuery(
            thread_id=thread_id, event_type=EventType.EMAIL_RECEIVED, limit=MAX_AUDIT_ENTRIES
        )
    )
    answered = _decisions_by(transitions, "in_reply_to")
    queued = _decisions_by(transitions, "queued_message_id")
    emails = [_email_in(entry, answered) for entry in received]
    emails += [_email_out(email, queued) for email in store.outbox.for_thread(thread_id)]
    emails.sort(key=lambda e: (_epoch(e.at), e.direction == "out"))
    return Conversation(
        thread_id=thread_id,
        campaign_id=stored.campaign_id,
        client_name=stored.campaign.client_name,
        influencer_name=stored.influencer_name or "",
        influencer_email=stored.influencer_email or "",
        state=stored.state.value,
        emails=tuple(emails),
    )


def _decisions_by(transitions: list[AuditEntry], key: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in reversed(transitions):  # oldest first: the first decision about a message
        metadata = entry.metadata or {}
        message_id = metadata.get(key)
        if isinstance(message_id, str) and message_id not in found:
            found[message_id] = _decision_text(metadata)
    return found


def _decision_text(metadata: Mapping[str, Any]) -> str:
    action = str(metadata.get("action") or "").replace("_", " ")
    reason = str(metadata.get("reason") or "")
    return f"{action}: {reason}" if action and reason else action or reason


def _email_in(entry: AuditEntry, answered: Mapping[str, str]) -> ConversationEmail:
    metadata = entry.metadata or {}
    message_id = str(metadata.get("message_id") or "")
    status = str(metadata.get("status") or "")
    text = str(metadata.get("new_text") or entry.email_body or "")
    decision = answered.get(message_id) or ("" if status == "processed" else status)
    return ConversationEmail(
        at=entry.timestamp,
        direction="in",
        subject=str(metadata.get("subject") or ""),
        text=text,
        decision=decision,
        status=status.split(":", 1)[0],
    )


def _email_out(email: OutboxEmail, queued: Mapping[str, str]) -> ConversationEmail:
    # Ordered by when it was queued: recorded by the store in the same clock as the audit
    # trail, right after the reply it answers (the sending time is the run's own clock).
    return ConversationEmail(
        at=email.created_at,
        direction="out",
        subject=email.subject,
        text=email.body,
        decision=queued.get(email.message_id, ""),
        status=email.status.value,
        sent_at=email.sent_at,
    )


# --- renderings ---------------------------------------------------------------------------------
def conversation_dict(
    conversation: Conversation, text_chars: int = EMAIL_TEXT_CHARS
) -> dict[str, Any]:
    """JSON-ready, every text bounded."""
    return {
        "thread_id": conversation.thread_id,
        "campaign_id": conversation.campaign_id,
        "client_name": preview(conversation.client_name),
        "influencer_name": preview(conversation.influencer_name),
        "influencer_email": preview(conversation.influencer_email),
        "state": conversation.state,
        "emails": [
            {
                "at": None if e.at is None else e.at.isoformat(),
                "direction": e.direction,
                "subject": preview(e.subject),
                "text": preview(e.text, text_chars),
                "decision": preview(e.decision, 500),
                "status": e.status,
                "sent_at": None if e.sent_at is None else e.sent_at.isoformat(),
            }
            for e in conversation.emails
        ],
    }


def conversation_markdown(conversation: Conversation, text_chars: int = EMAIL_TEXT_CHARS) -> str:
    head = (
        f"### {cell(conversation.influencer_name)} ({cell(conversation.influencer_email)}), "
        f"{conversation.state}\n\n"
        f"{cell(conversation.client_name)} ({cell(conversation.campaign_id)}), "
        f"thread `{cell(conversation.thread_id)}`"
    )
    if not conversation.emails:
        return head + "\n\nno emails yet"
    parts = [head]
    for email in conversation.emails:
        arrow = "→ out" if email.direction == "out" else "← in"
        when = moment_text(email.at) or "no time"
        line = f"**{when} {arrow}** ({email.status}): {cell(email.subject)}"
        if email.decision:
            line += f"\n\n*Decision:* {cell(email.decision, 500)}"
        parts.append(f"{line}\n\n{_quoted(email.text, text_chars)}")
    return "\n\n".join(parts)


def _quoted(text: str, limit: int) -> str:
    """A markdown blockquote of the bounded text: each line quoted, markdown that could
    restructure the page (headings, tables, html) shown as typed. Every line ends in a hard
    break (two spaces), so an email's lines stay lines instead of running into one paragraph."""
    bounded = preview(text.strip(), limit) or "(empty)"
    lines = [_escape_line(line.rstrip()) for line in bounded.splitlines()]
    return "\n".join(f"> {line}  " if line else ">" for line in lines)


def _escape_line(line: str) -> str:
    escaped = line.replace("\\", "\\\\").replace("<", "&lt;").replace("|", "\\|")
    return "\\" + escaped if escaped[:1] in "#>-*+=`~[!" and escaped else escaped


def campaign_markdown(
    conversations: list[Conversation], max_chars: int = CAMPAIGN_MARKDOWN_CHARS
) -> str:
    """Every thread's conversation, newest activity first, within `max_chars` overall."""
    if not conversations:
        return "no negotiations"
    ordered = sorted(conversations, key=_newest, reverse=True)
    parts: list[str] = []
    used = 0
    for shown, conversation in enumerate(ordered[:CAMPAIGN_THREADS]):
        text = conversation_markdown(conversation)
        if used + len(text) > max_chars:
            left = len(ordered) - shown
            parts.append(f"… {left} more thread(s) not shown (size limit); use the CLI")
            break
        parts.append(text)
        used += len(text)
    else:
        if len(ordered) > CAMPAIGN_THREADS:
            parts.append(f"… {len(ordered) - CAMPAIGN_THREADS} more thread(s) not shown")
    return "\n\n---\n\n".join(parts)


def _newest(conversation: Conversation) -> float:
    return max((_epoch(e.at) for e in conversation.emails), default=0.0)


def _epoch(moment: datetime | None) -> float:
    return 0.0 if moment is None else moment.timestamp()


__all__ = [
    "Conversation",
    "ConversationEmail",
    "campaign_conversations",
    "campaign_markdown",
    "conversation_dict",
    "conversation_markdown",
    "thread_conversation",
]
