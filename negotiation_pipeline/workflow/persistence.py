"""Moving a domain `Negotiation` in and out of the store, and naming its emails.

Shared by every workflow service (opening, replies, follow-ups, control) so they agree on:
- the stored row: state / history / pre_pause_state columns come from the negotiation's machine,
  and `context` is `Negotiation.to_dict()` (the engine's whole record);
- which wins on load: the row's state columns (a pause or stop may have changed them), the rest
  from `context`;
- Message-IDs: email number N of a thread (N = emails already queued for it) is the outbox
  key (thread id, N); its Message-ID is an HMAC-SHA256 of that key under the installation's
  secret (store/installation.py). A retried transaction produces the same id, and nobody
  without the secret can compute the id of an email we sent to someone else, so a reply
  cannot claim a thread it was never part of.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker
from negotiation_pipeline.domain.negotiation.engine import Negotiation
from negotiation_pipeline.integrations.mail.thread_headers import ThreadingError
from negotiation_pipeline.store.base import UnitOfWork
from negotiation_pipeline.store.records import Controller, StoredNegotiation

_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")
_DOMAIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def thread_id_for(campaign_id: str, influencer_email: str) -> str:
    """Deterministic thread id of one influencer on one campaign: "<campaign>:<slug>-<hash6>".

    The slug keeps it readable; the hash keeps "a.b@x.com" and "a-b@x.com" apart. No "@" in it, so
    a CLI target with "@" is always an email address and never a thread id.
    """
    address = influencer_email.strip().lower()
    slug = _SLUG_UNSAFE.sub("-", address).strip("-")[:48] or "influencer"
    digest = hashlib.sha256(address.encode()).hexdigest()[:6]
    return f"{campaign_id}:{slug}-{digest}"


def load_negotiation(stored: StoredNegotiation) -> Negotiation:
    """The engine's record of a stored row; the row's state machine columns win."""
    negotiation = Negotiation.from_dict(dict(stored.context))
    return negotiation.with_machine(stored.state_machine)


def save_negotiation(
    uow: UnitOfWork,
    negotiation: Negotiation,
    campaign: Campaign,
    cpm_tracker_data: dict[str, object],
    *,
    controlled_by: Controller | None = None,
) -> None:
    """Write the negotiation row (inside the caller's transaction)."""
    uow.states.save(
        negotiation.thread_id,
        negotiation.machine(),
        negotiation.to_dict(),
        campaign,
        cpm_tracker_data,
        negotiation.round_count,
        influencer_name=negotiation.terms.name,
        influencer_email=negotiation.terms.email,
        lever_state=negotiation.levers.to_dict(),
        controlled_by=controlled_by,
        agency_name=negotiation.agency_name,
    )


def next_message_id(uow: UnitOfWork, thread_id: str, domain: str) -> str:
    """Message-ID for the next email of this thread (deterministic for a given outbox)."""
    sequence = len(uow.outbox.for_thread(thread_id))
    return keyed_message_id(uow.installation.message_id_secret(), thread_id, sequence, domain)


def keyed_message_id(secret: bytes, thread_id: str, sequence: int, domain: str) -> str:
    """`<neg.TOKEN@domain>`: TOKEN is 160 bits of HMAC-SHA256(secret, outbox key), in base32.

    Deterministic per (secret, thread, sequence); without the secret it is unguessable, and it
    says nothing about the campaign or the influencer it belongs to.
    """
    if not thread_id or not thread_id.strip():
        raise ThreadingError("thread_id must not be empty")
    if sequence < 0:
        raise ThreadingError(f"sequence must be >= 0, got {sequence}")
    if not _DOMAIN_RE.match(domain):
        raise ThreadingError(f"not a usable Message-ID domain: {domain!r}")
    key = f"outbox\x00{thread_id}\x00{sequence}".encode()
    digest = hmac.new(secret, key, hashlib.sha256).digest()[:20]
    token = base64.b32encode(digest).decode("ascii").lower()
    return f"<neg.{token}@{domain.lower()}>"


def campaign_tracker(
    uow: UnitOfWork, campaign: Campaign, influencer_count: int | None = None
) -> CampaignCPMTracker:
    """The campaign's CPM tracker as stored by the cpm asset, or a fresh one."""
    record = uow.campaigns.get(campaign.campaign_id)
    if record is not None and record.cpm_tracker_data:
        return CampaignCPMTracker.from_dict(record.cpm_tracker_data)
    count = influencer_count
    if count is None:
        count = len(uow.states.summaries_for_campaign(campaign.campaign_id))
    return CampaignCPMTracker(
        campaign.campaign_id, campaign.cpm_range.min_cpm, campaign.cpm_range.max_cpm, count
    )


__all__ = [
    "campaign_tracker",
    "keyed_message_id",
    "load_negotiation",
    "next_message_id",
    "save_negotiation",
    "thread_id_for",
]
