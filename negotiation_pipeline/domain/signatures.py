"""Find where the sender's signature begins in what they typed, with or without a "-- " line.

Three shapes: an RFC 3676 "-- " delimiter (or a bare "--", "—", "__"); a sign-off line ("Best,",
"Cheers", "Thanks!", "Liebe Grüße", "Cordialement", "Best, Priya") followed only by short
signature lines (a name, a title, a company, a website, a phone, handles, audience stats); or a
closing paragraph made only of such contact lines. Legal disclaimers are cut with what follows.
A line that asks something, names money or reads like a sentence keeps the block in the text.
"""

from __future__ import annotations

import re

_DELIMITER = re.compile(r"^(?:-- ?|--|—|__|–)\s*$")
_SIGN_OFF_WORDS = (
    r"best|best wishes|best regards|kind regards|kindest regards|warm regards|warmest regards|"
    r"warmest|warmly|regards|many regards|cheers|thanks|thank you|thanks so much|"
    r"thank you so much|thanks again|many thanks|thanks a lot|thx|ty|tia|sincerely|yours|"
    r"yours truly|talk soon|speak soon|chat soon|all the best|xo|xoxo|xx|xxx|x|love|peace|"
    r"have a (?:great|good|lovely|nice) (?:day|week|weekend|one)|take care|respectfully|"
    r"with thanks|with gratitude|gratefully|much appreciated|appreciate it|best,? thanks|"
    r"viele grüße|liebe grüße|beste grüße|herzliche grüße|mit freundlichen grüßen|"
    r"freundliche grüße|lg|vg|mfg|grüße|gruß|danke|cordialement|bien à vous|bien cordialement|"
    r"merci|bonne journée|à bientôt|amicalement|bises|saludos|un saludo|gracias|atentamente|"
    r"un abrazo|cordialmente|abraços|abs|obrigado|obrigada|atenciosamente|att|beijos|saluti|"
    r"cordiali saluti|grazie|a presto|un saluto|groeten|met vriendelijke groet|"
    r"hartelijke groet|groetjes|mvg|bedankt|よろしくお願いします|よろしくお願いいたします"
)
_NAME = r"[A-ZÀ-Þ][\w'.-]*(?:\s+[A-ZÀ-Þ][\w'.-]*){0,3}"
_EMOJI = r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2764\ufe0f]"
_SIGN_OFF = re.compile(
    rf"^\s*(?:{_SIGN_OFF_WORDS})(?:\s*[,!.…:;]+\s*|\s+)?(?:[-–—~]\s*)?(?:{_NAME})?"
    rf"\s*[,!.]*\s*(?:{_EMOJI}\s*)*$",
    re.IGNORECASE,
)
_NAME_LINE = re.compile(rf"^\s*(?:{_NAME}|[a-z][\w'-]{{1,15}}|[A-Z]\.?|{_EMOJI}+)\s*[,.]?\s*$")
_CONTACT = re.compile(
    r"(?:\+?\d[\d\s().-]{6,}\d|@|https?://|www\.|\.(?:com|co|io|net|org|me|tv|de|fr|es|it|nl|"
    r"uk|ca|au|jp|br|pt)\b|[|·•]|\b(?:manager|management|mgmt|agent|agency|talent|director|"
    r"coordinator|partnerships?|representing|rep|founder|co-founder|ceo|coo|cmo|creator|"
    r"influencer|marketing|publicist|pr|assistant|lead|head of|team|media|studios?|llc|inc|"
    r"ltd|gmbh|group|collective|productions?|records|entertainment|mobile|cell|tel|phone|"
    r"office|email|e-mail|m:|p:|t:|e:|w:|instagram|tiktok|youtube|ig|yt|twitter|linkedin|"
    r"followers|subscribers|views|she/her|he/him|they/them|suite|street|ave|avenue|road|"
    r"blvd)\b|\b\d+(?:[.,]\d+)?\s?[km]\b)",
    re.IGNORECASE,
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
_MONEY_OR_QUESTION = re.compile(r"[$€£?]|\b(?:usd|eur|gbp)\b", re.IGNORECASE)

_MAX_BLOCK_LINES = 8
_MAX_LINE_CHARS = 80
_MAX_LINE_WORDS = 10


def strip_signature(lines: list[str]) -> tuple[str, str]:
    """(what they typed without the signature, the signature), each stripped."""
    cut = len(lines)
    for index, line in enumerate(lines):
        if _DELIMITER.match(line) or _DISCLAIMER.match(line):
            cut = index
            break
    body = lines[:cut]
    cut = min(cut, _sign_off_cut(body), _contact_block_cut(body))
    return "\n".join(lines[:cut]).strip(), "\n".join(lines[cut:]).strip()


def _sign_off_cut(lines: list[str]) -> int:
    """Index of the last sign-off line when only signature lines follow it, else len(lines)."""
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index].strip():
            continue
        if _SIGN_OFF.match(lines[index]):
            tail = [line for line in lines[index + 1 :] if line.strip()]
            before = [line for line in lines[:index] if line.strip()]
            if (
                len(tail) <= _MAX_BLOCK_LINES
                and all(map(_signature_line, tail))
                and not all(_GREETING.match(line) for line in before)
            ):
                return index
            return len(lines)
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
    contact_lines = sum(1 for line in block if _CONTACT.search(line))
    return start if contact_lines >= max(1, len(block) // 2) else len(lines)


def _signature_line(line: str) -> bool:
    """A name, title, company, website, phone, handle or stats line; never a sentence."""
    text = line.strip()
    if len(text) > _MAX_LINE_CHARS or len(text.split()) > _MAX_LINE_WORDS:
        return False
    if _MONEY_OR_QUESTION.search(text) or text.endswith("!"):
        return False
    return bool(_NAME_LINE.match(text) or _CONTACT.search(text))
