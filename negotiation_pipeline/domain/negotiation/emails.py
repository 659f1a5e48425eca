"""Outgoing emails: what each email must say (EmailDecision) and rendering it from templates.

Templates are editable files in `config/templates/` (loaded by engine_config, handed in as
strings). Each file starts with one `Subject: ...` line, then a blank line, then the body.

Safety: templates run in a Jinja2 SandboxedEnvironment with StrictUndefined. Anything that
came from an influencer (names, display names, agency names) is passed as DATA in the render
context and never concatenated into template source, so "{{ 7*7 }}" in a name stays literal.
Header values (subject, recipient) are stripped of CR/LF so a reply cannot inject headers.

No paragraph repeats across our emails in one thread: templates offer variants through
`pick(block, n)` (the first variant this thread has not used yet, or -1 when all are used) and
`once(block)`; the variants used and a fingerprint of every paragraph go back on the rendered
email (`said`), the engine keeps them on the negotiation, and the gate refuses a repeat.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from jinja2 import DictLoader, StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from negotiation_pipeline.domain import record_codec
from negotiation_pipeline.domain.enums import CounterpartyType, Platform, UsageRightsDuration
from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.policy import Lever, QuestionTopic


class EmailKind(StrEnum):
    OPENING = "opening_offer"
    COUNTER = "counter_offer"
    LEVER = "lever_offer"
    ANSWER = "question_answer"
    AGREEMENT = "agreement_confirmation"
    EXIT = "polite_exit"
    FOLLOW_UP = "follow_up"
    DECLINE = "decline_close"

    @property
    def template_file(self) -> str:
        return f"{self.value}.txt.j2"


# Kinds whose body lists the scope of work (deliverables, usage rights, rate).
SCOPE_KINDS = frozenset(
    {EmailKind.OPENING, EmailKind.COUNTER, EmailKind.LEVER, EmailKind.AGREEMENT}
)


class TemplateError(ValueError):
    """A template is missing or malformed; the message names the template file."""


_CRLF = re.compile(r"[\r\n\x00]+")
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_SPACES = re.compile(r"[ \t]+")


def header_safe(value: str) -> str:
    """One line, no CR/LF/NUL: safe to put in a mail header."""
    if value.isprintable() and "  " not in value:
        return value.strip()  # no CR, LF, NUL, tab or double space: nothing below would change
    return _SPACES.sub(" ", _CRLF.sub(" ", value)).strip()


@lru_cache(maxsize=1024)  # a campaign's few scenario texts, split for every email
def split_deliverables(package: str) -> tuple[str, ...]:
    """ "1 Reel, 2 Stories" or one item per line → ("1 Reel", "2 Stories")."""
    items = re.split(r"[\n;,]+", package)
    return tuple(item.strip().lstrip("-•* ").strip() for item in items if item.strip(" -•*\t"))


def usage_rights_text(duration: UsageRightsDuration) -> str:
    if duration is UsageRightsDuration.NOT_REQUIRED:
        return "none (organic posting on your channel only)"
    if duration is UsageRightsDuration.PERPETUAL:
        return "perpetual"
    return duration.value


def usage_phrase(duration: UsageRightsDuration) -> str:
    """ "with 90 days of usage rights", for a sentence about the package."""
    if duration is UsageRightsDuration.NOT_REQUIRED:
        return "with no usage rights (organic posting only)"
    if duration is UsageRightsDuration.PERPETUAL:
        return "with perpetual usage rights"
    return f"with {duration.value} of usage rights"


def possessive(name: str) -> str:
    """ "Glow Labs" → "Glow Labs'", "Jane" → "Jane's"."""
    text = name.strip()
    return f"{text}'" if text.lower().endswith("s") else f"{text}'s"


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@lru_cache(maxsize=16)  # the gate fingerprints the body the renderer just fingerprinted
def paragraph_fingerprints(body: str) -> tuple[str, ...]:
    """Fingerprints of the body's paragraphs between the greeting and the signature (those two
    are the same in every email by design); whitespace and case do not matter."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(body.strip()) if p.strip()]
    inner = paragraphs[1:-1]
    return tuple(
        "p:" + hashlib.sha256(" ".join(p.lower().split()).encode()).hexdigest()[:16] for p in inner
    )


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str
    kind: EmailKind
    to_name: str = ""  # display name for the To: header
    said: tuple[str, ...] = ()  # variants used and paragraph fingerprints (see module docstring)

    def to_dict(self) -> dict[str, Any]:
        return record_codec.to_dict(self)


@dataclass(frozen=True)
class EmailDecision:
    """Everything one outgoing email is meant to say. The renderer turns it into text; the gate
    (gate.py) checks the text against it, so both always agree on what is allowed."""

    kind: EmailKind
    to: str
    greeting_name: str  # who we address: the influencer, or their manager
    influencer_name: str
    client_name: str
    platform: Platform
    rate: Decimal | None  # our offer (or the agreed rate); the only price we state as ours
    their_ask: Decimal | None  # shown as "your ask" in counter and lever emails only
    deliverables: tuple[str, ...]
    usage_rights: UsageRightsDuration  # the most we ask for in this email
    payment_terms: str
    sender_name: str
    sender_title: str
    sender_company: str
    min_length: int
    counterparty: CounterpartyType = CounterpartyType.DIRECT_INFLUENCER
    agency_name: str | None = None
    lever: Lever | None = None
    product_description: str | None = None  # set when the product is on the table
    product_value: Decimal | None = None
    exclusivity_required: bool = False
    content_approval_required: bool = False
    revision_rounds: int = 0
    publish_date: date | None = None
    timeline: str | None = None
    topics: tuple[QuestionTopic, ...] = ()
    final_offer: bool = False
    to_name: str = ""
    said: frozenset[str] = frozenset()  # what earlier emails of the thread used
    rounding_step: Decimal | None = None  # a new rate of ours must be a multiple of it
    offer_moved: bool = True  # a counter that raises our offer (False: our offer stands)
    door_open: bool = True  # a decline close says they may come back
    earlier_deliverables: tuple[str, ...] = ()  # the scope a lever replaces

    @property
    def influencer_first_name(self) -> str:
        return first_name(self.influencer_name)

    def allowed_amounts(self) -> frozenset[Decimal]:
        amounts = {self.rate, self.product_value}
        if self.kind in (EmailKind.COUNTER, EmailKind.LEVER):
            amounts.add(self.their_ask)
        return frozenset(quantize_cents(a) for a in amounts if a is not None)

    def required_amounts(self) -> frozenset[Decimal]:
        if self.rate is None or self.kind in (EmailKind.EXIT, EmailKind.DECLINE):
            return frozenset()
        return frozenset({quantize_cents(self.rate)})


def first_name(full_name: str) -> str:
    parts = header_safe(full_name).split()
    return parts[0] if parts else full_name


class _Variants:
    """`pick` / `once` for one render: remembers what this thread used before and now."""

    def __init__(self, said: frozenset[str]) -> None:
        self._said = said
        self.used: list[str] = []

    def pick(self, block: str, count: int) -> int:
        for index in range(count):
            key = f"v:{block}:{index}"
            if key not in self._said and key not in self.used:
                self.used.append(key)
                return index
        return -1

    def once(self, block: str) -> bool:
        return self.pick(block, 1) == 0


def _context(decision: EmailDecision, variants: _Variants) -> dict[str, Any]:
    """Render context: plain data only. Money is pre-formatted with format_usd."""
    pick: Callable[[str, int], int] = variants.pick
    once: Callable[[str], bool] = variants.once
    return {
        "pick": pick,
        "once": once,
        "door_open": decision.door_open,
        "offer_moved": decision.offer_moved,
        "earlier_deliverables": list(decision.earlier_deliverables),
        "greeting_name": header_safe(decision.greeting_name),
        "first_name": decision.influencer_first_name,
        "influencer_name": header_safe(decision.influencer_name),
        "client_name": decision.client_name,
        "platform": decision.platform.value.capitalize()
        .replace("Tiktok", "TikTok")
        .replace("Youtube", "YouTube"),
        "rate": None if decision.rate is None else format_usd(decision.rate),
        "their_ask": None if decision.their_ask is None else format_usd(decision.their_ask),
        "deliverables": list(decision.deliverables),
        "usage_rights": usage_rights_text(decision.usage_rights),
        "usage_rights_none": decision.usage_rights is UsageRightsDuration.NOT_REQUIRED,
        "usage_phrase": usage_phrase(decision.usage_rights),
        "payment_terms": decision.payment_terms,
        "sender_name": decision.sender_name,
        "sender_title": decision.sender_title,
        "sender_company": decision.sender_company,
        "is_manager": decision.counterparty is CounterpartyType.TALENT_MANAGER,
        "agency_name": decision.agency_name,
        "lever": None if decision.lever is None else decision.lever.value,
        "product_description": decision.product_description,
        "product_value": None
        if decision.product_value is None
        else format_usd(decision.product_value),
        "exclusivity_required": decision.exclusivity_required,
        "content_approval_required": decision.content_approval_required,
        "revision_rounds": decision.revision_rounds,
        "publish_date": None
        if decision.publish_date is None
        else decision.publish_date.strftime("%B %-d, %Y"),
        "timeline": decision.timeline,
        "topics": [t.value for t in decision.topics],
        "final_offer": decision.final_offer,
    }


class _TemplateEnvironment(SandboxedEnvironment):
    """The sandbox, with each template's globals held as one plain dict.

    Jinja's default layers a template's globals over the environment's in a ChainMap so that
    later edits to the environment show through; every render and every `include` copies that
    mapping, and a ChainMap copies slowly. Nothing edits these globals once the templates are
    compiled (the environment never leaves `from_sources`), so a snapshot reads the same."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


@dataclass(frozen=True)
class _CompiledTemplate:
    subject: Template
    body: Template


class EmailTemplates:
    """Compiled templates, one per EmailKind. Build with `from_sources` (no file access here)."""

    def __init__(self, compiled: Mapping[EmailKind, _CompiledTemplate]) -> None:
        self._compiled = dict(compiled)

    @classmethod
    def from_sources(cls, sources: Mapping[str, str]) -> EmailTemplates:
        """`sources` maps file names ("opening_offer.txt.j2") to template text. Names starting
        with "_" are partials (no subject line) that other templates may `{% include %}`."""
        bodies: dict[str, str] = {}
        subjects: dict[str, str] = {}
        for name, text in sources.items():
            if name.startswith("_"):
                bodies[name] = text
                continue
            first_line, _, rest = text.partition("\n")
            if not first_line.startswith("Subject:"):
                raise TemplateError(f"template {name} must start with a 'Subject: ...' line")
            subjects[name] = first_line.removeprefix("Subject:").strip()
            bodies[name] = rest.lstrip("\n")
        env = _TemplateEnvironment(
            loader=DictLoader(bodies),
            # A plain dict as the template cache: the few templates are never evicted, so an
            # `include` finds its partial without the LRU cache's bookkeeping.
            cache_size=-1,
            auto_reload=False,  # sources are fixed at load time; skip per-render up-to-date checks
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=True,  # partials end with a newline that `include` must keep
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["usd"] = format_usd
        env.filters["possessive"] = possessive
        for name in bodies:
            _compile(env, name, bodies[name])
        compiled: dict[EmailKind, _CompiledTemplate] = {}
        for kind in EmailKind:
            name = kind.template_file
            if name not in subjects:
                raise TemplateError(f"template {name} is missing")
            compiled[kind] = _CompiledTemplate(
                subject=_compile(env, name, subjects[name]),
                body=_compile(env, name, bodies[name]),
            )
        return cls(compiled)

    def render(self, decision: EmailDecision) -> OutgoingEmail:
        template = self._compiled[decision.kind]
        variants = _Variants(decision.said)
        context = _context(decision, variants)
        subject = header_safe(template.subject.render(context))
        body = _BLANK_RUNS.sub("\n\n", template.body.render(context)).strip() + "\n"
        return OutgoingEmail(
            to=header_safe(decision.to),
            subject=subject,
            body=body,
            kind=decision.kind,
            to_name=header_safe(decision.to_name),
            said=(*variants.used, *paragraph_fingerprints(body)),
        )


def _compile(env: _TemplateEnvironment, name: str, source: str) -> Template:
    """Compile `source` (loaded as data by the caller); errors name the template file."""
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template {name} line {exc.lineno}: {exc.message}") from exc


def render_email(templates: EmailTemplates, decision: EmailDecision) -> OutgoingEmail:
    return templates.render(decision)
