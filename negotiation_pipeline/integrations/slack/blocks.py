"""Slack Block Kit building blocks: the block limits, escaping, and the header, section, fields
and context blocks every message is made of, plus the `SlackMessage` they go out in.


Limits: header plain_text <= 150 chars; section text <= 3000; <= 10 fields of <= 2000 chars;
<= 10 context elements; <= 50 blocks. Money is Decimal, written with format_usd.

Slack reads `&`, `<` and `>` as control characters in every text it gets (`<!channel>`,
`<@U123>`, `<https://x|label>`). Every piece of data is escaped before it is placed: field
values, bullets and quoted text by their builders, the header and the top-level fallback text
(the one notifications show) as a whole, since neither ever holds markup of ours. The only
markup we emit ourselves is `link()`, built after escaping from an http(s) URL. Link previews
are off, so a URL inside data is never fetched by Slack on our behalf.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.redaction import redact_data, redact_text

HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_MAX = 10
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50
FALLBACK_TEXT_MAX = 3000

DEFAULT_NEXT_STEPS = ("Send the contract", "Confirm deliverables", "Schedule the content calendar")
ELLIPSIS = "…"

Block = dict[str, Any]


class SlackChannel(StrEnum):
    """Which channel a message belongs in (BotSlack maps these to channel ids)."""

    AGREEMENTS = "agreements"
    ESCALATIONS = "escalations"
    ERRORS = "errors"


@dataclass(frozen=True)
class SlackMessage:
    channel: SlackChannel
    text: str  # notification / fallback text
    blocks: tuple[Block, ...]

    def payload(self) -> dict[str, Any]:
        """The JSON body shared by webhooks and chat.postMessage (without "channel")."""
        return {
            "text": self.text,
            "blocks": list(self.blocks),
            "unfurl_links": False,
            "unfurl_media": False,
        }


# An entity cut in half by truncation ("&am") would show as text, or swallow what follows.
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut; an escaped entity is never split."""
    if len(text) <= limit:
        return text
    kept = _PARTIAL_ENTITY.sub("", text[: limit - len(ELLIPSIS)])
    return kept + ELLIPSIS


def escape(text: str) -> str:
    """Slack's three control characters as entities: `&` `<` `>` (data then cannot mention
    anyone, link anywhere or format a date)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """Our own link `<url|label>`: only http(s), the URL's control characters and `|`
    percent-encoded so it cannot end the link early, the label escaped. Anything else is the
    label alone (escaped): a bad URL loses its link, never the message."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return escape(label)
    # "<", ">", "|", quotes, blanks and non-ASCII are percent-encoded; "&" becomes "&amp;".
    encoded = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")
    return f"<{encoded.replace('&', '&amp;')}|{escape(label)}>"


def header(text: str) -> Block:
    """A header block; `text` is data (plain_text holds no markup of ours) and is escaped."""
    escaped = truncate(escape(text), HEADER_MAX)
    return {"type": "header", "text": {"type": "plain_text", "text": escaped}}


def section(markdown: str) -> Block:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(markdown, SECTION_TEXT_MAX)},
    }


def fields(pairs: Sequence[tuple[str, str]]) -> list[Block]:
    """Label/value pairs as section fields, 10 per section block (values escaped)."""
    items = [
        {"type": "mrkdwn", "text": truncate(f"*{escape(label)}:*\n{escape(value)}", FIELD_TEXT_MAX)}
        for label, value in pairs
    ]
    return [
        {"type": "section", "fields": items[start : start + FIELDS_MAX]}
        for start in range(0, len(items), FIELDS_MAX)
    ]


def context(*parts: str) -> Block:
    elements = [
        {"type": "mrkdwn", "text": truncate(part, FIELD_TEXT_MAX)} for part in parts if part
    ]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS_MAX]}


def quoted(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Outside text in a code block, escaped, fitted into one section."""
    fence = "```"
    room = limit - 2 * len(fence) - 2
    return f"{fence}\n{truncate(escape(text.strip()), room)}\n{fence}"


def bullets(items: Sequence[str]) -> str:
    return "\n".join(f"• {escape(item)}" for item in items)


def money_text(amount: Decimal | None) -> str:
    return format_usd(amount) if amount is not None else "n/a"


def message(channel: SlackChannel, fallback: str, blocks: list[Block]) -> SlackMessage:
    """`fallback` is plain words and data, never markup: it is redacted and escaped here, whole."""
    kept = redact_data([block for block in blocks if block.get("elements", True)][:BLOCKS_MAX])
    fallback_text = truncate(escape(redact_text(fallback)), FALLBACK_TEXT_MAX)
    return SlackMessage(channel, fallback_text, tuple(kept))


def thread_context(thread_id: str | None) -> Block:
    return context(f"Thread `{escape(thread_id)}`" if thread_id else "")
