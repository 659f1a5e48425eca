"""Builders for the workflow tests: a stored campaign with its CPM rows, replies as raw mail."""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import FlexibilityRow
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.integrations.mail import MaildirMailbox, SenderIdentity
from negotiation_pipeline.settings.engine import load_engine_config
from negotiation_pipeline.store import NegotiationStore
from tests.domain.negotiation.engine_support import make_campaign

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = SenderIdentity("partnerships@agency.test", "Alex Morgan")
MAILBOX = "sandbox"


@lru_cache(maxsize=1)
def engine_config() -> EngineConfig:
    return load_engine_config()


def flex_row(
    name: str = "Jane Doe",
    email_: str = "jane@gmail.com",
    *,
    views: int = 50_000,
    opening: str = "1000.00",
    ceiling: str = "1620.00",
    max_cpm: str = "32.40",
    engagement: str | None = "4.2",
    manager_emails: tuple[str, ...] = (),
) -> FlexibilityRow:
    return FlexibilityRow(
        name=name,
        email=email_,
        platform=Platform.INSTAGRAM,
        average_views=views,
        engagement_rate=None if engagement is None else Decimal(engagement),
        floor_cpm=Decimal("20.00"),
        max_allowed_cpm=Decimal(max_cpm),
        opening_rate=Decimal(opening),
        ceiling_rate=Decimal(ceiling),
        reason="test row",
        manager_emails=manager_emails,
    )


def crowd(count: int) -> list[FlexibilityRow]:
    """`count` influencers with distinct addresses (same prices as Jane)."""
    return [flex_row(f"Creator {n} Smith", f"creator{n}@gmail.com") for n in range(count)]


def stored_campaign(store: NegotiationStore, campaign: Campaign | None = None) -> Campaign:
    campaign = campaign or make_campaign()
    store.campaigns.upsert(
        campaign.campaign_id,
        client_name=campaign.client_name,
        status="validated",
        campaign=campaign,
    )
    return campaign


def open_mailbox(root: Path) -> MaildirMailbox:
    root.mkdir(parents=True, exist_ok=True)
    return MaildirMailbox(root, AGENT)


def sent_by_recipient(mailbox: MaildirMailbox) -> dict[str, list[EmailMessage]]:
    """Sent emails grouped by bare recipient address, oldest first."""
    grouped: dict[str, list[EmailMessage]] = {}
    for raw in mailbox.sent_messages():
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        address = email.utils.parseaddr(str(message["To"]))[1].lower()
        grouped.setdefault(address, []).append(message)
    return grouped


def sent_message_ids(mailbox_root: Path) -> Counter[str]:
    """How many times each Message-ID is in the sent Maildir (duplicates show as counts > 1)."""
    counts: Counter[str] = Counter()
    for folder in ("new", "cur"):
        for path in (mailbox_root / "sent" / folder).iterdir():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            counts[str(message["Message-ID"]).strip()] += 1
    return counts


def reply_to(
    parent: EmailMessage,
    body: str,
    *,
    sender: str = "Jane Doe <jane@gmail.com>",
    message_id: str | None = None,
    extra_headers: dict[str, str] | None = None,
    threaded: bool = True,
) -> bytes:
    """Raw bytes of a reply to one of our sent emails, quoting it like a mail client."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(parent["From"])
    message["Subject"] = "Re: " + str(parent["Subject"])
    message["Date"] = email.utils.format_datetime(NOW)
    message["Message-ID"] = message_id or email.utils.make_msgid(domain="gmail.com")
    if threaded:
        parent_id = str(parent["Message-ID"]).strip()
        refs = str(parent.get("References", "")).split()
        message["In-Reply-To"] = parent_id
        message["References"] = " ".join([*refs, parent_id])
    for name, value in (extra_headers or {}).items():
        message[name] = value
    quoted = "\n".join(f"> {line}" for line in parent.get_content().splitlines())
    message.set_content(f"{body}\n\nOn Mon, Mar 2, 2026 Alex Morgan wrote:\n{quoted}\n")
    return message.as_bytes(policy=email.policy.SMTP)
