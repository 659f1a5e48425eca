"""An optional second opinion on replies the rules could not read with confidence.

Only the intent can change, and only for a reading whose confidence is below the threshold (the
rules called it unclear). Everything with money in it stays the rules' reading: the proposed
rate and currency, and the new text the engine checks for escalation keywords; the engine then
decides prices, agreements and escalations exactly as for any reading, and the validation gate
checks every email. An adopted intent gets the threshold as its confidence (it passed on the
second opinion, no more). The opinion is not adopted when it is missing (the endpoint failed or
was slow), "unclear", or "counter" without an amount the rules could read.

Every consultation is described in `audit` for the reply's email_received entry: asked, the
model, the intent answered, whether it was adopted, and why not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.domain.reading.reader import ReplyReading
from negotiation_pipeline.integrations.llm.client import IntentOpinion

log = logging.getLogger(__name__)

# new text of a reply → the endpoint's opinion (IntentOpinionClient is one).
SecondOpinion = Callable[[str], IntentOpinion]


@dataclass(frozen=True)
class Reconsidered:
    reading: ReplyReading  # what the engine acts on
    audit: dict[str, Any] | None  # {"second_opinion": {...}} when asked, else None


def _not_adopted_because(reading: ReplyReading, opinion: IntentOpinion) -> str | None:
    if opinion.intent is None:
        return f"fell back to the rules: {opinion.fallback_reason or 'no answer'}"
    if reading.money_unsettled:
        return "the reply names prices the rules could not total: a person reads it"
    if opinion.intent is Intent.UNCLEAR:
        return "the second opinion is unclear too"
    if opinion.intent is Intent.COUNTER and reading.proposed_rate is None:
        return "a counter needs an amount the rules can read; none was found"
    return None


def _ask(ask: SecondOpinion, text: str) -> IntentOpinion:
    try:
        return ask(text)
    except Exception as exc:  # an adapter bug must not cost the reply: the rules' reading stands
        log.exception("second opinion failed")
        return IntentOpinion(None, f"adapter error: {type(exc).__name__}", "?", 0, 0, 0)


def reconsider_reading(
    reading: ReplyReading, ask: SecondOpinion | None, threshold: float
) -> Reconsidered:
    """The reading the engine should act on, after a second opinion when one is configured and
    the rules' confidence is below `threshold`."""
    if ask is None or reading.confidence >= threshold:
        return Reconsidered(reading, None)
    opinion = _ask(ask, reading.new_text)
    refused = _not_adopted_because(reading, opinion)
    adopted = refused is None and opinion.intent is not None
    final = reading
    if adopted and opinion.intent is not None:
        final = replace(reading, intent=opinion.intent, confidence=threshold)
    summary = {
        "asked": True,
        "model": opinion.model,
        "answered_intent": None if opinion.intent is None else opinion.intent.value,
        "adopted": adopted,
        "fell_back": refused,
        "rules_intent": reading.intent.value,
        "rules_confidence": round(reading.confidence, 3),
        "attempts": opinion.attempts,
        "elapsed_ms": opinion.elapsed_ms,
        "sent_chars": opinion.sent_chars,
    }
    log.info(
        "second opinion (%s): answered %s, %s",
        opinion.model,
        summary["answered_intent"],
        "adopted" if adopted else refused,
    )
    return Reconsidered(final, {"second_opinion": summary})


__all__ = ["Reconsidered", "SecondOpinion", "reconsider_reading"]
