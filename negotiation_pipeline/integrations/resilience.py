"""The one retry policy for outbound HTTP calls (ClickUp, Slack, rosters), on tenacity.

Policy: 3 attempts; exponential backoff with jitter; retry ONLY httpx transport errors, 429 and
5xx (another 4xx will fail the same way again); on 429 wait the `Retry-After` seconds (Slack) or
until `X-RateLimit-Reset` (ClickUp sends no Retry-After), capped; after the last failure the
original exception is re-raised, and the caller's `on_give_up` notifier (when it passed one) is
called exactly once. The notifier is always an argument: nothing here remembers who to tell.

`call_with_retries` runs one call, optionally inside a `Deadline` shared by many calls (one run's
Slack delivery): no wait and no attempt ever runs past it.

Tests replace the module-level `sleep` and `clock` so that no test waits for real.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from negotiation_pipeline.domain.redaction import redact_text

log = logging.getLogger(__name__)

R = TypeVar("R")

ErrorNotifier = Callable[[str, BaseException, int], None]

DEFAULT_ATTEMPTS = 3
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 30.0
BACKOFF_JITTER_S = 1.0
RATE_LIMIT_MAX_WAIT_S = 60.0

# Overridable in tests (monkeypatch.setattr(resilience, "sleep", fake)).
sleep: Callable[[float], None] = time.sleep
clock: Callable[[], float] = time.time
monotonic: Callable[[], float] = time.monotonic


def is_retryable(exc: BaseException) -> bool:
    """Transport errors, 429 and 5xx are worth another attempt; any other 4xx is not."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return isinstance(exc, httpx.TransportError)


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds until `X-RateLimit-Reset` (unix seconds), capped; None when absent or invalid.

    Measured against the response's Date header when present (server clock, so local clock
    skew does not matter), otherwise against the local clock."""
    reset_header = response.headers.get("X-RateLimit-Reset")
    if reset_header is None:
        return None
    try:
        reset_at = float(reset_header)
    except ValueError:
        return None
    now = clock()
    date_header = response.headers.get("Date")
    if date_header:
        with contextlib.suppress(TypeError, ValueError):
            now = parsedate_to_datetime(date_header).timestamp()
    return min(max(reset_at - now, 0.0), RATE_LIMIT_MAX_WAIT_S)


def retry_after_wait(response: httpx.Response) -> float | None:
    """The `Retry-After` wait (seconds, or an HTTP date), capped; None when absent or invalid."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - clock()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RATE_LIMIT_MAX_WAIT_S)


class Deadline:
    """A time budget shared by several calls; `remaining()` never goes below 0."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at = monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._ends_at - monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0


class _StopAtDeadline(stop_base):
    """Stop when the coming wait would not leave time for another attempt."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self._deadline.remaining()


def _backoff(attempt_number: int) -> float:
    exponential = BACKOFF_INITIAL_S * 2 ** (attempt_number - 1)
    return min(exponential, BACKOFF_MAX_S) + random.uniform(0, BACKOFF_JITTER_S)


def _wait_seconds(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 429:
        waited = retry_after_wait(exc.response)
        if waited is None:
            waited = rate_limit_wait(exc.response)
        if waited is not None:
            return waited
    return _backoff(state.attempt_number)


def _sleep(seconds: float) -> None:
    sleep(seconds)  # looked up at call time so tests can replace it


def attempts_text(count: int) -> str:
    """The count with its noun: 1 attempt, 3 attempts."""
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def error_body_reason(response: httpx.Response) -> str:
    """The reason an API put in its JSON error body, redacted and short: ClickUp's
    `{"err": ..., "ECODE": ...}`, or an `error`/`message` field; "" when there is none."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, httpx.ResponseNotRead):  # a streamed body: unread
        return ""
    if not isinstance(body, dict):
        return ""
    text = next(
        (body[key] for key in ("err", "error", "message") if isinstance(body.get(key), str)), ""
    )
    code = body.get("ECODE") or body.get("code")
    reason = text.strip()
    if isinstance(code, str | int) and not isinstance(code, bool) and str(code).strip():
        reason = f"{reason} (ECODE {code})" if reason else f"ECODE {code}"
    return redact_text(_printable(reason))[:200]


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)


def describe_failure(exc: BaseException) -> str:
    """One line for operators: what failed, where, and why, with every secret redacted. For an
    HTTP error the host, method, path and status, plus the API's own reason when it gave one;
    never `str()` of an httpx error, which carries the full URL (query keys included)."""
    if isinstance(exc, httpx.HTTPStatusError):
        request, response = exc.request, exc.response
        reason = error_body_reason(response)
        text = (
            f"HTTP {response.status_code} from {request.url.host} on "
            f"{request.method} {request.url.path}" + (f": {reason}" if reason else "")
        )
    elif isinstance(exc, httpx.RequestError):
        where = ""
        with contextlib.suppress(RuntimeError):  # an error raised before a request existed
            where = f" ({exc.request.method} {exc.request.url.host}{exc.request.url.path})"
        text = f"{type(exc).__name__}{where}: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return redact_text(text)


def _give_up(
    api_name: str, exc: BaseException, attempts: int, on_give_up: ErrorNotifier | None
) -> None:
    log.error(
        "%s call failed after %s: %s", api_name, attempts_text(attempts), describe_failure(exc)
    )
    if on_give_up is None:
        return
    try:
        on_give_up(api_name, exc, attempts)
    except Exception:  # the notifier must never hide the API error itself
        log.exception("error notifier failed for %s", api_name)


def _log_retry(api_name: str, attempts: int) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s attempt %d/%d failed (%s); retrying in %.1f s",
            api_name,
            state.attempt_number,
            attempts,
            describe_failure(exc) if exc else "?",
            wait,
        )

    return before_sleep


def call_with_retries(
    fn: Callable[[], R],
    api_name: str,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    deadline: Deadline | None = None,
    on_give_up: ErrorNotifier | None = None,
) -> R:
    """`fn()` under the module policy; the last error is re-raised. With `deadline`, retrying
    also stops when the next wait would reach it. `on_give_up(api_name, exc, attempts)` hears of
    every failure that leaves here (retries spent, or an error not worth retrying), once; Slack,
    the alerts' own channel, passes none, since it could not report its own failures."""
    stop = stop_after_attempt(attempts)
    retrying = Retrying(
        stop=stop if deadline is None else stop | _StopAtDeadline(deadline),
        wait=_wait_seconds,
        retry=retry_if_exception(is_retryable),
        sleep=_sleep,
        before_sleep=_log_retry(api_name, attempts),
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        attempts_made = int(retrying.statistics.get("attempt_number", 1))
        _give_up(api_name, exc, attempts_made, on_give_up)
        raise
