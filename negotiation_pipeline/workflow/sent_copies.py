"""Outbox rows as the mail layer's emails, and the Sent-folder copies of delivered ones.

A mailbox whose server does not file sent mail itself gets a copy filed right after delivery;
a filing that fails leaves the email sent and its copy marked unfiled, and `file_sent_copies`
files it later (looking in the folder first, since the failed attempt may have filed it).
"""

from __future__ import annotations

import logging
from datetime import datetime

from negotiation_pipeline.integrations.mail.base import (
    Mailbox,
    MailError,
    OutgoingEmail,
)
from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.records import OutboxEmail

logger = logging.getLogger(__name__)


def to_outgoing(email: OutboxEmail, to_name: str = "") -> OutgoingEmail:
    """The mail-layer email for one outbox row (raises HeaderInjectionError on bad headers)."""
    return OutgoingEmail(
        message_id=email.message_id,
        to_addr=email.to_addr,
        to_name=to_name or email.to_name,
        subject=email.subject,
        body=email.body,
        in_reply_to=email.in_reply_to,
        references=tuple((email.references or "").split()),
    )


def describe_failure(exc: Exception) -> str:
    if isinstance(exc, MailError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def file_copy(
    store: NegotiationStore,
    mailbox: Mailbox,
    email: OutboxEmail,
    sent_at: datetime,
    *,
    may_exist: bool,
) -> bool:
    """File one sent email's Sent-folder copy; False (logged) when that failed: a later call
    of file_sent_copies retries it, and the email itself stays sent."""
    try:
        mailbox.file_sent_copy(to_outgoing(email), sent_at, may_exist=may_exist)
    except Exception as exc:
        logger.warning(
            "filing the Sent copy of %s failed (retried later): %s",
            email.message_id,
            describe_failure(exc),
        )
        return False
    store.outbox.mark_copy_filed(email.message_id)
    return True


def file_sent_copies(
    store: NegotiationStore,
    mailbox: Mailbox,
    *,
    limit: int | None = None,
) -> int:
    """File the Sent-folder copy of every sent email still missing one (oldest first): those
    whose filing failed right after delivery, in this run or an earlier one. Stops at the first
    failure (the folder's server is likely down), leaving the rest for the next run. Returns how
    many copies are still unfiled."""
    if not mailbox.files_sent_copy_separately:
        return 0
    waiting = store.outbox.copies_to_file(limit)
    for done, email in enumerate(waiting):
        assert email.sent_at is not None  # a sent row always has its time
        # An earlier attempt may have filed it and lost the answer: look before filing.
        if not file_copy(store, mailbox, email, email.sent_at, may_exist=True):
            return len(waiting) - done
    return 0
