"""Posting SlackMessages: incoming webhook or chat.postMessage, with Slack's retry rules.

- 429: wait the Retry-After seconds (capped by `RetryPolicy.max_retry_after_seconds`), retry.
- 5xx and transport errors: retry with exponential backoff.
- Any other 4xx, a webhook body other than "ok", or chat.postMessage `{"ok": false}`: fail at
  once (retrying cannot fix a bad payload or token).
- After the last attempt: SlackError. Neither the bot token nor the webhook URL (which is
  itself a secret) ever appears in an error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from negotiation_pipeline.domain.redaction import redact_text
from negotiation_pipeline.integrations.slack.messages import SlackChannel, SlackMessage

DEFAULT_API_BASE = "https://slack.com/api"


class SlackError(RuntimeError):
    """Slack refused the message, or kept failing after every retry."""


class SlackNotifier(Protocol):
    def post(self, message: SlackMessage) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 30.0
    max_retry_after_seconds: float = 60.0  # a longer Retry-After is cut to this


class _Transient(Exception):
    """A failure worth retrying (429, 5xx, transport); carries Retry-After when given."""

    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.retry_after = retry_after


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")  # httpx headers are case-insensitive
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _Poster:
    """Shared retry loop; subclasses do one HTTP attempt."""

    def __init__(
        self,
        *,
        secrets: tuple[str, ...],
        client: httpx.Client | None,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        timeout_seconds: float,
    ) -> None:
        self._secrets = tuple(secret for secret in secrets if secret)
        self._client = client or httpx.Client(timeout=timeout_seconds)
        self._retry = retry
        self._sleep = sleep

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return min(error.retry_after, self._retry.max_retry_after_seconds)
        backoff = self._retry.base_delay_seconds * 2 ** (state.attempt_number - 1)
        return float(min(backoff, self._retry.max_delay_seconds))

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact_text(text)  # also URL keys and tokens the text quotes from elsewhere

    def _with_retries(self, what: str, attempt: Callable[[], None]) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(self._retry.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            retrying(attempt)
        except _Transient as exc:
            raise SlackError(
                self._scrub(
                    f"{what} failed after {self._retry.max_attempts} attempt"
                    f"{'' if self._retry.max_attempts == 1 else 's'}: {exc.description}"
                )
            ) from None

    def _send(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.post(url, **kwargs)
        except httpx.TransportError as exc:
            raise _Transient(self._scrub(f"transport error: {type(exc).__name__}: {exc}")) from None
        if response.status_code == 429:
            raise _Transient("HTTP 429 rate limited", _retry_after_seconds(response))
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}: {response.text[:200]}")
        return response

    def close(self) -> None:
        self._client.close()


class WebhookSlack(_Poster):
    """Incoming webhook: one channel, fixed by the webhook. Success is HTTP 200 body "ok"."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__(
            secrets=(url,), client=client, retry=retry, sleep=sleep, timeout_seconds=timeout_seconds
        )
        self._url = url

    def post(self, message: SlackMessage) -> None:
        self._with_retries("Slack webhook post", lambda: self._attempt(message))

    def _attempt(self, message: SlackMessage) -> None:
        response = self._send(self._url, json=message.payload())
        body = response.text.strip()
        if response.status_code == 200 and body == "ok":
            return
        raise SlackError(
            self._scrub(f"Slack webhook refused the message: HTTP {response.status_code} {body!r}")
        )


class BotSlack(_Poster):
    """chat.postMessage with a bot token; channels chosen by the message's SlackChannel."""

    def __init__(
        self,
        token: str,
        channels: Mapping[SlackChannel | str, str],
        *,
        api_base: str = DEFAULT_API_BASE,
        client: httpx.Client | None = None,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__(
            secrets=(token,),
            client=client,
            retry=retry,
            sleep=sleep,
            timeout_seconds=timeout_seconds,
        )
        self._token = token
        self._channels = {SlackChannel(kind): channel for kind, channel in channels.items()}
        missing = [kind.value for kind in SlackChannel if kind not in self._channels]
        if missing:
            raise SlackError(f"BotSlack needs a channel for: {', '.join(missing)}")
        self._url = api_base.rstrip("/") + "/chat.postMessage"
        self.last_ts: str | None = None  # ts of the last posted message (for threading replies)

    def post(self, message: SlackMessage) -> None:
        channel = self._channels[message.channel]
        self._with_retries(
            f"Slack chat.postMessage to {channel}", lambda: self._attempt(message, channel)
        )

    def _attempt(self, message: SlackMessage, channel: str) -> None:
        response = self._send(
            self._url,
            json={"channel": channel, **message.payload()},
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json; charset=utf-8",
            },
        )
        if response.status_code != 200:
            raise SlackError(
                self._scrub(
                    f"chat.postMessage: HTTP {response.status_code} {response.text[:200]!r}"
                )
            )
        try:
            body = response.json()
        except ValueError:
            raise SlackError(f"chat.postMessage: not JSON: {response.text[:200]!r}") from None
        if not isinstance(body, dict) or body.get("ok") is not True:
            error = body.get("error", "unknown_error") if isinstance(body, dict) else body
            if error in ("ratelimited", "rate_limited"):
                raise _Transient(f"Slack error {error}", _retry_after_seconds(response))
            raise SlackError(self._scrub(f"chat.postMessage to {channel} failed: {error}"))
        self.last_ts = str(body.get("ts")) if body.get("ts") is not None else None
