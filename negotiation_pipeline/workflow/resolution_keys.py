"""Idempotency keys of human resolutions, and reading them back from a stored negotiation.

A negotiation keeps one entry per resolution carried out on it: "KEY MESSAGE-ID ACTOR"
(MESSAGE-ID "-" when nothing was sent). The key identifies the decision (thread, the held draft
or escalation it answers, the action and its arguments), so the same command run twice is
recognised, and the Message-ID tells the delivery who decided each email it sends.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from negotiation_pipeline.domain.negotiation.record import Negotiation


class ResolutionRequestLike(Protocol):
    @property
    def action(self) -> Any: ...

    @property
    def amount(self) -> str | None: ...

    @property
    def scenario(self) -> int | None: ...

    @property
    def allow_above_ceiling(self) -> bool: ...

    @property
    def text(self) -> str | None: ...


def resolution_key(negotiation: Negotiation, request: ResolutionRequestLike) -> str:
    """Same thread, same held draft or escalation, same action and arguments → same key."""
    held_at = negotiation.held.held_at.isoformat() if negotiation.held else "-"
    parts = [
        negotiation.thread_id,
        held_at,
        request.action.value,
        (request.amount or "").strip(),
        str(request.scenario or ""),
        str(request.allow_above_ceiling),
        hashlib.sha256((request.text or "").encode()).hexdigest(),
    ]
    return "res-" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:20]


def prior_resolution(negotiation: Negotiation, key: str) -> str | None:
    """The Message-ID ("-" for none) an earlier run of this resolution queued, if it ran."""
    for entry in negotiation.resolutions:
        done, message_id, _ = (*entry.split(" ", 2), "", "")[:3]
        if done == key:
            return message_id or "-"
    return None


def decided_by(context: dict[str, Any], message_id: str) -> tuple[str, str] | None:
    """(resolution key, who decided) of the resolution that queued `message_id`, read from a
    stored negotiation's record; None when no person's decision queued it."""
    for entry in context.get("resolutions") or ():
        key, queued, actor = (*str(entry).split(" ", 2), "", "")[:3]
        if queued == message_id:
            return key, actor
    return None
