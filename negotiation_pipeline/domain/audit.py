"""Audit trail entry: one row of what the pipeline did and why.

The store sets `timestamp` (UTC, microseconds) when the entry is written; a caller may pass an
aware timestamp instead (backfills, tests, benchmarks). `id` is filled in when read back.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from negotiation_pipeline.domain.enums import EventType


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: EventType
    campaign_id: str | None = None
    influencer_name: str | None = None
    thread_id: str | None = None
    direction: str | None = None
    email_body: str | None = None
    negotiation_state: str | None = None
    rates_used: str | None = None
    intent_classification: str | None = None
    metadata: dict[str, Any] | None = None
    timestamp: datetime | None = None
    id: int | None = None

    @field_validator("rates_used", mode="before")
    @classmethod
    def _rates_as_text(cls, value: Any) -> Any:
        # Money is Decimal end to end: a Decimal is kept as its exact text, a float is refused.
        if isinstance(value, float):
            raise ValueError(f"rates_used must be text or Decimal, not float ({value!r})")
        if isinstance(value, Decimal):
            return str(value)
        return value

    @field_validator("direction", "negotiation_state", "intent_classification", mode="before")
    @classmethod
    def _enum_as_value(cls, value: Any) -> Any:
        # StrEnum members (NegotiationState, Intent) are stored as their plain value.
        return value.value if isinstance(value, Enum) else value

    @field_validator("timestamp")
    @classmethod
    def _aware_timestamp(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("timestamp must be timezone-aware (UTC)")
        return value
