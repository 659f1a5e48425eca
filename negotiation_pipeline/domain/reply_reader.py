"""Reading an influencer's reply: new text only, intent, proposed rate and currency.

Interface fixed here so the policy, simulator and pipeline can build against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.types import Intent


@dataclass(frozen=True)
class ReplyReading:
    intent: Intent
    proposed_rate: Decimal | None  # the amount the sender proposes now, in `currency`
    currency: str | None  # ISO code: "USD", "EUR", "GBP"; None when no amount
    confidence: float  # 0..1; below the configured threshold the intent is UNCLEAR
    new_text: str  # the reply with quoted history and signature removed


def read_reply(body: str, *, confidence_threshold: float = 0.7) -> ReplyReading:
    """Read one plain-text reply body (not yet implemented: see issue 3)."""
    raise NotImplementedError
