"""Find money amounts in the new text of a reply and pick the one the sender proposes now.

Only amounts written as money count: a currency sign or code ("$1,500", "USD 3,250", "900 EUR",
"1500 dollars"), a k-suffix ("1.5k", "2K") or a bare number right after a proposal cue ("I could
do 1500"). Phone numbers are masked first; audience counts ("120k followers"), percentages,
deliverable counts ("2 reels"), dates and times are skipped. Each amount is weighed by the words
around it: "could do", "would need", "how about" point at a proposal; "usually", "last time",
"your offer" point at a reference to some other number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

DEFAULT_CURRENCY = "USD"
_THOUSAND = Decimal(1000)

_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_K = r"(?:\s?(?P<k>[kK])(?![a-zA-Z]))?"
_CODE = r"(?P<code>usd|eur|gbp|cad|aud|dollars?|bucks|euros?|pounds?|quid)"

_SYMBOL_FIRST = re.compile(
    r"(?P<sym>(?<![a-z])(?:us|ca|c|au|a)\$|\$|€|£)\s?" + _NUM + _K + r"(?:\s?" + _CODE + r"\b)?",
)
_CODE_FIRST = re.compile(r"\b(?P<code>usd|eur|gbp|cad|aud)\s?\$?" + _NUM + _K)
_CODE_AFTER = re.compile(r"(?<![\w.,$€£])" + _NUM + _K + r"\s?(?:" + _CODE + r"\b|(?P<sym>€|£))")
_K_ONLY = re.compile(r"(?<![\w.,$€£/:])" + _NUM + r"\s?(?P<k>[kK])(?![a-zA-Z])")
# A bare number ("could do 1500") is money only right after a proposal cue.
_BARE_NUMBER = re.compile(
    r"(?<![\w.,$€£/:])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{2,6}(?:\.\d{1,2})?)(?![\d,.]?\d)"
)
_CUE_BEFORE_BARE = re.compile(
    r"(?:could do|can do|would do|could go|can go|'d need|would need|need at least|needs?|"
    r"(?:rate|fee|price)[^.!?\n\d$€£]{0,30}?\b(?:is|would be|will be|of)|charge|"
    r"(?:lowest|least|best|minimum) (?:i|we) (?:can|could) (?:go|do)(?: is)?|"
    r"how about|what about|meet (?:you )?(?:in the middle )?at|settle (?:at|on|for)|"
    r"do it for|do this for|do that for|go as low as|come down to|at least|minimum is|"
    r"ask is|asking|looking for|bump (?:it )?(?:up )?to|increase (?:it )?to|"
    r"(?:you|u) (?:do|go)|we do|go with|move forward at|agree(?:d)? (?:on|at|to))"
    r"\s+(?:it\s+)?(?:for\s+|at\s+|to\s+|around\s+|about\s+)?$"
)
_CUE_WINDOW = 45
# No fee has more than 12 digits before the point; longer runs are ids or noise, and as Decimals
# they overflowed the "k" multiplication or could not be rounded to cents downstream.
_MAX_WHOLE_DIGITS = 12
# An amount glued to more digits, letters or an address is part of something else:
# "RFC 2046, $5.1.5" (a section number), "<…$8752e060$56104586@oxy.edu>" (a Message-ID in a
# bounce). Found by the CPython email corpus (tests/robustness/test_mime_corpus.py).
_NOT_AN_AMOUNT_AFTER = re.compile(r"[.,]?\d|@|\w")

# Masked before scanning so their digits never look like amounts.
_PHONE = re.compile(
    r"(?<![\w$€£,.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?!\d)"
)
_NOT_MONEY_AFTER = re.compile(
    r"\s?(?:%|percent|\+?\s?(?:followers|follower|subs\b|subscribers|views|view\b|viewers|"
    r"impressions|likes|plays|streams|reach|fans|members|downloads|listeners|people|accounts|"
    r"comments|shares|saves|engagements?|clicks|reels?\b|posts?\b|stor(?:y|ies)|videos?\b|"
    r"tiktoks?|shorts?\b|days?\b|weeks?\b|months?\b|years?\b|hours?\b|hrs?\b|mins?\b|minutes|"
    r"rounds?\b|revisions?\b|times\b|pieces?\b|slides?\b|frames?\b|links?\b|deliverables?|"
    r"st\b|nd\b|rd\b|th\b|am\b|pm\b|[/:]\d))",
)
_AUDIENCE_AFTER = re.compile(
    r"\s?\+?\s?(?:followers|follower|subs\b|subscribers|views|viewers|impressions|likes|plays|"
    r"streams|reach|fans|members|downloads|listeners|monthly|on (?:ig|insta|instagram|tiktok|"
    r"youtube|yt))",
)
_MONTH_BEFORE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+$|"
    r"(?:in|by|of|since|until|before|after|early|late|mid|end of)\s+$",
)

# Words around an amount. Weights: positive = proposed now, negative = a reference to another one.
_PROPOSAL_BEFORE = re.compile(
    r"(?:could do|can do|would do|could go|can go|could meet|can meet|'d need|would need|"
    r"needs?|(?:rate|fee|price)[^.!?\n\d$€£]{0,30}?\b(?:is|would be|will be)|would be|"
    r"how about|what about|meet (?:you )?"
    r"(?:in the middle )?at|settle|do it for|do this for|go as low as|come down to|"
    r"lowest i can (?:go|do)|best i can do|at least|minimum|bottom line|final|"
    r"would (?:you|u) (?:be able to )?do|could (?:you|u) (?:do|go|meet)|"
    r"can (?:you|u) (?:do|go|meet)|can we do|"
    r"could we do|bump|increase|counter|propose|asking|ask is|looking for|i'?d want|"
    r"i want|i charge|quote|come in at|land at|make it|go with|move forward at|"
    r"for you|instead|if you can|if you could|i'?d do|i'?ll do|i would do|i will do)"
    r"\b[^.!?\n]{0,25}$",
)
# Someone else's number, usually ours: "your $800 offer", "you offered $800", "$800 is too low".
_OURS_BEFORE = re.compile(
    r"(?:your|you offered|offered|you mentioned|you proposed|you quoted|you sent|budget of|"
    r"instead of|rather than|up from|down from|than)\b[^.!?\n]{0,30}$",
)
_OURS_AFTER = re.compile(
    r"^[^.!?\n]{0,20}?\b(?:offer|offered|you (?:offered|mentioned|proposed|sent|quoted)|"
    r"is (?:too |a bit |a little |pretty |quite |way )?(?:low|below|under)|"
    r"(?:is|was)n'?t enough|is not enough|doesn'?t work|won'?t work|does not work|"
    r"is lower|seems low|feels low|is a little low|is on the low side)\b",
)
# The sender's habitual or past rate: their ask when nothing else is said, outranked otherwise.
_HABIT_BEFORE = re.compile(
    r"(?:usually|normally|typically|generally|standard|last time|previously|in the past|"
    r"used to|before|was|got paid|other brands|brands pay|went for)\b[^.!?\n]{0,30}$",
)
_HABIT_AFTER = re.compile(
    r"^[^.!?\n]{0,20}?\b(?:usually|normally|typically|last time|previously|before|"
    r"in the past)\b",
)
_ACCEPT_AFTER = re.compile(
    r"^[^.!?\n]{0,25}?\b(?:works\b|work (?:for|with) (?:me|us)|is fine|is good|is great|"
    r"sounds? (?:good|great|fair|perfect)|"
    r"is perfect|is fair|it is|deal\b|confirmed|agreed|i accept|we accept)",
)
_ACCEPT_BEFORE = re.compile(
    r"(?:deal at|agreed at|agree to|accept|happy with|fine with|okay with|ok with|good with|"
    r"confirm(?:ing)?|(?:happy|glad|ready|excited|good) to (?:move forward|proceed|go ahead|"
    r"confirm|lock (?:it|this) in)(?: at| with| for)?)\s+(?:the\s+)?$",
)
_SENTENCE_BREAK = re.compile(r"[.!?\n](?!\d)")

_CURRENCY_BY_MARK = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "buck": "USD",
    "bucks": "USD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "ca$": "CAD",
    "c$": "CAD",
    "cad": "CAD",
    "au$": "AUD",
    "a$": "AUD",
    "aud": "AUD",
}

_WINDOW_BEFORE = 60
_WINDOW_AFTER = 40


@dataclass(frozen=True)
class MoneyMention:
    """One amount written as money, with what the words around it say about it."""

    amount: Decimal
    currency: str
    start: int
    end: int
    proposed: bool  # a proposal cue ("could do", "would need", "how about") points at it
    names_ours: bool  # it names our number ("your $800 offer", "$800 is too low")
    habitual: bool  # their usual or past rate ("I usually get $2,200", "last time")
    accepted: bool  # an acceptance cue is attached ("$500 works for me")

    @property
    def weight(self) -> float:
        """How strongly this amount reads as what the sender proposes now."""
        score = 1.0
        score += 2.0 if self.proposed else 0.0
        score += 1.0 if self.accepted else 0.0
        score -= 1.5 if self.habitual else 0.0
        score -= 3.0 if self.names_ours else 0.0
        return score

    @property
    def only_names_ours(self) -> bool:
        return self.names_ours and not self.proposed and not self.accepted


# Lowercases ASCII only, so every position in the folded text matches the original.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_DIGIT = re.compile(r"\d")


def fold_case(text: str) -> str:
    """ASCII-lowercase `text` keeping its length (patterns here are written in lowercase)."""
    return text.translate(_ASCII_LOWER)


def mask_phone_numbers(text: str) -> str:
    """Blank out phone numbers (same length, so positions still line up)."""
    if not _DIGIT.search(text):
        return text
    return _PHONE.sub(lambda m: " " * len(m.group(0)), text)


def find_money_mentions(text: str) -> list[MoneyMention]:
    """Every amount written as money in `text`, in reading order (positions index `text`)."""
    if not _DIGIT.search(text):
        return []
    text = mask_phone_numbers(fold_case(text))
    spans: list[tuple[int, int, Decimal, str]] = []
    # Characters already inside a found amount: a per-character mask keeps the overlap check
    # linear (comparing with every earlier span took minutes on a body of 50,000 "1k"s).
    taken = bytearray(len(text))
    for pattern in (_SYMBOL_FIRST, _CODE_FIRST, _CODE_AFTER, _K_ONLY, _BARE_NUMBER):
        bare = pattern is _BARE_NUMBER
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            if bare and not _CUE_BEFORE_BARE.search(text[max(0, start - _CUE_WINDOW) : start]):
                continue
            parsed = _parse_match(match, text, bare)
            if parsed is not None:
                spans.append((start, end, parsed[0], parsed[1]))
                taken[start:end] = b"\x01" * (end - start)
    spans.sort(key=lambda span: span[0])
    return [_describe(text, start, end, amount, currency) for start, end, amount, currency in spans]


def proposed_amount(mentions: list[MoneyMention]) -> MoneyMention | None:
    """The amount the sender proposes now: the best-weighted one, the later one on a tie.

    An amount that only refers to someone else's number ("your $800 offer") is never chosen
    when it stands alone; a habitual rate ("I usually get $2,200") is, since it is their ask.
    """
    candidates = [m for m in mentions if not m.only_names_ours]
    if not candidates:
        return None
    best = candidates[0]
    for mention in candidates[1:]:
        if mention.weight >= best.weight:
            best = mention
    return best


def _parse_match(match: re.Match[str], text: str, bare: bool) -> tuple[Decimal, str] | None:
    groups = match.groupdict()
    digits = groups["num"].replace(",", "")
    if len(digits.partition(".")[0]) > _MAX_WHOLE_DIGITS:
        return None
    amount = Decimal(digits)
    has_k = bool(groups.get("k"))
    end = match.end()
    follow = text[end : end + 24]
    if _NOT_AN_AMOUNT_AFTER.match(follow):
        return None
    if has_k and _AUDIENCE_AFTER.match(follow):
        return None
    if (bare or (has_k and not groups.get("sym") and not groups.get("code"))) and (
        _NOT_MONEY_AFTER.match(follow) or _is_year(amount, text, match.start("num"))
    ):
        return None
    if has_k:
        amount *= _THOUSAND
    if amount <= 0:
        return None
    return _normalize(amount), _currency_of(groups)


def _is_year(amount: Decimal, text: str, start: int) -> bool:
    if amount != amount.to_integral_value() or not 1990 <= amount <= 2100:
        return False
    return bool(_MONTH_BEFORE.search(text[max(0, start - 12) : start]))


def _currency_of(groups: dict[str, str | None]) -> str:
    for key in ("code", "sym"):
        mark = groups.get(key)
        if mark:
            return _CURRENCY_BY_MARK.get(mark.lower(), DEFAULT_CURRENCY)
    return DEFAULT_CURRENCY


def _normalize(amount: Decimal) -> Decimal:
    """1.5k → 1500 (not 1500.0); cents kept when written ("$1,500.50")."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount


def _describe(text: str, start: int, end: int, amount: Decimal, currency: str) -> MoneyMention:
    before = _same_sentence_before(text, start)
    after = _same_sentence_after(text, end)
    return MoneyMention(
        amount=amount,
        currency=currency,
        start=start,
        end=end,
        proposed=bool(_PROPOSAL_BEFORE.search(before)),
        names_ours=bool(_OURS_BEFORE.search(before) or _OURS_AFTER.search(after)),
        habitual=bool(_HABIT_BEFORE.search(before) or _HABIT_AFTER.search(after)),
        accepted=bool(_ACCEPT_AFTER.search(after) or _ACCEPT_BEFORE.search(before)),
    )


def _same_sentence_before(text: str, start: int) -> str:
    window = text[max(0, start - _WINDOW_BEFORE) : start]
    breaks = list(_SENTENCE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _same_sentence_after(text: str, end: int) -> str:
    window = text[end : end + _WINDOW_AFTER]
    found = _SENTENCE_BREAK.search(window)
    return window[: found.start()] if found else window
