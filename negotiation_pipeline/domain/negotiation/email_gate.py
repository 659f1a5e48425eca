"""Validation gate: a deterministic check of every outgoing email before it is sent.

The gate reads the rendered text, not the template, so an edited template (or a tampered body)
that states a price we did not decide, addresses the wrong person, or promises something the
campaign does not offer is caught. A failing email is never sent; the negotiation escalates.

What an email may contain comes from the same EmailDecision the renderer used:
- money: only our offer, their ask shown as "your ask" (counter/lever emails), and the product
  value when the product is on the table; our offer must appear where we state one;
- names: the greeting addresses `greeting_name`; the influencer's first name appears;
- promises: no exclusivity unless the campaign requires it, no usage rights beyond the decision's
  tier, no future deals or guarantees;
- the scope lists every deliverable, and the body is not trivially short;
- our own rate is on the policy's rounding step (unless we agree at the amount they named);
- no paragraph repeats one of an earlier email in the thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from negotiation_pipeline.domain.enums import UsageRightsDuration
from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.emails import (
    SCOPE_KINDS,
    EmailDecision,
    OutgoingEmail,
    paragraph_fingerprints,
)


@dataclass(frozen=True)
class GateResult:
    passed: bool
    failures: tuple[str, ...]


_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_THOUSANDS = r"(?P<k>[ \t]?[kK](?![a-zA-Z]))?"
# Money is a number with a currency before it ("$1,500", "USD 900", "€900") or after it
# ("1,500 dollars", "2k USD"). Each pattern starts at a literal: a symbol class the regex engine
# scans for directly (the rest is case-insensitive, so the class itself is not), or a currency
# word, whose pattern only runs when the word can be in the text at all (see `_Text`).
# "US$1,500" is found at its "$" (same amount, same currency). "$" has a pattern of its own: a
# single literal is found much faster than a class, and "€" / "£" rarely appear at all.
_DOLLAR_PREFIXED = re.compile(rf"(?P<cur>\$)(?i:[ \t]?(?P<num>{_NUMBER}){_THOUSANDS})")
_EURO_POUND_PREFIXED = re.compile(rf"(?P<cur>[€£])(?i:[ \t]?(?P<num>{_NUMBER}){_THOUSANDS})")
_WORD_PREFIXED = re.compile(
    rf"\b(?P<cur>USD|EUR|GBP)[ \t]?(?P<num>{_NUMBER}){_THOUSANDS}", re.IGNORECASE
)
_PREFIX_WORDS = ("usd", "eur", "gbp")
_SUFFIXED = re.compile(
    rf"(?P<num>{_NUMBER})(?P<k>[ \t]?[kK])?[ \t]?"
    r"(?P<cur>USD|EUR|GBP|dollars?|euros?|pounds?|bucks)\b",
    re.IGNORECASE,
)
_SUFFIX_WORDS = (*_PREFIX_WORDS, "dollar", "euro", "pound", "buck")
_NON_USD = {"€", "£", "eur", "gbp", "euro", "euros", "pound", "pounds"}

_EXCLUSIVITY = re.compile(r"\bexclusiv(?:e|ity|ely)\b", re.IGNORECASE)
_FUTURE_PROMISES = re.compile(
    r"(?=[fglowpman])"  # the characters a match can start with (see `_DURATION`)
    r"(?:\bfuture\s+(?:deals?|campaigns?|partnerships?|collaborations?|projects?|work)\b"
    r"|\bguarantee[sd]?\b|\blong[-\s]term\s+partnership\b|\bongoing\s+partnership\b"
    r"|\b(?:more|another|next|additional)\s+(?:campaigns?|deals?)\s+(?:with|together|soon)\b"
    r"|\bwork\s+together\s+again\b|\bpromise\b)",
    re.IGNORECASE,
)
# The words each alternative above needs: the regex runs only when one set is all there.
_FUTURE_WORDS = (
    ("future",),
    ("guarantee",),
    ("long", "partnership"),
    ("ongoing", "partnership"),
    *(
        (first, then)
        for first in ("more", "another", "next", "additional")
        for then in ("campaign", "deal")
    ),
    ("together", "again"),
    ("promise",),
)
_FUTURE_VOCABULARY = tuple(dict.fromkeys(word for words in _FUTURE_WORDS for word in words))
_FUTURE_WORD_SETS = tuple(frozenset(words) for words in _FUTURE_WORDS)
# Only lines that talk about usage rights are checked for durations (payment terms such as
# "within 30 days" are not a usage promise).
_USAGE_WORDS = ("usage", "right", "licen")
_DURATION = re.compile(
    # A lookahead on the characters a match can start with: the regex engine passes every other
    # position at once instead of trying each alternative there.
    r"(?=[\dotsapfu])"
    r"(?:(?P<d30>\b30[-\s]days?\b|\bone\s+month\b)"
    r"|(?P<d60>\b60[-\s]days?\b|\btwo\s+months\b)"
    r"|(?P<d90>\b90[-\s]days?\b|\bthree\s+months\b)"
    r"|(?P<m6>\b(?:6|six)[-\s]months?\b)"
    r"|(?P<y1>\b(?:1|one)[-\s]years?\b|\b12[-\s]months\b|\ba\s+year\b)"
    r"|(?P<perpetual>\bperpetu(?:al|ity)\b|\bforever\b|\bunlimited\b))",
    re.IGNORECASE,
)
_DURATION_GROUPS: dict[str, UsageRightsDuration] = {
    "d30": UsageRightsDuration.DAYS_30,
    "d60": UsageRightsDuration.DAYS_60,
    "d90": UsageRightsDuration.DAYS_90,
    "m6": UsageRightsDuration.MONTHS_6,
    "y1": UsageRightsDuration.YEAR_1,
    "perpetual": UsageRightsDuration.PERPETUAL,
}
_RANK: dict[UsageRightsDuration, int] = {d: i for i, d in enumerate(UsageRightsDuration)}
_PERPETUAL_ANYWHERE = re.compile(r"\bperpetu(?:al|ity)\b|\bforever\b", re.IGNORECASE)


def _amount(number: str, thousands: str | None) -> Decimal | None:
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    if thousands and thousands.strip():
        value *= 1000
    return quantize_cents(value)


# Besides the two cases of a letter, re.IGNORECASE equates an ASCII letter only with these.
_ASCII_LETTER_FOLDS = ("\u0130", "\u0131", "\u017f", "\u212a")  # İ ı ſ K (Kelvin)


class _Text:
    """A text and its lowercase form, to rule a case-insensitive pattern out by cheap substring
    tests before running it. Exact: without one of `_ASCII_LETTER_FOLDS` in the text, every
    case-insensitive match of ASCII words shows up as those words in `lower()`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lowered = text.lower()
        self.folds = any(fold in text for fold in _ASCII_LETTER_FOLDS)

    def may_say(self, *words: str) -> bool:
        """Whether a match that contains every one of `words` (lowercase ASCII) may be here."""
        return self.folds or all(word in self.lowered for word in words)

    def may_say_any(self, words: tuple[str, ...]) -> bool:
        return self.folds or any(word in self.lowered for word in words)

    def may_say_all_of_one(
        self, vocabulary: tuple[str, ...], sets: tuple[frozenset[str], ...]
    ) -> bool:
        """`may_say(*words)` for some `words` in `sets` (all drawn from `vocabulary`): each
        word is looked up once, not once per set it is in."""
        if self.folds:
            return True
        present = {word for word in vocabulary if word in self.lowered}
        return bool(present) and any(words <= present for words in sets)

    def lines_that_may_say(self, words: tuple[str, ...]) -> list[str]:
        """The lines of the text whose lowercase form holds one of `words` (lowercase ASCII,
        no line breaks), in order. Without folds, lowering keeps every character where it was,
        so each occurrence of a word in the lowered text is on the line whose number is the
        count of "\n" before it, as long as every line break is "\n" or "\r\n" (a lone break
        character of another kind is only allowed as the very last character)."""
        lines = self.text.splitlines()
        if self.folds:
            return lines
        lowered = self.lowered
        found = set()
        for word in words:
            at = lowered.find(word)
            while at != -1:
                found.add(at)
                at = lowered.find(word, at + 1)
        if not found:
            return []
        if len(lines) != lowered.count("\n") + (not lowered.endswith("\n")):
            low_lines = lowered.splitlines()  # lowering never makes or removes a line break
            return [
                line
                for line, low in zip(lines, low_lines, strict=True)
                if any(word in low for word in words)
            ]
        return [lines[number] for number in sorted({lowered.count("\n", 0, at) for at in found})]


def money_mentions(text: str) -> list[tuple[Decimal, bool]]:
    """Every money amount in `text` as (amount, is_usd); "$1,500 USD" counts once."""
    return _money_in(_Text(text))


def _money_in(scanned: _Text) -> list[tuple[Decimal, bool]]:
    text = scanned.text
    patterns = [_DOLLAR_PREFIXED]
    if "€" in text or "£" in text:
        patterns.append(_EURO_POUND_PREFIXED)
    if scanned.may_say_any(_PREFIX_WORDS):
        patterns.append(_WORD_PREFIXED)
    if scanned.may_say_any(_SUFFIX_WORDS):
        patterns.append(_SUFFIXED)
    found: dict[int, tuple[Decimal, bool]] = {}
    for pattern in patterns:
        for m in pattern.finditer(text):
            start = m.start("num")
            amount = _amount(m.group("num"), m.group("k"))
            if amount is not None and start not in found:
                found[start] = (amount, m.group("cur").lower() not in _NON_USD)
    return [found[start] for start in sorted(found)]


@lru_cache(maxsize=256)  # the same few names are checked in every email of a thread
def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def _check_money(scanned: _Text, decision: EmailDecision) -> list[str]:
    failures = []
    allowed = decision.allowed_amounts()
    mentioned = _money_in(scanned)
    for amount, is_usd in mentioned:
        if not is_usd:
            failures.append(f"amount in a currency other than USD: {amount}")
        elif amount not in allowed:
            shown = ", ".join(format_usd(a) for a in sorted(allowed)) or "none"
            failures.append(f"amount {format_usd(amount)} is not one we decided (allowed: {shown})")
    stated = {amount for amount, _ in mentioned}
    for required in decision.required_amounts():
        if required not in stated:
            failures.append(f"our rate {format_usd(required)} is missing")
    return failures


def _check_names(body: str, decision: EmailDecision) -> list[str]:
    failures = []
    first_line = next((line for line in body.splitlines() if line.strip()), "")
    if not _word(decision.greeting_name.strip()).search(first_line):
        failures.append(f"greeting does not address {decision.greeting_name!r}: {first_line!r}")
    if not _word(decision.influencer_first_name).search(body):
        failures.append(f"influencer's first name {decision.influencer_first_name!r} is missing")
    return failures


def _check_promises(scanned: _Text, decision: EmailDecision) -> list[str]:
    failures = []
    body = scanned.text
    if (
        not decision.exclusivity_required
        and scanned.may_say("exclusiv")
        and (m := _EXCLUSIVITY.search(body))
    ):
        failures.append(f"promises exclusivity the campaign does not require: {m.group(0)!r}")
    if scanned.may_say_all_of_one(_FUTURE_VOCABULARY, _FUTURE_WORD_SETS) and (
        m := _FUTURE_PROMISES.search(body)
    ):
        failures.append(f"promises future deals or guarantees: {m.group(0)!r}")
    allowed_rank = _RANK[decision.usage_rights]
    for line in scanned.lines_that_may_say(_USAGE_WORDS):
        for m in _DURATION.finditer(line):
            if m.lastgroup and _RANK[_DURATION_GROUPS[m.lastgroup]] > allowed_rank:
                failures.append(f"usage rights beyond {decision.usage_rights.value!r}: {line!r}")
                break
    if (
        decision.usage_rights is not UsageRightsDuration.PERPETUAL
        and scanned.may_say_any(("perpetu", "forever"))
        and (m := _PERPETUAL_ANYWHERE.search(body))
    ):
        failures.append(f"perpetual rights are not on offer: {m.group(0)!r}")
    return failures


def _check_scope(body: str, decision: EmailDecision) -> list[str]:
    if decision.kind not in SCOPE_KINDS:
        return []
    lowered = body.lower()
    return [
        f"deliverable {item!r} is missing from the scope"
        for item in decision.deliverables
        if item.lower() not in lowered
    ]


def _check_rounding(decision: EmailDecision) -> list[str]:
    step, rate = decision.rounding_step, decision.rate
    if step is None or rate is None:  # no new amount of ours (a restated or agreed one)
        return []
    if rate / step != (rate / step).to_integral_value():
        return [f"our rate {format_usd(rate)} is not rounded to the {format_usd(step)} step"]
    return []


def _check_repeats(body: str, decision: EmailDecision) -> list[str]:
    if not decision.said:
        return []
    repeated = [f for f in paragraph_fingerprints(body) if f in decision.said]
    if not repeated:
        return []
    return [f"{len(repeated)} paragraph(s) repeat an earlier email of this thread"]


def validate_email(email: OutgoingEmail, decision: EmailDecision) -> GateResult:
    body = email.body
    failures: list[str] = []
    if len(body.strip()) < decision.min_length:
        failures.append(f"body is shorter than {decision.min_length} characters")
    if email.kind is not decision.kind:
        failures.append(f"email kind {email.kind.value} does not match {decision.kind.value}")
    if "\n" in email.subject or "\r" in email.subject or not email.subject.strip():
        failures.append("subject is empty or spans lines")
    with_subject = _Text(body + "\n" + email.subject)
    failures += _check_money(with_subject, decision)
    failures += _check_names(body, decision)
    failures += _check_promises(with_subject, decision)
    failures += _check_scope(body, decision)
    failures += _check_rounding(decision)
    failures += _check_repeats(body, decision)
    return GateResult(passed=not failures, failures=tuple(failures))
