"""Slack messages through the notification outbox of the business store: queued with what they
report, delivered by whichever run comes next, each at most once, within a time budget.

- `queue_message(uow, message)` writes one message in the caller's transaction: an alert about a
  state change commits (or rolls back) with that change, so a crash can never lose it.
- `deliver_notifications(store, notifier, deadline)` posts what is pending, oldest first. Each
  message is claimed for a lease before its post (a run and the run-failure sensor delivering
  at the same time never both post it) and marked sent only after Slack answered 2xx.
  When Slack is unavailable the message is released and delivery stops for this run: the rest
  stay pending for the next run, and the caller reports how many. A message Slack refused as
  malformed is marked `refused` (it would fail the same way forever) and the others go on.

Slack offers no idempotency key, so "at most once" has two inherent gaps, both needing a crash
or a lost answer: Slack received the post but its 2xx never arrived (timeout), or the process
died between the 2xx and `mark_sent`. The message is then posted again when its lease ends.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from negotiation_pipeline.integrations.resilience import Deadline
from negotiation_pipeline.integrations.slack.blocks import SlackChannel, SlackMessage
from negotiation_pipeline.integrations.slack.client import SlackNotifier, SlackRefused
from negotiation_pipeline.store.base import NegotiationStore, UnitOfWork
from negotiation_pipeline.store.records import Notification

log = logging.getLogger(__name__)

# A claim outlives the run's whole Slack budget by this much: a claim can only expire after its
# deliverer has stopped posting, or died.
LEASE_MARGIN_SECONDS = 60.0
DELIVERY_BATCH = 200  # messages one delivery looks at; the rest wait for the next run
UNKNOWN_PENDING = -1  # reported when the store failed during delivery: the count is not known


@dataclass(frozen=True)
class SlackDelivery:
    sent: int  # posted and marked sent by this call
    refused: int  # rejected by Slack as malformed: marked refused, never retried
    pending: int  # still waiting after this call (queued by any run)
    errors: tuple[str, ...]  # why a message was refused, or why delivery stopped

    @staticmethod
    def nothing_pending() -> SlackDelivery:
        return SlackDelivery(0, 0, 0, ())


def as_notification(message: SlackMessage, key: str | None = None) -> Notification:
    return Notification(
        key=key or f"slack-{uuid.uuid4().hex}",
        channel=message.channel.value,
        text=message.text,
        blocks=message.blocks,
    )


def as_message(notification: Notification) -> SlackMessage:
    return SlackMessage(SlackChannel(notification.channel), notification.text, notification.blocks)


def queue_message(uow: UnitOfWork, message: SlackMessage, key: str | None = None) -> bool:
    """Queue `message` in the open transaction. `key` names its cause when it has an identity
    (a failed run), so asking twice queues it once; False = that key was queued already."""
    return uow.notifications.add(as_notification(message, key))


def deliver_notifications(
    store: NegotiationStore,
    notifier: SlackNotifier,
    deadline: Deadline,
    *,
    limit: int = DELIVERY_BATCH,
) -> SlackDelivery:
    """Post pending messages until none is left, Slack is unavailable, or `deadline` passes."""
    sent = refused = 0
    errors: list[str] = []
    for notification in store.notifications.deliverable(_now(), limit):
        if deadline.expired:
            errors.append("the Slack time budget of this run is spent")
            break
        now = _now()
        lease_end = now + timedelta(seconds=deadline.remaining() + LEASE_MARGIN_SECONDS)
        if not store.notifications.claim(notification.key, now, lease_end):
            continue  # another deliverer took it since the listing
        outcome, error = _post_one(store, notifier, notification, deadline)
        if outcome is _Outcome.SENT:
            sent += 1
            continue
        errors.append(error)
        if outcome is _Outcome.REFUSED:
            refused += 1
            continue
        break  # Slack is unavailable: the rest would fail the same way and spend the budget
    return SlackDelivery(sent, refused, store.notifications.pending_count(), tuple(errors))


class _Outcome(Enum):
    SENT = "sent"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"


def _post_one(
    store: NegotiationStore, notifier: SlackNotifier, notification: Notification, deadline: Deadline
) -> tuple[_Outcome, str]:
    """Post one claimed message and record what happened; the error is "" when sent."""
    try:
        notifier.post(as_message(notification), deadline=deadline)
    except SlackRefused as exc:
        log.error("Slack refused message %s (%s): %s", notification.key, _brief(notification), exc)
        store.notifications.record_failure(notification.key, str(exc), refused=True)
        return _Outcome.REFUSED, f"refused {_brief(notification)}: {exc}"
    except Exception as exc:  # unavailable, timed out, or a sandbox write failing
        store.notifications.record_failure(notification.key, f"{type(exc).__name__}: {exc}")
        return _Outcome.UNAVAILABLE, f"Slack unavailable: {exc}"
    store.notifications.mark_sent(notification.key)
    return _Outcome.SENT, ""


def _brief(notification: Notification) -> str:
    return repr(notification.text[:80])


def _now() -> datetime:
    return datetime.now(UTC)
