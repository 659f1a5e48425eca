"""The reply reader with the packaged word lists, as most reader tests want it."""

from __future__ import annotations

from decimal import Decimal

from negotiation_pipeline.domain.reading.reader import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    ReplyReading,
)
from negotiation_pipeline.domain.reading.reader import read_reply as read_with
from negotiation_pipeline.domain.reading.unit_prices import PackageItems
from negotiation_pipeline.domain.reading.vocabulary import CompiledVocabulary
from negotiation_pipeline.settings.engine import load_reply_vocabulary


def read_reply(
    body: str,
    *,
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
    our_offer: Decimal | None = None,
    vocabulary: CompiledVocabulary | None = None,
    package: PackageItems = (),
) -> ReplyReading:
    return read_with(
        body,
        confidence_threshold=confidence_threshold,
        our_offer=our_offer,
        vocabulary=vocabulary if vocabulary is not None else load_reply_vocabulary(),
        package=package,
    )
