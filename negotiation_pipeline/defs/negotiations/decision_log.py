"""One line in the run's log per incoming message: who wrote, for which campaign, what they
said, what we decided and why, and what we queued; or why the message was not answered.

Built from the workflow's `ReplyDecision`s. Every piece of outside text (names, subjects,
addresses, reasons that quote a reply) is flattened to one line and bounded, so a hostile or
huge email cannot flood the log or forge extra lines.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.previews import preview
from negotiation_pipeline.workflow.events import ReplyDecision

NAME_CHARS = 80
REASON_CHARS = 300

_NOT_ANSWERED = {
    "skipped": "not answered",
    "duplicate": "duplicate, ignored",
    "unmatched": "matched no negotiation",
    "quarantined": "held",
    "unreadable": "unreadable, recorded",
}


def _text(value: str, limit: int = NAME_CHARS) -> str:
    """One line, bounded: control characters (newlines, terminal escapes) become spaces, so a
    subject cannot start a forged log line or recolour the terminal."""
    printable = "".join(" " if unicodedata.category(c).startswith("C") else c for c in value)
    return preview(" ".join(printable.split()), limit)


def money_text(amount: Decimal | None, currency: str | None) -> str:
    """$1,500.00 for dollars (or an amount without currency), else "1,500.00 EUR"."""
    if amount is None:
        return ""
    if currency in (None, "", "USD"):
        return format_usd(amount)
    return f"{amount:,.2f} {_text(currency, 8)}"


def _who(decision: ReplyDecision) -> str:
    """The influencer and address of an answered reply; for any other message the address it
    claims, beside whose thread it matched (a held stranger is not the influencer)."""
    sender = _text(decision.sender) if decision.sender else "unknown sender"
    if not decision.influencer_name:
        return sender
    name = _text(decision.influencer_name)
    if decision.disposition == "processed":
        return f"{name} <{sender}>"
    return f"{sender} (thread of {name})"


def _campaign(decision: ReplyDecision) -> str:
    if not decision.campaign_id:
        return "no campaign"
    client = _text(decision.client_name) if decision.client_name else "client unknown"
    return f"{client} ({_text(decision.campaign_id, 40)})"


def _said(decision: ReplyDecision) -> str:
    said = decision.intent or "unknown"
    amount = money_text(decision.amount, decision.currency)
    if amount:
        said += f" {amount}"
    if decision.confidence is not None:
        said += f" (confidence {decision.confidence:.2f})"
    return said


def _decided(decision: ReplyDecision) -> str:
    action = decision.action or ""
    reason = _text(decision.reason, REASON_CHARS)
    if decision.escalation_reason:
        why = decision.escalation_reason.replace("_", " ")
        detail = _text(decision.escalation_detail or "", REASON_CHARS)
        return f"escalated because {why}" + (f": {detail}" if detail else "")
    if action == "send_counter":
        moves = [f"counter at {money_text(decision.our_rate, None)}"]
        if decision.scenario is not None:
            moves.append(f"scenario {decision.scenario}")
        if decision.lever:
            moves.append(f"lever {decision.lever.replace('_', ' ')}")
        return ", ".join(moves) + f" ({reason})"
    if action == "accept":
        return f"accept at {money_text(decision.our_rate, None)} ({reason})"
    if action == "answer_question":
        return f"question answered ({reason})"
    if action in ("reject", "exit"):
        return f"{action.replace('_', ' ')}: close the negotiation ({reason})"
    return f"{action.replace('_', ' ') or 'no action'} ({reason})"


def _queued(decision: ReplyDecision) -> str:
    if decision.queued_message_id:
        return f"our answer {_text(decision.queued_message_id)}"
    if decision.escalation_reason:
        return "nothing (the draft waits for a human)"
    return "nothing"


def reply_log_line(decision: ReplyDecision) -> str:
    """The run log's line for one message."""
    head = f"reply from {_who(decision)} · {_campaign(decision)}"
    if decision.disposition != "processed":
        what = _NOT_ANSWERED.get(decision.disposition, decision.disposition)
        subject = f' "{_text(decision.subject)}"' if decision.subject else ""
        why = _text(decision.reason, REASON_CHARS) or "no reason recorded"
        return f"{head}{subject} · {what}: {why} · message {_text(decision.message_id)}"
    state = f" · state now {decision.state}" if decision.state else ""
    return (
        f"{head} · they said: {_said(decision)} · we decided: {_decided(decision)}"
        f" · queued: {_queued(decision)}{state}"
    )


__all__ = ["money_text", "reply_log_line"]
