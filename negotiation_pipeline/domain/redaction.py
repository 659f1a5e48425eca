"""Secret redaction for every text that leaves the process: errors, logs, Slack, audit metadata.

Pure functions, no I/O. What is replaced by `***`:
- in any URL (also one embedded in free text): the userinfo (`user:pass@`), every query value
  and every fragment value (access keys of published sheets, signed links, OAuth fragments),
  and the path of a Slack incoming webhook (the path is the secret);
- tokens recognisable by their shape: ClickUp personal tokens (`pk_<digits>_...`), Slack
  tokens (`xoxb-...`, `xapp-...`), `Bearer ...` credentials, webhook paths written without a
  scheme, and `password=...`-style assignments (libpq keyword strings, config dumps).

Redaction is idempotent: redacting a redacted text changes nothing. It never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "***"

# scheme://… up to whitespace, quotes, angle brackets, `|` (Slack link syntax) or a backtick.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{0,15}://[^\s<>\"'`|\\]+")
_TRAILING_PUNCTUATION = ".,;:!?"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com"})

# (substrings one of which the text must contain, pattern, replacement). The substring test is
# a cheap filter: audit metadata and log lines are redacted by the thousand, and most contain
# no token at all.
_TOKEN_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    # ClickUp personal API token: pk_<user id>_<32 letters and digits>.
    (("pk_",), re.compile(r"\bpk_[0-9]+_[A-Za-z0-9]{8,}"), "pk_" + REDACTED),
    # Slack bot/user/app/config tokens.
    (("xox",), re.compile(r"\b(xox[a-z])-[A-Za-z0-9-]{6,}"), r"\1-" + REDACTED),
    (("xapp-",), re.compile(r"\b(xapp)-[A-Za-z0-9-]{6,}"), r"\1-" + REDACTED),
    # A webhook path quoted without its scheme.
    (
        ("hooks.slack.com/",),
        re.compile(r"\b(hooks\.slack\.com/(?:services|workflows|triggers))/[A-Za-z0-9/_\-]+"),
        r"\1/" + REDACTED,
    ),
    (
        ("bearer", "basic"),
        re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{6,}", re.IGNORECASE),
        r"\1 " + REDACTED,
    ),
    # key=value / key: value with a secret-looking key (DSN keyword strings, config dumps).
    (
        ("pass", "pwd", "secret", "key", "token"),
        re.compile(
            r"\b(password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?key|"
            r"access[_-]?token|auth[_-]?token|token)(\s*[=:]\s*)(?!\*\*\*)[^\s&'\",;]+",
            re.IGNORECASE,
        ),
        r"\1\2" + REDACTED,
    ),
)


# Searched in the lower-cased text: case-sensitive alternations are several times faster.
_ANY_CANDIDATE = re.compile(
    "://|" + "|".join(re.escape(n) for needles, _, _ in _TOKEN_PATTERNS for n in needles)
)


def redact_text(text: str) -> str:
    """`text` with every secret-looking part (see the module docstring) replaced by ***."""
    if not text or _ANY_CANDIDATE.search(text.lower()) is None:
        return text
    redacted = text
    if "://" in redacted:
        redacted = _URL.sub(lambda match: _redact_url_match(match.group(0)), redacted)
    lowered = redacted.lower()
    for needles, pattern, replacement in _TOKEN_PATTERNS:
        if any(needle in lowered for needle in needles):
            redacted = pattern.sub(replacement, redacted)
    return redacted


def redact_url(url: str) -> str:
    """One URL (or anything else: then as `redact_text`) with its secrets replaced by ***."""
    return redact_text(url)


def redact_data(value: Any) -> Any:
    """The same structure with every string redacted (dict keys kept as they are); other values
    (numbers, Decimals, None, booleans) unchanged."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_data(item) for item in value)
    return value


def _redact_url_match(candidate: str) -> str:
    url, tail = _split_trailing_punctuation(candidate)
    return _redact_one_url(url) + tail


def _split_trailing_punctuation(candidate: str) -> tuple[str, str]:
    """A URL at the end of a sentence or inside parentheses: keep `.`/`)` outside it."""
    end = len(candidate)
    while end > 0:
        last = candidate[end - 1]
        if last in _TRAILING_PUNCTUATION or (
            last in _CLOSERS
            and candidate.count(last, 0, end) > candidate.count(_CLOSERS[last], 0, end)
        ):
            end -= 1
        else:
            break
    return candidate[:end], candidate[end:]


def _redact_one_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    split_at = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, remainder = rest[:split_at], rest[split_at:]
    if "@" in authority:
        authority = REDACTED + "@" + authority.rsplit("@", 1)[1]
    remainder, hash_mark, fragment = remainder.partition("#")
    path, question_mark, query = remainder.partition("?")
    if _host(authority) in _SLACK_HOOK_HOSTS:
        path = _redact_hook_path(path)
    if query:
        query = _redact_pairs(query)
    if fragment:
        fragment = _redact_pairs(fragment)
    return f"{scheme}://{authority}{path}{question_mark}{query}{hash_mark}{fragment}"


def _host(authority: str) -> str:
    host = authority.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.partition("]")[0][1:].lower()
    return host.partition(":")[0].lower()


def _redact_hook_path(path: str) -> str:
    segments = path.split("/")  # ["", "services", "T…", "B…", "secret"]
    if len(segments) <= 2:
        return path
    return "/".join([*segments[:2], REDACTED])


def redact_query(query: str) -> str:
    """A query string (without the `?`) with every value replaced by ***."""
    return _redact_pairs(query)


def _redact_pairs(text: str) -> str:
    """`a=1&b=2&flag` → `a=***&b=***&***`: names stay readable, values never do."""
    pairs = []
    for pair in text.split("&"):
        name, equals, value = pair.partition("=")
        if equals:
            pairs.append(f"{name}={REDACTED}" if value else pair)
        else:
            pairs.append(REDACTED if pair else pair)
    return "&".join(pairs)
