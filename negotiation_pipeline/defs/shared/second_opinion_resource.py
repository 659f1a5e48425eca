"""Who else reads replies the rules found unclear, as Dagster resources: no one by default, or an
OpenAI-compatible chat-completions endpoint (its API key bound as `dg.EnvVar`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from negotiation_pipeline.integrations.llm.client import (
    DEFAULT_MAX_CHARS,
    IntentOpinionClient,
)
from negotiation_pipeline.integrations.llm.client import (
    DEFAULT_TIMEOUT_SECONDS as LLM_TIMEOUT_SECONDS,
)
from negotiation_pipeline.workflow.second_opinion import SecondOpinion


class SecondOpinionResource(dg.ConfigurableResource):
    """Who else reads replies the rules found unclear. This base asks no one (the default);
    bind ChatCompletionsSecondOpinionResource to ask an OpenAI-compatible endpoint."""

    @contextmanager
    def open(self) -> Iterator[SecondOpinion | None]:
        yield None


class ChatCompletionsSecondOpinionResource(SecondOpinionResource):
    """An OpenAI-compatible chat-completions endpoint, asked for the intent only."""

    api_url: str = Field(description="API base such as https://api.openai.com/v1 (LLM_API_URL)")
    api_key: str = Field(default="", description="bind dg.EnvVar('LLM_API_KEY')")
    model: str = Field(description="model name (LLM_MODEL)")
    timeout_seconds: float = Field(default=LLM_TIMEOUT_SECONDS, gt=0, le=30)
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, gt=0, le=20_000)

    @contextmanager
    def open(self) -> Iterator[SecondOpinion | None]:
        client = IntentOpinionClient(
            self.api_url,
            self.api_key,
            self.model,
            timeout_seconds=self.timeout_seconds,
            max_chars=self.max_chars,
        )
        try:
            yield client
        finally:
            client.close()
