"""Who wrote a reply: the influencer themself or a talent manager, and the name to answer.

`classify_counterparty` reads the sender address and the reply's signature; `with_counterparty`
records the result on the negotiation (a manager thread is never downgraded) and
`recipient_name` keeps the display name of the person we now answer. Pure, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

from negotiation_pipeline.domain.enums import CounterpartyType
from negotiation_pipeline.domain.negotiation.emails import first_name, header_safe
from negotiation_pipeline.domain.negotiation.record import InfluencerTerms, Negotiation
from negotiation_pipeline.domain.reading.folding import lowered_for_lookup, may_hold_any
from negotiation_pipeline.domain.reading.quoting import own_text_of

_PERSONAL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "icloud.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "live.com",
        "me.com",
        "msn.com",
        "mail.com",
    }
)
_MANAGER_TITLE = re.compile(
    r"\b(?:talent\s+)?(?:manager|agent|management|agency|representative)\b|\bon\s+behalf\s+of\b"
    r"|\brepresenting\b|\bbooking\b|\btalent\s+director\b|\bpartnerships\s+lead\b",
    re.IGNORECASE,
)
# A word each alternative above needs (a match holds it, whatever its case).
_MANAGER_WORDS = ("manag", "agen", "represent", "behalf", "booking", "director", "partnerships")
_AGENCY_LINE = re.compile(
    r"([A-Z][\w&.'-]*(?:[ \t]+[A-Z][\w&.'-]*)*[ \t]+"
    r"(?:Talent|Management|Agency|Media|Group|Partners|Collective))\b"
)


@dataclass(frozen=True)
class Counterparty:
    kind: CounterpartyType
    name: str | None
    email: str | None
    agency_name: str | None


@lru_cache(maxsize=4096)
def _parse_sender(sender: str) -> tuple[str, str]:
    """(display name, lowercased address). parseaddr, because a raw "Name <addr>" header never
    equals the bare address it carries; cached because the same senders write again and again."""
    display, address = parseaddr(header_safe(sender))
    return display, address.lower()


def classify_counterparty(sender: str, reply_text: str, terms: InfluencerTerms) -> Counterparty:
    """Direct influencer or talent manager, from the sender address and the signature."""
    display, address = _parse_sender(sender)
    own_text = own_text_of(reply_text)
    signature = "\n".join(own_text.strip().splitlines()[-8:])
    domain = address.rpartition("@")[2]
    from_influencer = not address or address == terms.email.lower()
    titled = may_hold_any(lowered_for_lookup(signature), _MANAGER_WORDS) and bool(
        _MANAGER_TITLE.search(signature)
    )
    manager_signals = int(titled)
    if not from_influencer and domain and domain not in _PERSONAL_DOMAINS:
        manager_signals += 1
    if from_influencer or manager_signals == 0:
        return Counterparty(CounterpartyType.DIRECT_INFLUENCER, None, address or None, None)
    agency = _AGENCY_LINE.search(signature)
    agency_name = agency.group(1) if agency else None
    if agency_name is None and domain and domain not in _PERSONAL_DOMAINS:
        agency_name = domain.split(".")[0].capitalize()
    name = first_name(display) if display.strip() else None
    return Counterparty(CounterpartyType.TALENT_MANAGER, name, address, agency_name)


def counterparty_changes(negotiation: Negotiation, party: Counterparty) -> dict[str, Any]:
    """The record's fields that change now that `party` wrote (for one `replace`)."""
    if party.kind is CounterpartyType.TALENT_MANAGER:
        return {
            "counterparty_type": party.kind,
            "counterparty_name": party.name or negotiation.counterparty_name,
            "counterparty_email": party.email,
            "agency_name": party.agency_name or negotiation.agency_name,
        }
    # A manager thread stays a manager thread (never downgraded); we keep answering the sender.
    return {"counterparty_email": party.email or negotiation.counterparty_email}


def with_counterparty(negotiation: Negotiation, party: Counterparty) -> Negotiation:
    """The negotiation with `party` recorded as who now writes for the influencer."""
    return replace(negotiation, **counterparty_changes(negotiation, party))


def recipient_name(sender: str, answering: str | None, known: str | None) -> str | None:
    """The display name the person we now answer (`answering`) signed their email with (`known`,
    the one from before, when this one has none)."""
    display, address = _parse_sender(sender)
    name = " ".join(display.split())[:80]
    if name and "@" not in name and address and address == (answering or "").lower():
        return name
    return known
