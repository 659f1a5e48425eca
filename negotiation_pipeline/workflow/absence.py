"""Out-of-office replies: hold a thread's follow-up until the influencer is back.

An auto-reply is still never answered. When it is an absence notice (not a bounce, not list
mail) and names a return date (domain/auto_reply.py), the negotiation row gets
`followup_not_before` = start of the day `after_return_grace_business_days` business days after
that date, in the sender's time zone; the follow-up service neither follows up nor marks the
thread stale before it. A notice without a believable date changes nothing. A real reply from
the influencer releases the hold: they are reading their mail, the usual timing applies again.

Some notices carry no auto-reply header or subject. Their text is recognised as a notice only
when it opens with an absence phrase, names a return date, and neither names an amount nor
asks anything, so a person's answer ("I'm travelling until the 14th, but $900 works") is still
read as a reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from negotiation_pipeline.domain.enums import TERMINAL_STATES
from negotiation_pipeline.domain.negotiation.policy import FollowUpPolicy
from negotiation_pipeline.domain.reading.amount_forms import CURRENCY_SIGNS
from negotiation_pipeline.domain.reading.auto_reply import (
    ReturnDate,
    find_return_date,
    follow_up_not_before,
    looks_like_absence_notice,
)
from negotiation_pipeline.domain.reading.quoting import split_reply
from negotiation_pipeline.integrations.mail.mime import ParsedMessage
from negotiation_pipeline.store.base import UnitOfWork
from negotiation_pipeline.store.records import StoredNegotiation

# A notice's own Date header is "today" for relative dates ("back on Monday") when it lies in
# this window around our clock (a backlog read days later still counts from the notice); a
# sender clock far off must not move the follow-up, so then our clock is used.
_DATE_HEADER_PAST = timedelta(days=30)
_DATE_HEADER_FUTURE = timedelta(days=1)
# Longer texts are people writing, not notices (notices are a few lines).
_MAX_NOTICE_CHARS = 1500
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
_BOUNCE_SUBJECT = re.compile(
    r"undeliverable|delivery status notification|mail delivery (?:failed|subsystem)"
    r"|returned mail|delivery failure|failure notice",
    re.IGNORECASE,
)
_MONEY_OR_QUESTION = re.compile(
    rf"[{CURRENCY_SIGNS}?]|\b(?:usd|eur|gbp|dollars?|euros?|bucks)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class AbsenceHold:
    """A follow-up held because the influencer said when they are back."""

    return_date: date
    not_before: datetime  # UTC
    phrase: str  # the notice's words the date was read from

    def audit_metadata(self) -> dict[str, Any]:
        return {
            "return_date": self.return_date.isoformat(),
            "followup_not_before": self.not_before.isoformat(),
            "return_phrase": self.phrase,
        }

    def describe(self) -> str:
        return (
            f"back {self.return_date.isoformat()}: follow-up held until "
            f"{self.not_before.isoformat()}"
        )


def _is_bounce_or_bulk(parsed: ParsedMessage) -> bool:
    """Machine mail that says nothing about the person being away."""
    if parsed.header("x-failed-recipients") is not None or parsed.header("list-id") is not None:
        return True
    if parsed.from_addr.startswith(_BOUNCE_SENDERS):
        return True
    precedence = (parsed.header("precedence") or "").strip().lower()
    return precedence in _BULK_PRECEDENCE or bool(_BOUNCE_SUBJECT.search(parsed.subject))


def _sender_zone(parsed: ParsedMessage) -> tzinfo:
    return UTC if parsed.date is None or parsed.date.tzinfo is None else parsed.date.tzinfo


def _notice_day(parsed: ParsedMessage, now: datetime) -> date:
    """The notice's "today" in the sender's zone: its Date header, or our clock."""
    zone = _sender_zone(parsed)
    if parsed.date is not None and -_DATE_HEADER_PAST <= parsed.date - now <= _DATE_HEADER_FUTURE:
        return parsed.date.astimezone(zone).date()
    return now.astimezone(zone).date()


def _new_text(parsed: ParsedMessage) -> str:
    return split_reply(parsed.text_body).new_text


def _return_date(
    parsed: ParsedMessage, new_text: str, now: datetime, policy: FollowUpPolicy
) -> ReturnDate | None:
    text = f"{parsed.subject}\n{new_text}"
    return find_return_date(text, _notice_day(parsed, now), max_days=policy.max_absence_days)


def absence_notice_reason(
    parsed: ParsedMessage, now: datetime, policy: FollowUpPolicy
) -> str | None:
    """Why a message without auto-reply headers is an out-of-office notice, or None."""
    if not looks_like_absence_notice(parsed.text_body):
        return None  # cheap test first: nearly every reply stops here
    new_text = _new_text(parsed)
    if (
        len(new_text) > _MAX_NOTICE_CHARS
        or _MONEY_OR_QUESTION.search(new_text)
        or not looks_like_absence_notice(new_text)
    ):
        return None
    found = _return_date(parsed, new_text, now, policy)
    if found is None:
        return None
    return f"out-of-office text: {found.phrase!r}"


def hold_follow_up_for_absence(
    uow: UnitOfWork,
    parsed: ParsedMessage,
    stored: StoredNegotiation,
    policy: FollowUpPolicy,
    now: datetime,
) -> AbsenceHold | None:
    """For an auto-reply on `stored`'s thread: hold the follow-up until after the return date
    the notice names. None (nothing changed) for bounces, list mail, finished negotiations and
    notices without a believable date."""
    if stored.state in TERMINAL_STATES or _is_bounce_or_bulk(parsed):
        return None
    found = _return_date(parsed, _new_text(parsed), now, policy)
    if found is None:
        return None
    local = follow_up_not_before(
        found.back_on, policy.after_return_grace_business_days, _sender_zone(parsed)
    )
    not_before = local.astimezone(UTC)
    uow.states.set_followup_not_before(stored.thread_id, not_before)
    return AbsenceHold(found.back_on, not_before, found.phrase)


def release_absence_hold(uow: UnitOfWork, stored: StoredNegotiation) -> None:
    """The influencer wrote back: their follow-up timing no longer waits for a return date."""
    if stored.followup_not_before is not None:
        uow.states.set_followup_not_before(stored.thread_id, None)


__all__ = [
    "AbsenceHold",
    "absence_notice_reason",
    "hold_follow_up_for_absence",
    "release_absence_hold",
]
