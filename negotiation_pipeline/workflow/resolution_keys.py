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


def _decision_hash(thread_id: str, request: ResolutionRequestLike) -> str:
    parts = [
        thread_id,
        request.action.value,
        (request.amount or "").strip(),
        str(request.scenario or ""),
        str(request.allow_above_ceiling),
        hashlib.sha256((request.text or "").encode()).hexdigest(),
    ]
    return "res-" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def resolution_key(negotiation: Negotiation, request: ResolutionRequestLike) -> str:
    """The decision (thread, action, arguments) and which resolution of the thread it is: a
    later escalation of the same thread answered the same way gets a new key."""
    number = len(negotiation.resolutions) + 1
    return f"{_decision_hash(negotiation.thread_id, request)}-{number}"


def prior_resolution(negotiation: Negotiation, request: ResolutionRequestLike) -> str | None:
    """When the thread's latest resolution is this very decision: the Message-ID it queued
    ("-" for none). Only asked while the thread no longer waits for a person."""
    if not negotiation.resolutions:
        return None
    key, message_id, _ = (*negotiation.resolutions[-1].split(" ", 2), "", "")[:3]
    if key.rpartition("-")[0] != _decision_hash(negotiation.thread_id, request):
        return None
    return message_id or "-"


def decided_by(context: dict[str, Any], message_id: str) -> tuple[str, str] | None:
    """(resolution key, who decided) of the resolution that queued `message_id`, read from a
    stored negotiation's record; None when no person's decision queued it."""
    for entry in context.get("resolutions") or ():
        key, queued, actor = (*str(entry).split(" ", 2), "", "")[:3]
        if queued == message_id:
            return key, actor
    return None
