"""Parse one RFC 5322 message into the few fields the negotiation needs.

`parse_message` never raises anything but `MalformedMessageError`: mail comes from strangers, and
one broken message must not stop a sensor tick. The modern `email.policy.default` parser is tried
first (it decodes RFC 2047 headers and gives structured addresses); any header it chokes on is read
again through the lenient `compat32` parser.

Work is bounded (`MessageLimits`), because a stranger decides how big a message is: only the
first `max_raw_bytes` are parsed (the mailboxes fetch no more), at most `max_parts` MIME parts
are walked, and the text kept is cut at `max_body_chars` with a visible marker, so a 25 MB
reply costs what a 2 MB one does and is stored as 256 KB.
"""

from __future__ import annotations

import email
import email.header
import email.parser
import email.policy
import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from html.parser import HTMLParser

from negotiation_pipeline.integrations.mail.flowed import unflow

# Headers kept verbatim so auto-reply / bulk-mail detection can look at them later.
DETECTION_HEADERS = (
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "precedence",
    "list-id",
    "x-failed-recipients",
)

_HEADER_NAMES_THAT_MAKE_A_MESSAGE = ("from", "to", "subject", "date", "message-id")
_MSG_ID_RE = re.compile(r"<[^<>\s]+>")
# WHATWG: labels "iso-8859-1", "latin1" and "us-ascii" are decoded as windows-1252 in practice
# (senders label cp1252 text as latin-1 constantly: curly quotes, euro sign).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "windows-1252": "cp1252",
}


class MalformedMessageError(ValueError):
    """The bytes are not a usable email message; the text says why."""


@dataclass(frozen=True)
class MessageLimits:
    """How much of one incoming message is read (see the module docstring)."""

    max_body_chars: int = 256 * 1024  # text kept for reading and storage
    max_parts: int = 100  # MIME parts walked looking for the text
    max_raw_bytes: int = 2 * 1024 * 1024  # bytes of the message read at all

    def __post_init__(self) -> None:
        for name in ("max_body_chars", "max_parts", "max_raw_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def cut_marker(self, *, bytes_cut: bool = False) -> str:
        limit = _size(self.max_raw_bytes) if bytes_cut else f"{_size(self.max_body_chars)} of text"
        return f"\n\n[message cut: longer than {limit}; the rest was not read]"


DEFAULT_LIMITS = MessageLimits()


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MB"
    return f"{count // 1024} KB" if count >= 1024 and count % 1024 == 0 else f"{count:,}"


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str | None  # "<id@host>" with angle brackets, or None when absent
    in_reply_to: str | None  # first "<id>" of In-Reply-To
    references: tuple[str, ...]  # oldest first, as in the header
    from_addr: str  # bare lower-case address; "" when the message has no usable From
    from_name: str  # display name, "" when none
    to_addrs: tuple[str, ...]  # bare lower-case addresses
    subject: str
    date: datetime | None  # timezone-aware; None when missing or unparsable
    text_body: str  # plain text (HTML-only mail converted), charset-decoded, bounded
    detection_headers: tuple[tuple[str, str], ...] = ()  # (lower-case name, value)
    truncated: bool = False  # the body was cut (MessageLimits): text_body ends with a marker

    def header(self, name: str) -> str | None:
        """Value of one of DETECTION_HEADERS (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.detection_headers:
            if key == wanted:
                return value
        return None


def parse_message(
    raw: bytes, limits: MessageLimits = DEFAULT_LIMITS, *, complete: bool | None = None
) -> ParsedMessage:
    """Parse raw message bytes; raise MalformedMessageError if they are not a message.

    `complete=False` says `raw` is only the start of a longer message (a bounded fetch); by
    default a message longer than `limits.max_raw_bytes` is cut here.
    """
    if not isinstance(raw, bytes | bytearray):
        raise MalformedMessageError(f"expected message bytes, got {type(raw).__name__}")
    if not raw.strip():
        raise MalformedMessageError("message is empty")
    cut = len(raw) > limits.max_raw_bytes or complete is False
    try:
        return _parse(bytes(raw[: limits.max_raw_bytes]), limits, cut)
    except MalformedMessageError:
        raise
    except Exception as exc:  # the stdlib parser has many odd failure modes; name it once
        raise MalformedMessageError(f"cannot parse message: {type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, limits: MessageLimits, raw_cut: bool) -> ParsedMessage:
    # Only the headers are read through the modern policy; the body is walked once, lenient.
    modern = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)
    lenient = email.message_from_bytes(raw, policy=email.policy.compat32)
    present = {key.lower() for key in lenient}
    if not present.intersection(_HEADER_NAMES_THAT_MAKE_A_MESSAGE):
        raise MalformedMessageError(
            "no message headers found (expected at least one of From, To, Subject, Date, "
            "Message-ID before a blank line)"
        )
    headers = _Headers(modern, lenient)
    from_name, from_addr = _first_address(headers.get("from"))
    body, body_cut = _bounded(_text_body(lenient, limits.max_parts), limits, raw_cut)
    return ParsedMessage(
        message_id=_first_msg_id(headers.get("message-id")),
        in_reply_to=_first_msg_id(headers.get("in-reply-to")),
        references=tuple(_MSG_ID_RE.findall(headers.get("references") or "")),
        from_addr=from_addr,
        from_name=from_name,
        to_addrs=_all_addresses(headers.get("to")),
        subject=_one_line(headers.get("subject") or ""),
        date=_parse_date(headers.get("date")),
        text_body=body,
        detection_headers=tuple(
            (name, _one_line(value))
            for name in DETECTION_HEADERS
            if (value := headers.get(name)) is not None
        ),
        truncated=body_cut,
    )


def _bounded(text: str, limits: MessageLimits, raw_cut: bool) -> tuple[str, bool]:
    """The text cut at the limit with the marker; a message whose bytes were cut gets the
    marker too (its text may stop mid-sentence)."""
    if len(text) > limits.max_body_chars:
        return text[: limits.max_body_chars].rstrip() + limits.cut_marker(), True
    if raw_cut:
        return text.rstrip() + limits.cut_marker(bytes_cut=True), True
    return text, False


class _Headers:
    """Header values as decoded text, modern parser first, compat32 when it fails."""

    def __init__(self, modern: Message, lenient: Message) -> None:
        self._modern = modern
        self._lenient = lenient

    def get(self, name: str) -> str | None:
        try:
            value = self._modern.get(name)
            return None if value is None else str(value)
        except Exception:  # policy.default raises on some malformed headers
            return self._get_lenient(name)

    def _get_lenient(self, name: str) -> str | None:
        value = self._lenient.get(name)
        if value is None:
            return None
        try:
            return str(email.header.make_header(email.header.decode_header(str(value))))
        except Exception:
            return str(value)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _first_msg_id(value: str | None) -> str | None:
    if not value:
        return None
    found = _MSG_ID_RE.search(value)
    if found:
        return found.group(0)
    bare = value.strip().split()
    # Some broken clients omit the angle brackets; keep the id comparable to well-formed ones.
    return f"<{bare[0]}>" if bare and "@" in bare[0] else None


def _first_address(value: str | None) -> tuple[str, str]:
    if not value:
        return "", ""
    name, addr = email.utils.parseaddr(value)
    return _one_line(name), addr.strip().lower()


def _all_addresses(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(addr.strip().lower() for _, addr in email.utils.getaddresses([value]) if addr)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" means "zone unknown": the value is UTC by RFC 5322 §3.3.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --- body ------------------------------------------------------------------------------------


def _text_body(message: Message, max_parts: int) -> str:
    plain: str | None = None
    html: str | None = None
    for index, part in enumerate(message.walk()):
        if index >= max_parts:
            break
        if part.is_multipart() or _is_attachment(part):
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and plain is None:
            plain = _decode_part(part)
        elif content_type == "text/html" and html is None:
            html = _decode_part(part)
    if plain is not None and plain.strip():
        return _normalise_newlines(plain)
    if html is not None:
        return html_to_text(html)
    return _normalise_newlines(plain or "")


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment"


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        text = str(part.get_payload() or "")
    else:
        text = decode_bytes(payload, part.get_content_charset())
    if part.get_content_type() == "text/plain" and _param(part, "format") == "flowed":
        # RFC 3676: soft line breaks end in a space; join them back into paragraphs.
        return unflow(text, delete_space=_param(part, "delsp") == "yes")
    return text


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    return value.strip().lower() if isinstance(value, str) else ""


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Decode body bytes by their declared charset; never raises (bad bytes become U+FFFD)."""
    label = (charset or "").strip().lower()
    if not label or label in ("us-ascii", "ascii"):
        # Undeclared or "ascii" 8-bit text is usually UTF-8, otherwise Windows-1252.
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("cp1252", errors="replace")
    codec = _CHARSET_ALIASES.get(label, label)
    try:
        return payload.decode(codec, errors="replace")
    except LookupError:  # unknown charset name
        return payload.decode("utf-8", errors="replace")


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _HTMLText(HTMLParser):
    _BLOCK_TAGS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
    )
    _SKIP_TAGS = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip_depth = 0
        self._quote_depth = 0  # nested <blockquote>: quoted history, shown as "> " lines

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP_TAGS:
            self._skip_depth += 1
        elif tag in self._BLOCK_TAGS:
            self._quote_depth += tag == "blockquote"
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in self._BLOCK_TAGS:
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            data = data.replace(_QUOTE_MARK, "")  # the marker is ours alone, even in hostile mail
            if self._quote_depth and data.strip():
                # Each quoted piece carries its depth; html_to_text turns it into "> ".
                data = _QUOTE_MARK * self._quote_depth + data.replace("\n", " ")
            self.chunks.append(data)


_QUOTE_MARK = "\ue000"  # a private-use character (not whitespace, removed from the input)
_QUOTE_MARKS = re.compile(_QUOTE_MARK + "+")


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML body: tags dropped, blocks on their own lines, text
    inside <blockquote> (quoted history) prefixed with ">" per level like a plain-text reply."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = (_quoted_line(line) for line in "".join(parser.chunks).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _quoted_line(line: str) -> str:
    words = " ".join(line.split())
    if _QUOTE_MARK not in words:
        return words
    depth = max(len(run) for run in _QUOTE_MARKS.findall(words))
    return ">" * depth + " " + " ".join(_QUOTE_MARKS.sub("", words).split())
