"""LLM integration: an optional second opinion on low-confidence reply intents."""

from negotiation_pipeline.integrations.llm.client import (
    ALLOWED_INTENTS,
    IntentOpinion,
    IntentOpinionClient,
    LlmConfigError,
)

__all__ = ["ALLOWED_INTENTS", "IntentOpinion", "IntentOpinionClient", "LlmConfigError"]
