"""Who sends which outbox email when several deliverers run at once: each claims an email
(store/outbox.py: a lease with its owner) before it looks it up in the sent store and sends it.

The owner names the host and process (`deliverer_id`), so a claim left by a process of this
host that has ended is taken over at once: a crashed run's email goes out with the next run,
not one lease later. Across hosts nothing tells whether the owner lives; its lease's end does.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from negotiation_pipeline.store.base import NegotiationStore
from negotiation_pipeline.store.records import OutboxEmail

# How long a deliverer's claim on an email lasts. Far longer than delivering one email can take
# (a sent-store lookup and one SMTP session, every step bounded by its socket timeout), so a
# claim runs out only once its deliverer has stopped: it never hands a live send to another.
CLAIM_LEASE = timedelta(minutes=15)


def deliverer_id() -> str:
    """A claim owner naming this host and process, unique per delivery."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def claim_for_sending(
    store: NegotiationStore, email: OutboxEmail, owner: str, moment: datetime, lease: timedelta
) -> OutboxEmail | None:
    """The email as it stands once claimed (attempts may have moved since the listing), or
    None when it is not this deliverer's to send. A live claim is left alone, unless its owner
    is a process of this host that no longer exists: a crashed run's email goes out in the next
    run, not one lease later (across hosts, only the lease's end can tell)."""
    wall = datetime.now(UTC)
    holder = email.claimed_by
    live = holder is not None and email.claimed_until is not None and email.claimed_until > wall
    dead_holder = holder if live and holder is not None and claimer_is_gone(holder) else None
    if live and dead_holder is None:
        return None
    return store.outbox.claim(
        email.message_id,
        owner,
        now=wall,
        until=wall + lease,
        due_at=moment,
        replacing=dead_holder,
    )


def claimer_is_gone(owner: str) -> bool:
    """True when `owner` (a `deliverer_id`) names a process of this host that has ended."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False
