"""What waits for a person: open escalations and drafts held for approval, and finding the one
negotiation a command names (thread id, influencer email or influencer name).

Names and emails are matched case-insensitively. When a target names several negotiations, the
ones waiting for a person are preferred; if that still leaves more than one, the target is
ambiguous and the error lists each match with its thread id, so the operator can pick one.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.held import DraftPurpose, HeldDraft
from negotiation_pipeline.domain.negotiation.human import ResolutionError, waiting_for_human
from negotiation_pipeline.domain.negotiation.planning import bounds_for
from negotiation_pipeline.domain.negotiation.record import Negotiation
from negotiation_pipeline.integrations.mail.thread_headers import reply_subject
from negotiation_pipeline.settings.engine import load_engine_config
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.records import StoredNegotiation
from negotiation_pipeline.workflow.approval import AWAITING_APPROVAL
from negotiation_pipeline.workflow.persistence import load_negotiation


class TargetError(ResolutionError):
    """The target names no negotiation, or several (the message lists them)."""


@dataclass(frozen=True)
class WaitingItem:
    """One negotiation waiting for a person, as the lists show it."""

    thread_id: str
    influencer: str
    influencer_email: str
    campaign_id: str
    client_name: str
    state: str
    purpose: str  # escalation | approval
    reason: str
    their_ask: str | None  # exact amount text
    ask_currency: str | None
    our_last_offer: str | None
    ceiling: str
    draft_kind: str | None
    draft_amount: str | None
    draft_deliverables: tuple[str, ...]
    draft_subject: str | None
    draft_body: str | None
    since: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "influencer": self.influencer,
            "influencer_email": self.influencer_email,
            "campaign_id": self.campaign_id,
            "client_name": self.client_name,
            "state": self.state,
            "purpose": self.purpose,
            "reason": self.reason,
            "their_ask": self.their_ask,
            "ask_currency": self.ask_currency,
            "our_last_offer": self.our_last_offer,
            "ceiling": self.ceiling,
            "draft": None
            if self.draft_kind is None
            else {
                "kind": self.draft_kind,
                "amount": self.draft_amount,
                "deliverables": list(self.draft_deliverables),
                "subject": self.draft_subject,
                "body": self.draft_body,
            },
            "since": None if self.since is None else self.since.isoformat(),
            "status": AWAITING_APPROVAL if self.purpose == DraftPurpose.APPROVAL.value else None,
        }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(quantize_cents(value))


def _item(stored: StoredNegotiation, negotiation: Negotiation, currency: str) -> WaitingItem:
    held = negotiation.held
    note = held.escalation if held else None
    policy = load_engine_config().policy
    ceiling = bounds_for(negotiation, negotiation.levers, stored.campaign, policy).ceiling
    their_ask = (
        note.their_ask if note and note.their_ask is not None else negotiation.their_last_ask
    )
    decision = held.decision if held else None
    reason = held.reason if held else "escalated"
    if note is not None and note.reason:
        reason = f"{note.reason.replace('_', ' ')}: {note.detail}"
    return WaitingItem(
        thread_id=negotiation.thread_id,
        influencer=negotiation.terms.name,
        influencer_email=negotiation.terms.email,
        campaign_id=negotiation.campaign_id,
        client_name=stored.campaign.client_name,
        state=negotiation.state.value,
        purpose=held.purpose.value if held else DraftPurpose.ESCALATION.value,
        reason=reason,
        their_ask=_money(their_ask),
        ask_currency=(note.ask_currency if note and note.ask_currency else currency)
        if their_ask is not None
        else None,
        our_last_offer=_money(negotiation.our_last_offer),
        ceiling=str(ceiling),
        draft_kind=None if held is None or held.email is None else held.email.kind.value,
        draft_amount=None if decision is None else _money(decision.rate),
        draft_deliverables=() if decision is None else decision.deliverables,
        draft_subject=_subject(held),
        draft_body=None if held is None or held.email is None else held.email.body,
        since=held.held_at if held else negotiation.last_activity,
    )


def _subject(held: HeldDraft | None) -> str | None:
    """The subject the draft goes out with: a reply's "Re: ..." when it answers one."""
    if held is None or held.email is None:
        return None
    if held.threading is not None and held.threading.subject:
        return reply_subject(held.threading.subject)
    return held.email.subject


def _waiting(store: NegotiationStore, campaign_id: str | None) -> list[WaitingItem]:
    currency = load_engine_config().policy.currency
    items = []
    for summary in store.states.load_active(campaign_id):
        stored = store.states.load(summary.thread_id)
        if stored is None:
            continue
        negotiation = load_negotiation(stored)
        if waiting_for_human(negotiation):
            items.append(_item(stored, negotiation, currency))
    return items


def list_escalations(store: NegotiationStore, campaign_id: str | None = None) -> list[WaitingItem]:
    """Every open escalation (state `escalated`), oldest first."""
    found = [i for i in _waiting(store, campaign_id) if i.state == "escalated"]
    return sorted(found, key=lambda i: (i.since is None, i.since or datetime.min, i.thread_id))


def list_drafts(store: NegotiationStore, campaign_id: str | None = None) -> list[WaitingItem]:
    """Every email held for approval (not yet sent), oldest first."""
    found = [
        i
        for i in _waiting(store, campaign_id)
        if i.purpose == DraftPurpose.APPROVAL.value and i.draft_kind is not None
    ]
    return sorted(found, key=lambda i: (i.since is None, i.since or datetime.min, i.thread_id))


def format_table(items: list[WaitingItem]) -> str:
    if not items:
        return "nothing is waiting for a decision"
    lines = []
    for item in items:
        ask = "-"
        if item.their_ask is not None:
            ask = f"{item.their_ask} {item.ask_currency}"
        offer = "-" if item.our_last_offer is None else format_usd(_dec(item.our_last_offer))
        draft = "no draft"
        if item.draft_kind is not None:
            amount = "" if item.draft_amount is None else f" {format_usd(_dec(item.draft_amount))}"
            draft = f"{item.draft_kind}{amount} ({', '.join(item.draft_deliverables)})"
        since = "-" if item.since is None else item.since.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(
            f"{item.thread_id}  {item.influencer} <{item.influencer_email}>  "
            f"{item.campaign_id} ({item.client_name})\n"
            f"    reason: {item.reason}\n"
            f"    their ask: {ask}; our last offer: {offer}; "
            f"ceiling: {format_usd(_dec(item.ceiling))}\n"
            f"    draft: {draft}; waiting since {since}"
        )
    return "\n".join(lines)


def first_lines(body: str | None, count: int = 3, width: int = 100) -> list[str]:
    """The draft's first non-blank lines, each cut to `width` characters."""
    lines = [line.strip() for line in (body or "").splitlines() if line.strip()]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines[:count]]


def format_drafts(items: list[WaitingItem]) -> str:
    """The drafts waiting for approval, one block each, with the commands that decide them."""
    if not items:
        return "no email is waiting for approval"
    blocks = []
    for item in items:
        amount = "" if item.draft_amount is None else f" {format_usd(_dec(item.draft_amount))}"
        since = "-" if item.since is None else item.since.strftime("%Y-%m-%d %H:%M UTC")
        preview = "\n".join(f"      | {line}" for line in first_lines(item.draft_body))
        blocks.append(
            f"{item.thread_id}  {item.influencer} <{item.influencer_email}>  "
            f"{item.campaign_id} ({item.client_name})\n"
            f"    {item.draft_kind}{amount}, {AWAITING_APPROVAL} since {since} "
            f"(thread {item.state})\n"
            f"    subject: {item.draft_subject}\n{preview}\n"
            f"    approve: negotiation-pipeline control send-draft {shlex.quote(item.thread_id)} "
            "[--edit FILE]; replace: control counter / control decline"
        )
    return "\n".join(blocks)


def _dec(text: str) -> Decimal:
    return Decimal(text)


# --- targets -----------------------------------------------------------------------------------
def _describe(stored: StoredNegotiation) -> str:
    name = stored.influencer_name or "?"
    return f"{stored.thread_id} ({name}, campaign {stored.campaign_id}, {stored.state.value})"


def _matches(store: NegotiationStore, target: str) -> list[StoredNegotiation]:
    if "@" in target:
        found = [store.states.load(s.thread_id) for s in store.states.load_by_email(target)]
        return [s for s in found if s is not None]
    wanted = " ".join(target.split()).casefold()
    matches = []
    # Every negotiation, finished ones too: repeating a command on a thread it just closed
    # must find that thread again.
    summaries = [
        summary
        for record in store.campaigns.list_campaigns()
        for summary in store.states.summaries_for_campaign(record.campaign_id)
    ]
    for summary in summaries:
        stored = store.states.load(summary.thread_id)
        if stored is not None and " ".join((stored.influencer_name or "").split()).casefold() == (
            wanted
        ):
            matches.append(stored)
    return matches


def find_waiting_thread(store: NegotiationStore, target: str) -> str:
    """The thread id `target` names (see module docstring). Raises TargetError."""
    cleaned = target.strip()
    if not cleaned:
        raise TargetError("no thread given: pass a thread id, influencer email or name")
    if store.states.load(cleaned) is not None:
        return cleaned
    matches = _matches(store, cleaned)
    if not matches:
        raise TargetError(f"no negotiation with thread id, influencer email or name {cleaned!r}")
    if len(matches) > 1:
        waiting = [s for s in matches if waiting_for_human(load_negotiation(s))]
        matches = waiting or matches
    if len(matches) > 1:
        listing = "; ".join(_describe(s) for s in matches)
        raise TargetError(f"{cleaned!r} is ambiguous: it names {listing}; pass a thread id")
    return matches[0].thread_id


__all__ = [
    "TargetError",
    "WaitingItem",
    "find_waiting_thread",
    "first_lines",
    "format_drafts",
    "format_table",
    "list_drafts",
    "list_escalations",
]
