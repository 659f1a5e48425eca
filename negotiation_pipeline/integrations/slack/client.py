"""Posting SlackMessages: incoming webhook or chat.postMessage, under the product retry policy.

Retries are `resilience.call_with_retries` (the same tenacity policy as ClickUp): 429 waits the
Retry-After seconds, 5xx and transport errors back off exponentially with jitter, 3 attempts.
A `Deadline` (one run's Slack time budget) bounds the whole post: each request's timeout is the
shorter of `timeout_seconds` and what is left, and no retry waits past it.

Failures come in two kinds, so the notification outbox knows what to do with the message:
- `SlackRefused`: Slack rejected this payload (webhook HTTP 400, chat.postMessage errors such as
  `invalid_blocks` or `msg_too_long`); sending it again cannot succeed;
- `SlackUnavailable`: anything else (down, slow, rate limited past the budget, bad token or
  channel): the message can go out once Slack, or its configuration, is back.
Neither the bot token nor the webhook URL (itself a secret) ever appears in an error message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from negotiation_pipeline.domain.redaction import redact_text
from negotiation_pipeline.integrations.resilience import (
    DEFAULT_ATTEMPTS,
    Deadline,
    call_with_retries,
)
from negotiation_pipeline.integrations.slack.blocks import SlackChannel, SlackMessage

DEFAULT_API_BASE = "https://slack.com/api"
DEFAULT_TIMEOUT_SECONDS = 3.0
API_NAME = "slack"

# chat.postMessage errors about the payload itself (the rest are about Slack or our setup).
PAYLOAD_ERRORS = frozenset(
    {
        "invalid_arguments",
        "invalid_attachments",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_payload",
        "msg_blocks_too_long",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
    }
)


class SlackError(RuntimeError):
    """Slack did not take the message."""


class SlackRefused(SlackError):
    """Slack rejected this message's payload; posting it again would fail the same way."""


class SlackUnavailable(SlackError):
    """Slack could not take the message now (down, slow, rate limited, misconfigured)."""


class SlackNotifier(Protocol):
    def post(self, message: SlackMessage, *, deadline: Deadline | None = None) -> None: ...


def _status_error(response: httpx.Response, description: str) -> httpx.HTTPStatusError:
    """A 429/5xx as the error the retry policy knows (it reads status and Retry-After)."""
    return httpx.HTTPStatusError(description, request=response.request, response=response)


class _Poster:
    """Shared request/retry handling; subclasses judge one response."""

    def __init__(
        self,
        *,
        secrets: tuple[str, ...],
        client: httpx.Client | None,
        attempts: int,
        timeout_seconds: float,
    ) -> None:
        self._secrets = tuple(secret for secret in secrets if secret)
        self._client = client or httpx.Client(timeout=timeout_seconds)
        self._attempts = attempts
        self._timeout_seconds = timeout_seconds

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact_text(text)  # also URL keys and tokens the text quotes from elsewhere

    def _post_with_retries(
        self, what: str, attempt: Callable[[Deadline | None], None], deadline: Deadline | None
    ) -> None:
        if deadline is not None and deadline.expired:
            raise SlackUnavailable(f"{what}: not tried, the Slack time budget is spent")
        try:
            call_with_retries(
                lambda: attempt(deadline),
                API_NAME,
                attempts=self._attempts,
                deadline=deadline,
            )
        except httpx.HTTPError as exc:
            raise SlackUnavailable(self._scrub(f"{what} failed: {_describe(exc)}")) from None

    def _send(self, url: str, deadline: Deadline | None, **kwargs: Any) -> httpx.Response:
        timeout = self._timeout_seconds
        if deadline is not None:
            timeout = min(timeout, deadline.remaining())
            if timeout <= 0:
                raise httpx.TimeoutException("the Slack time budget is spent")
        response = self._client.post(url, timeout=timeout, **kwargs)
        if response.status_code == 429:
            raise _status_error(response, "HTTP 429 rate limited")
        if response.status_code >= 500:
            raise _status_error(response, f"HTTP {response.status_code}: {response.text[:200]}")
        return response

    def close(self) -> None:
        self._client.close()


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} {exc.response.text[:200]!r}"
    return f"transport error: {type(exc).__name__}: {exc}"


class WebhookSlack(_Poster):
    """Incoming webhook: one channel, fixed by the webhook. Success is HTTP 200 body "ok"."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(
            secrets=(url,), client=client, attempts=attempts, timeout_seconds=timeout_seconds
        )
        self._url = url

    def post(self, message: SlackMessage, *, deadline: Deadline | None = None) -> None:
        self._post_with_retries(
            "Slack webhook post", lambda left: self._attempt(message, left), deadline
        )

    def _attempt(self, message: SlackMessage, deadline: Deadline | None) -> None:
        response = self._send(self._url, deadline, json=message.payload())
        body = response.text.strip()
        if response.status_code == 200 and body == "ok":
            return
        refusal = f"Slack webhook refused the message: HTTP {response.status_code} {body[:200]!r}"
        kind = SlackRefused if response.status_code == 400 else SlackUnavailable
        raise kind(self._scrub(refusal))


class BotSlack(_Poster):
    """chat.postMessage with a bot token; channels chosen by the message's SlackChannel."""

    def __init__(
        self,
        token: str,
        channels: Mapping[SlackChannel, str] | Mapping[str, str],
        *,
        api_base: str = DEFAULT_API_BASE,
        client: httpx.Client | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(
            secrets=(token,), client=client, attempts=attempts, timeout_seconds=timeout_seconds
        )
        self._token = token
        self._channels = {SlackChannel(kind): channel for kind, channel in channels.items()}
        missing = [kind.value for kind in SlackChannel if kind not in self._channels]
        if missing:
            raise SlackError(f"BotSlack needs a channel for: {', '.join(missing)}")
        self._url = api_base.rstrip("/") + "/chat.postMessage"
        self.last_ts: str | None = None  # ts of the last posted message (for threading replies)

    def post(self, message: SlackMessage, *, deadline: Deadline | None = None) -> None:
        channel = self._channels[message.channel]
        self._post_with_retries(
            f"Slack chat.postMessage to {channel}",
            lambda left: self._attempt(message, channel, left),
            deadline,
        )

    def _attempt(self, message: SlackMessage, channel: str, deadline: Deadline | None) -> None:
        response = self._send(
            self._url,
            deadline,
            json={"channel": channel, **message.payload()},
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json; charset=utf-8",
            },
        )
        if response.status_code != 200:
            raise SlackUnavailable(
                self._scrub(
                    f"chat.postMessage: HTTP {response.status_code} {response.text[:200]!r}"
                )
            )
        try:
            body = response.json()
        except ValueError:
            raise SlackUnavailable(
                self._scrub(f"chat.postMessage: not JSON: {response.text[:200]!r}")
            ) from None
        if not isinstance(body, dict) or body.get("ok") is not True:
            error = body.get("error", "unknown_error") if isinstance(body, dict) else body
            kind = SlackRefused if str(error) in PAYLOAD_ERRORS else SlackUnavailable
            raise kind(self._scrub(f"chat.postMessage to {channel} failed: {error}"))
        self.last_ts = str(body.get("ts")) if body.get("ts") is not None else None
