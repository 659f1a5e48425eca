"""Threading rules: our Message-IDs, reply subjects and headers, and matching a reply to a thread.

Pure functions (no I/O), so the pipeline, the simulator and the tests share one set of rules.
"""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from typing import Protocol

from negotiation_pipeline.integrations.mail.mime import ParsedMessage

# RFC 5322 leaves References unbounded; long negotiation threads keep the root and the newest.
MAX_REFERENCES = 20

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_DOMAIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
# Reply/forward prefixes in the languages our influencers write in; "Re[2]:" and "RE :" too.
_REPLY_PREFIX = r"(?:re|aw|sv|antw|odp|ref)"
_FORWARD_PREFIX = r"(?:fwd?|wg|tr|rv|enc)"
_PREFIX_RE = re.compile(
    rf"^\s*(?:{_REPLY_PREFIX}|{_FORWARD_PREFIX})\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE
)
_REPLY_ONLY_PREFIX_RE = re.compile(
    rf"^\s*{_REPLY_PREFIX}\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE
)
_AUTO_REPLY_SUBJECT_RE = re.compile(
    r"out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response"
    r"|abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[aá]tica"
    r"|undeliverable|delivery status notification|mail delivery (?:failed|subsystem)"
    r"|returned mail|on vacation|vacation reply",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
_BULK_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk", "list"})


class ThreadingError(ValueError):
    """An input to a threading rule is not usable (bad domain, negative sequence...)."""


def make_message_id(thread_id: str, sequence: int, domain: str) -> str:
    """The Message-ID of email number `sequence` in negotiation `thread_id`.

    Deterministic: the same inputs always give the same id. That is what lets a restarted
    process ask the Sent folder "did I already send this?" before sending it again.
    """
    if not thread_id or not thread_id.strip():
        raise ThreadingError("thread_id must not be empty")
    if sequence < 0:
        raise ThreadingError(f"sequence must be >= 0, got {sequence}")
    if not _DOMAIN_RE.match(domain):
        raise ThreadingError(f"not a usable Message-ID domain: {domain!r}")
    readable = _UNSAFE_ID_CHARS.sub("-", thread_id.strip())[:64].strip("-") or "thread"
    # The digest keeps ids distinct when sanitising maps two thread ids to the same text.
    digest = hashlib.sha256(f"{thread_id}\x00{sequence}".encode()).hexdigest()[:12]
    return f"<neg.{readable}.{sequence}.{digest}@{domain.lower()}>"


def normalize_subject(subject: str) -> str:
    """Subject without Re:/Fwd:/AW:/Fw: prefixes, case-folded, whitespace collapsed."""
    text = " ".join(subject.split())
    while True:
        stripped = _PREFIX_RE.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip().casefold()


def reply_subject(subject: str) -> str:
    """Subject for our reply: exactly one "Re: " in front ("Re: Re: x" becomes "Re: x")."""
    text = " ".join(subject.split())
    while True:
        stripped = _REPLY_ONLY_PREFIX_RE.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return f"Re: {text}" if text else "Re:"


def references_for(parent_refs: Sequence[str], parent_id: str | None) -> tuple[str, ...]:
    """References for a reply: the parent's References then the parent's Message-ID.

    Duplicates are dropped; a long chain keeps the first id (thread root) and the newest ones.
    """
    chain: list[str] = []
    for ref in (*parent_refs, *((parent_id,) if parent_id else ())):
        if ref and ref not in chain:
            chain.append(ref)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return tuple(chain)


def bare_address(address: str) -> str:
    """ "Name <Addr@X>" or "Addr@X" → "addr@x" (the only form addresses are compared in)."""
    return email.utils.parseaddr(address)[1].strip().lower()


def is_own_message(parsed: ParsedMessage, agent_addresses: Iterable[str]) -> bool:
    """True when the message was sent by one of our agent addresses (compared as bare addresses,
    case-insensitively; `agent_addresses` may be given as "Name <addr>" too)."""
    if not parsed.from_addr:
        return False
    own = {bare_address(address) for address in agent_addresses}
    own.discard("")
    return parsed.from_addr in own


# The header block is at the top; more than this is not a header block a client writes.
_HEADER_BLOCK_MAX_BYTES = 262_144
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")
# "Name <addr>" or "addr" without a character that could start a second address, a group, a
# comment or a quoted string: unambiguous without the (slow) full address parser.
_ADDR_CHAR = r'[^<>@,;:"\\()\[\]\s]'
_NAME_CHAR = r'[^<>@,;:"\\()\[\]]'
_PLAIN_FROM_RE = re.compile(
    rf"^(?:{_NAME_CHAR}*<({_ADDR_CHAR}+@{_ADDR_CHAR}+)>|({_ADDR_CHAR}+@{_ADDR_CHAR}+))$"
)
_AMBIGUOUS_ADDRESS_DEFECTS = (
    email.errors.InvalidHeaderDefect,
    email.errors.HeaderMissingRequiredValue,
)


def from_header_problem(raw: bytes, from_addr: str) -> str | None:
    """Why the From header cannot name one sender beyond doubt, or None when it does.

    A sender check is only as good as the address it reads. Headers such as
    `jane@gmail.com <evil@x.com>`, two From headers or two addresses in one are read
    differently by different programs (a receiving server's DMARC check may read evil@x.com
    where a lenient parser reads jane@gmail.com), so they never count as anybody's reply.
    `from_addr` is the sender the message was parsed with (bare, lower-case).
    """
    head = raw[:_HEADER_BLOCK_MAX_BYTES]
    end = _HEADER_END_RE.search(head)
    if end is not None:
        head = head[: end.start()]
    try:
        headers = HeaderParser(policy=email.policy.compat32).parsestr(
            head.decode("utf-8", errors="replace"), headersonly=True
        )
        values = [str(v) for v in headers.get_all("From") or []]
    except Exception as exc:  # a header block the parser cannot take names nobody for sure
        return f"the From header cannot be read ({type(exc).__name__})"
    if len(values) != 1:
        return f"the message has {len(values)} From headers"
    unfolded = " ".join(values[0].split())
    # Encoded words (=?charset?...?=) are decoded by the full parser, even inside an address.
    plain = None if "=?" in unfolded else _PLAIN_FROM_RE.match(unfolded)
    found = "" if plain is None else (plain.group(1) or plain.group(2)).lower()
    local = found.rsplit("@", 1)[0]
    # The common case, decided without the slow address parser; a dot-atom the parser would
    # flag (leading, trailing or doubled dots) goes to the parser.
    if plain is not None and not (local.startswith(".") or local.endswith(".") or ".." in local):
        return None if found == from_addr else f"the From header is ambiguous: {unfolded!r}"
    return parsed_from_problem(values[0], from_addr)


def parsed_from_problem(value: str, from_addr: str) -> str | None:
    """`from_header_problem` for one From value, by the full RFC 5322 address parser."""
    shown = " ".join(value.split())[:200]
    try:
        header = email.policy.default.header_factory("From", value)
        addresses = header.addresses
        defects = [d for d in header.defects if isinstance(d, _AMBIGUOUS_ADDRESS_DEFECTS)]
    except Exception as exc:  # a header the parser cannot take is not a trustworthy sender
        return f"the From header cannot be read ({type(exc).__name__})"
    if defects or len(addresses) != 1:
        return f"the From header does not name exactly one address: {shown!r}"
    if addresses[0].addr_spec.strip().lower() != from_addr:
        return f"the From header is ambiguous: {shown!r}"
    return None


def auto_reply_reason(parsed: ParsedMessage) -> str | None:
    """Why this message looks machine-generated (out-of-office, bounce, bulk), or None."""
    auto_submitted = (parsed.header("auto-submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond"):
        if parsed.header(name) is not None:
            return f"{name} header present"
    precedence = (parsed.header("precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if parsed.header("x-failed-recipients") is not None:
        return "bounce (X-Failed-Recipients)"
    if parsed.from_addr.startswith(_BOUNCE_SENDERS):
        return f"bounce sender {parsed.from_addr}"
    if _AUTO_REPLY_SUBJECT_RE.search(parsed.subject):
        return f"auto-reply subject: {parsed.subject!r}"
    return None


def is_auto_reply(parsed: ParsedMessage) -> bool:
    return auto_reply_reason(parsed) is not None


class ThreadLookup(Protocol):
    """What matching needs to know about the threads we started (the store implements it)."""

    def thread_for_message_id(self, message_id: str) -> str | None:
        """Thread id of the negotiation whose email carried this Message-ID (ours or theirs)."""
        ...

    def thread_for_counterparty(self, address: str, normalized_subject: str) -> str | None:
        """Thread id of an open negotiation with this bare address and normalized subject."""
        ...


def match_reply(parsed: ParsedMessage, lookup: ThreadLookup) -> str | None:
    """Thread id for an incoming reply: In-Reply-To, then References newest first, then
    sender address + normalized subject. None when nothing matches."""
    if parsed.in_reply_to:
        thread_id = lookup.thread_for_message_id(parsed.in_reply_to)
        if thread_id is not None:
            return thread_id
    for reference in reversed(parsed.references):
        thread_id = lookup.thread_for_message_id(reference)
        if thread_id is not None:
            return thread_id
    if parsed.from_addr:
        return lookup.thread_for_counterparty(parsed.from_addr, normalize_subject(parsed.subject))
    return None


@dataclass
class InMemoryThreadIndex:
    """A ThreadLookup held in dicts: for the simulator, the sandbox and tests."""

    by_message_id: dict[str, str] = field(default_factory=dict)
    by_counterparty: dict[tuple[str, str], str] = field(default_factory=dict)

    def remember(
        self, thread_id: str, message_id: str, counterparty: str | None = None, subject: str = ""
    ) -> None:
        self.by_message_id[message_id] = thread_id
        if counterparty:
            key = (bare_address(counterparty), normalize_subject(subject))
            self.by_counterparty[key] = thread_id

    def thread_for_message_id(self, message_id: str) -> str | None:
        return self.by_message_id.get(message_id)

    def thread_for_counterparty(self, address: str, normalized_subject: str) -> str | None:
        return self.by_counterparty.get((bare_address(address), normalized_subject))
