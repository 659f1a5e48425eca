"""Find where the sender's signature begins in what they typed, with or without a "-- " line.

Three shapes: an RFC 3676 "-- " delimiter (or a bare "--", "—", "__"); a sign-off line ("Best,",
"Cheers", "Thanks!", "Liebe Grüße", "Cordialement", "Best, Priya") followed only by short
signature lines (a name, a title, a company, a website, a phone, handles, audience stats); or a
closing paragraph made only of such contact lines. Legal disclaimers are cut with what follows.
A line that asks something, names money or reads like a sentence keeps the block in the text.
"""

from __future__ import annotations

import re

from negotiation_pipeline.domain.reading.amount_forms import CURRENCY_SIGNS

_DELIMITERS = frozenset({"--", "-- ", "—", "__", "–"})
# Lines that may start a signature or a disclaimer (checked exactly afterwards).
_CUT_CANDIDATE = re.compile(
    r"^(?:(?:--|—|__|–)[ \t]*|[ \t*]*(?:confid|disclaim|privileg|notice|this |the inform|if you)"
    r"[^\n]*)$",
    re.MULTILINE | re.IGNORECASE,
)
_SIGN_OFFS = (
    "best", "best wishes", "best regards", "kind regards", "kindest regards", "warm regards",
    "warmest regards", "warmest", "warmly", "regards", "many regards", "cheers", "thanks",
    "thank you", "thanks so much", "thank you so much", "thanks again", "many thanks",
    "thanks a lot", "thx", "ty", "tia", "sincerely", "yours", "yours truly", "talk soon",
    "speak soon", "chat soon", "all the best", "xo", "xoxo", "xx", "xxx", "x", "love", "peace",
    "have a great day", "have a great week", "have a great weekend", "have a good one",
    "have a lovely day", "have a nice day", "take care", "respectfully", "with thanks",
    "with gratitude", "gratefully", "much appreciated", "appreciate it", "best, thanks",
    "viele grüße", "liebe grüße", "beste grüße", "herzliche grüße", "mit freundlichen grüßen",
    "freundliche grüße", "lg", "vg", "mfg", "grüße", "gruß", "danke", "cordialement",
    "bien à vous", "bien cordialement", "merci", "bonne journée", "à bientôt", "amicalement",
    "bises", "saludos", "un saludo", "gracias", "atentamente", "un abrazo", "cordialmente",
    "abraços", "abs", "obrigado", "obrigada", "atenciosamente", "att", "beijos", "saluti",
    "cordiali saluti", "grazie", "a presto", "un saluto", "groeten", "met vriendelijke groet",
    "hartelijke groet", "groetjes", "mvg", "bedankt", "よろしくお願いします",
    "よろしくお願いいたします",
)  # fmt: skip
_SIGN_OFF_WORDS = "|".join(
    re.escape(phrase).replace(r"\ ", r"\s+") for phrase in sorted(_SIGN_OFFS, key=len)[::-1]
)
_SIGN_OFF_FIRST_WORDS = frozenset(phrase.split()[0].rstrip(",") for phrase in _SIGN_OFFS)
_NAME = r"[A-ZÀ-Þ][\w'.-]*(?:\s+[A-ZÀ-Þ][\w'.-]*){0,3}"
_EMOJI = r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2764\ufe0f]"
_SIGN_OFF = re.compile(
    rf"^\s*(?:{_SIGN_OFF_WORDS})(?:\s*[,!.…:;]+\s*|\s+)?(?:[-–—~]\s*)?(?:{_NAME})?"
    rf"\s*[,!.]*\s*(?:{_EMOJI}\s*)*$",
    re.IGNORECASE,
)
_NAME_LINE = re.compile(rf"^\s*(?:{_NAME}|[a-z][\w'-]{{1,15}}|[A-Z]\.?|{_EMOJI}+)\s*[,.]?\s*$")
# Contact details: cheap character tests first, then words of titles, companies and networks.
_CONTACT_MARKS = ("@", "http", "www.", "|", "·", "•", "+1", ".com", ".co", ".io")
_DOMAIN = re.compile(r"[a-z0-9]\.[a-z]{2,}")
_CONTACT_DIGITS = re.compile(r"\d[\d\s().-]{6,}\d|\b\d+(?:[.,]\d+)?\s?[kKmM]\b")
_CONTACT_WORDS = re.compile(
    r"\b(?:manager|management|mgmt|agent|agency|talent|director|coordinator|partnerships?|"
    r"representing|rep|founder|co-founder|ceo|coo|cmo|creator|influencer|marketing|publicist|pr|"
    r"assistant|lead|head of|team|media|studios?|llc|inc|ltd|gmbh|group|collective|"
    r"productions?|records|entertainment|mobile|cell|tel|phone|office|email|e-mail|instagram|"
    r"tiktok|youtube|ig|yt|twitter|linkedin|followers|subscribers|views|she/her|he/him|"
    r"they/them|suite|street|ave|avenue|road|blvd|net|org|me|tv)\b|\b[mpte]:"
)
_DISCLAIMER = re.compile(
    r"^\s*(?:\*+\s*)?(?:confidential(?:ity)?(?: notice)?|disclaimer|privileged|notice:|"
    r"this (?:e-?mail|message|communication) (?:and any|is|may|contains|including)|"
    r"the information (?:contained|in this)|if you (?:are not|have received|received) "
    r"(?:the intended|this))",
    re.IGNORECASE,
)
# A sign-off with nothing but a greeting above it is the message itself ("Thanks Alex!\nDeal.").
_GREETING = re.compile(r"^\s*(?:hi|hey|hello|dear|hiya|good (?:morning|afternoon|evening))\b", re.I)
_CURRENCY_CODE = re.compile(r"\b(?:usd|eur|gbp|USD|EUR|GBP)\b")

_MAX_BLOCK_LINES = 8
_MAX_LINE_CHARS = 80
_MAX_LINE_WORDS = 10


def strip_signature(lines: list[str]) -> tuple[str, str]:
    """(what they typed without the signature, the signature), each stripped."""
    cut = len(lines)
    text = "\n".join(lines)
    found = _CUT_CANDIDATE.search(text)  # one scan finds the first "-- " or disclaimer-like line
    while found is not None:
        line = found.group(0)
        if line.rstrip() in _DELIMITERS or _DISCLAIMER.match(line):
            cut = text.count("\n", 0, found.start())
            break
        found = _CUT_CANDIDATE.search(text, found.end())
    body = lines[:cut]
    sign_off = _sign_off_cut(body)
    cut = min(cut, sign_off if sign_off < len(body) else _contact_block_cut(body))
    return "\n".join(lines[:cut]).strip(), "\n".join(lines[cut:]).strip()


def _sign_off_cut(lines: list[str]) -> int:
    """Index of the last sign-off line when only signature lines follow it, else len(lines)."""
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index].strip():
            continue
        if _could_sign_off(lines[index]) and _SIGN_OFF.match(lines[index]):
            # Every line below it was already found to be a signature line on the way up.
            tail = sum(1 for line in lines[index + 1 :] if line.strip())
            typed_above = any(line.strip() and not _GREETING.match(line) for line in lines[:index])
            return index if tail <= _MAX_BLOCK_LINES and typed_above else len(lines)
        if not _signature_line(lines[index]):
            return len(lines)  # a sentence closer to the end than any sign-off
    return len(lines)


def _contact_block_cut(lines: list[str]) -> int:
    """Start of a final paragraph made only of short contact lines, else len(lines)."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip():
        start -= 1
    block = lines[start:end]
    if start == 0 or not block or len(block) > _MAX_BLOCK_LINES:
        return len(lines)
    if not all(map(_signature_line, block)):
        return len(lines)
    contact_lines = sum(1 for line in block if _is_contact(line))
    return start if contact_lines >= max(1, len(block) // 2) else len(lines)


def _could_sign_off(line: str) -> bool:
    words = line.split(None, 1)
    return bool(words) and words[0].strip(",!.:;-–—").lower() in _SIGN_OFF_FIRST_WORDS


def _signature_line(line: str) -> bool:
    """A name, title, company, website, phone, handle or stats line; never a sentence."""
    text = line.strip()
    if len(text) > _MAX_LINE_CHARS or text.count(" ") >= _MAX_LINE_WORDS:
        return False
    if text.endswith(("!", "?")) or any(sign in text for sign in CURRENCY_SIGNS + "?"):
        return False
    if _CURRENCY_CODE.search(text):
        return False
    return bool(_NAME_LINE.match(text)) or _is_contact(text)


def _is_contact(line: str) -> bool:
    lowered = line.lower().strip()
    if any(mark in lowered for mark in _CONTACT_MARKS):
        return True
    if " " not in lowered and _DOMAIN.search(lowered):
        return True  # a bare website: "anna-schmidt.example.test"
    return bool(_CONTACT_DIGITS.search(line) or _CONTACT_WORDS.search(lowered))
