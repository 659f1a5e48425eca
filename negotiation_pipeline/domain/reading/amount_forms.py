"""Every way an amount of money is written in a reply, found and parsed to Decimal.

Forms: a currency sign or code before or after the number ("$1,500", "USD 3,250", "900 EUR",
"1500 dollars", "900€", "1500$"), thousands grouped with commas, dots, spaces or apostrophes and
a dot or comma before the cents ("1,250.50", "1.250,50 €", "1 500 €", "EUR 1.250"), a k, m,
"thousand" or "grand" multiplier ("1.5k", "$2K", "2 grand"), and amounts in words ("two thousand
dollars", "fifteen hundred", "two and a half thousand"). Bare numbers and currency-less words
are money only after a proposal cue ("I could do 1500", "how about fifteen hundred?"); that
decision, and what the amount means, belong to money_mentions.py.

Text given here is already case-folded (money_mentions.fold_case), so patterns are lowercase.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

DEFAULT_CURRENCY = "USD"

# Grouped thousands need groups of exactly three digits; the optional tail is the cents.
_GROUPED = r"\d{1,3}(?:[,.'’]\d{3})+(?:[.,]\d{1,2})?"
_SPACED = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?"
_PLAIN = r"\d+(?:[.,]\d{1,2})?"

# Amounts are found from their digits: at each number, the currency mark before it, its
# multiplier and the mark after it decide what it is. Text without digits costs one scan.
_DIGITS = re.compile(r"\d+")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f'’]")
_NUMBER_AT = re.compile(rf"{_GROUPED}|{_SPACED}|{_PLAIN}")
_TIGHT_NUMBER_AT = re.compile(rf"{_GROUPED}|{_PLAIN}")
# Signs and codes of currencies: the campaign's own and every other one a creator is likely to
# quote in, so "₹85,000" or "CHF 1'500" is read as an amount in that currency (and escalated as
# foreign) instead of as a bare number in dollars. Words that are also English ("try", "won")
# and signs shared by several currencies ("kr") are left out.
CURRENCY_SIGNS = "$€£₹¥₩₱₺₪₽₦฿"
_SIGN_CODES = {
    "$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "¥": "JPY", "₩": "KRW", "₱": "PHP",
    "₺": "TRY", "₪": "ILS", "₽": "RUB", "₦": "NGN", "฿": "THB", "zł": "PLN",
}  # fmt: skip
_DOLLAR_PREFIXES = {
    "us": "USD", "ca": "CAD", "c": "CAD", "au": "AUD", "a": "AUD", "r": "BRL", "s": "SGD",
    "sg": "SGD", "hk": "HKD", "nz": "NZD", "mx": "MXN",
}  # fmt: skip
_CODES = frozenset({
    "usd", "eur", "gbp", "cad", "aud", "chf", "inr", "jpy", "cny", "rmb", "brl", "mxn", "sek",
    "nok", "dkk", "pln", "sgd", "nzd", "hkd", "zar", "aed", "krw", "php", "ils", "rub", "ngn",
    "thb", "czk",
})  # fmt: skip
_WORD_CODES = {
    "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD", "euro": "EUR",
    "euros": "EUR", "pound": "GBP", "pounds": "GBP", "quid": "GBP", "rupees": "INR",
    "yen": "JPY", "yuan": "CNY", "reais": "BRL", "francs": "CHF", "zloty": "PLN",
    "dirhams": "AED",
}  # fmt: skip
# Codes and currency words that may follow a number, longest first ("dollars" before "dollar").
_CODES_AFTER = "|".join(sorted(_CODES | set(_WORD_CODES), key=len, reverse=True))
_MARK_BEFORE = re.compile(
    rf"(?:(?P<sym>(?<![a-z])(?:{'|'.join(_DOLLAR_PREFIXES)})\$|[{CURRENCY_SIGNS}])"
    rf"|\b(?P<code>{'|'.join(sorted(_CODES))}|rs\.?)\s?[{CURRENCY_SIGNS}]?)"
    r"\s?$"
)
_MULT_AFTER = re.compile(r"\s?(?P<mult>k|mm|m|mil|mio|thousand|grand|hundred)(?![a-z])")
_MARK_AFTER = re.compile(
    rf"\s?(?:(?P<code>{_CODES_AFTER})\b"
    rf"|(?P<sym>zł|[{CURRENCY_SIGNS}]))"
)
# First letters of multipliers and currency marks: a number followed by none of them needs no
# regex to know nothing is attached.
_AFTER_STARTS = frozenset("kmtgh" + "".join(_CODES | set(_WORD_CODES)) + CURRENCY_SIGNS + "z")
# Characters that glue an unmarked number to something else ("v2", "3/15", "10:30", "#12").
_SPACE_IN_NUMBER = re.compile(r"[ \u00a0\u202f]")
_GLUED_BEFORE = frozenset(".,/:'’#_" + CURRENCY_SIGNS)
_BARE_DIGITS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{2,6}(?:[.,]\d{1,2})?")
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "grand": 1000, "million": 1_000_000}
_WORD_TOKEN = "|".join([*_UNITS, *_SCALES, "a", "and", "half"])
_WORDS = re.compile(
    rf"(?<![\w-])(?:{_WORD_TOKEN})(?:[\s-]+(?:{_WORD_TOKEN}))*(?![\w-])"
    rf"(?:\s?(?P<code>{_CODES_AFTER})\b)?"
)
_WORD_HINTS = ("hundred", "thousand", "grand", "dollar", "euro", "buck", "pound", "quid")
_WORD_TOKEN_RE = re.compile(rf"(?<![\w])(?:{_WORD_TOKEN})(?![\w])")

_CURRENCY_BY_MARK = {
    **{code: code.upper() for code in _CODES},
    "rmb": "CNY",
    "rs": "INR",
    "rs.": "INR",
    **_SIGN_CODES,
    **{prefix + "$": code for prefix, code in _DOLLAR_PREFIXES.items()},
    **_WORD_CODES,
}
_MULTIPLIER = {
    "hundred": Decimal(100),
    "k": Decimal(1000),
    "thousand": Decimal(1000),
    "grand": Decimal(1000),
    "m": Decimal(1_000_000),
    "mm": Decimal(1_000_000),
    "mil": Decimal(1_000_000),
    "mio": Decimal(1_000_000),
}
# No fee has more than 12 digits before the point; longer runs are ids or noise, and as Decimals
# they overflowed the multiplication or could not be rounded to cents downstream.
_MAX_WHOLE_DIGITS = 12
# An amount glued to more digits, letters or an address is part of something else:
# "RFC 2046, $5.1.5" (a section number), "<…$8752e060$56104586@oxy.edu>" (a Message-ID).
_GLUED_AFTER = re.compile(r"[.,]?\d|@|\w")
# ... except the "about" suffix: "1300ish", "1.5kish".
_ABOUT_SUFFIX = re.compile(r"ish(?![\w@])")


class WrittenAmount(NamedTuple):
    """One amount as written: where it is, its value, and what marked it as money."""

    start: int
    end: int
    amount: Decimal
    currency: str
    marked: bool  # a currency sign, code or word is attached ("$", "EUR", "dollars")
    multiplied: bool  # written with k / thousand / grand (or m)
    bare: bool  # a plain number or currency-less words: money only after a proposal cue


def parse_number(text: str) -> Decimal | None:
    """'1,250.50', '1.250,50', '1 500', '1.500', '2,5' → Decimal; None when not a number.

    The last separator is the decimal point when one or two digits follow it; otherwise every
    separator groups thousands (amounts are never written with three decimals).
    """
    digits = _GROUP_SPACES.sub("", text) if not text.isdigit() else text
    separators = [index for index, char in enumerate(digits) if char in ",."]
    if not separators:
        whole, cents = digits, ""
    else:
        last = separators[-1]
        tail = digits[last + 1 :]
        if len(tail) in (1, 2):
            whole, cents = digits[:last], tail
        else:
            whole, cents = digits, ""
        whole = whole.replace(",", "").replace(".", "")
    if not whole.isdigit() or len(whole) > _MAX_WHOLE_DIGITS or (cents and not cents.isdigit()):
        return None
    return Decimal(f"{whole}.{cents}") if cents else Decimal(whole)


def find_written_amounts(folded: str) -> list[WrittenAmount]:
    """Every amount-shaped span in `folded`, in reading order, without overlaps."""
    found: list[WrittenAmount] = []
    taken_until = 0
    for digits in _DIGITS.finditer(folded):
        if digits.start() < taken_until:
            continue
        written = _amount_at(folded, digits.start())
        if written is not None:
            found.append(written)
            taken_until = written.end
    if any(word in folded for word in _WORD_HINTS):
        for written in _word_amounts(folded):
            if not any(w.start < written.end and written.start < w.end for w in found):
                found.append(written)
        found.sort(key=lambda written: written.start)
    return found


def _amount_at(text: str, start: int) -> WrittenAmount | None:
    """The amount whose number starts at `start`, or None when it is no amount."""
    close = text[max(0, start - 5) : start].rstrip()
    before = (
        _MARK_BEFORE.search(text, max(0, start - 7), start)
        if close and (close[-1] in CURRENCY_SIGNS or close[-3:] in _CODES or _rupees(close))
        else None
    )
    number = _NUMBER_AT.match(text, start)
    if number is None:
        return None
    mult, after = _after(text, _past_no_cents(text, number.end()))
    if before is None and after is None and _SPACE_IN_NUMBER.search(number.group(0)):
        number = _TIGHT_NUMBER_AT.match(text, start)  # "2 500" groups only beside a currency
        if number is None:
            return None
        mult, after = _after(text, _past_no_cents(text, number.end()))
    marked = before is not None or after is not None
    previous = text[start - 1] if start else " "
    if not marked and (previous.isalnum() or previous in _GLUED_BEFORE):
        return None
    bare = not marked and mult is None
    if bare and _BARE_DIGITS.fullmatch(number.group(0)) is None:
        return None
    end = after.end() if after else (mult.end() if mult else number.end())
    if _GLUED_AFTER.match(text, end) and not _ABOUT_SUFFIX.match(text, end):
        return None
    return _written(start, end, number.group(0), before, mult, after, bare)


def _past_no_cents(text: str, end: int) -> int:
    """Where a currency after the number may start: past a "no cents" dash ("1500,- EUR")."""
    return end + 2 if text[end : end + 1] in ",." and text[end + 1 : end + 2] in "-–—" else end


def _rupees(close: str) -> bool:
    return close[-2:] == "rs" or close[-3:] == "rs."


def _after(text: str, end: int) -> tuple[re.Match[str] | None, re.Match[str] | None]:
    if text[end : end + 2].lstrip()[:1] not in _AFTER_STARTS:
        return None, None
    mult = _MULT_AFTER.match(text, end)
    return mult, _MARK_AFTER.match(text, mult.end() if mult else end)


def _written(
    start: int,
    end: int,
    number: str,
    before: re.Match[str] | None,
    mult: re.Match[str] | None,
    after: re.Match[str] | None,
    bare: bool,
) -> WrittenAmount | None:
    amount = parse_number(number)
    if amount is None:
        return None
    multiplier = mult.group("mult") if mult else None
    if multiplier:
        amount *= _MULTIPLIER[multiplier]
    if amount <= 0:
        return None
    mark = next((m.group("code") or m.group("sym") for m in (before, after) if m), None)
    if multiplier in ("m", "mm", "mil", "mio") and not mark:
        return None  # "2.1m" without a currency is a view count, never a fee
    return WrittenAmount(
        start=before.start() if before is not None else start,
        end=end,
        amount=normalize(amount),
        currency=_CURRENCY_BY_MARK.get(mark or "", DEFAULT_CURRENCY),
        marked=bool(mark),
        multiplied=bool(multiplier),
        bare=bare,
    )


def _word_amounts(folded: str) -> list[WrittenAmount]:
    amounts = []
    for match in _WORDS.finditer(folded):
        code = match.group("code")
        words_end = match.start("code") if code else match.end()
        tokens = list(_WORD_TOKEN_RE.finditer(folded, match.start(), words_end))
        value, used = _parse_words([token.group(0) for token in tokens])
        if value is None or value <= 0:
            continue
        if used < len(tokens):
            code = None  # the currency word does not follow the words that make the number
        has_scale = any(token.group(0) in _SCALES for token in tokens[:used])
        if not code and not has_scale:
            continue  # "one reel", "two stories": counts, not money
        grand = any(token.group(0) == "grand" for token in tokens[:used])
        amounts.append(
            WrittenAmount(
                start=match.start(),
                end=match.end() if code else tokens[used - 1].end(),
                amount=normalize(value),
                currency=_CURRENCY_BY_MARK.get(code or "", DEFAULT_CURRENCY),
                marked=bool(code) or grand,
                multiplied=True,
                bare=not code and not grand,
            )
        )
    return amounts


def _parse_words(tokens: list[str]) -> tuple[Decimal | None, int]:
    """('two', 'and', 'a', 'half', 'thousand') → (2500, 5 tokens used); needs a number word
    before every scale word, so "a couple thousand" or a lone "thousand" is not an amount."""
    total = Decimal(0)
    current: Decimal | None = None
    used = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in _UNITS:
            current = (current or Decimal(0)) + _UNITS[token]
        elif token == "a" and index + 1 < len(tokens) and tokens[index + 1] in _SCALES:
            current = (current or Decimal(0)) + 1
        elif token == "and" and tokens[index + 1 : index + 3] == ["a", "half"]:
            if current is None:
                break
            current += Decimal("0.5")
            index += 2
        elif token in _SCALES and current is not None:
            scale = _SCALES[token]
            if scale == 100:
                current *= 100
            else:
                total += current * scale
                current = None
        elif token == "and" and current is not None:
            pass  # "two hundred and fifty"
        else:
            break
        index += 1
        used = index
    value = total + (current or Decimal(0))
    while used and tokens[used - 1] in ("and", "a"):
        used -= 1
    return (value if used else None), used


def normalize(amount: Decimal) -> Decimal:
    """1.5k → 1500 (not 1500.0); cents kept when written ("$1,500.50")."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount
