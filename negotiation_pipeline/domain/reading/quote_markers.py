"""The lines that start quoted history in a reply, in the mail clients and languages we meet.

`mail-parser-reply` is asked first: its per-language "wrote" lines and header blocks (en, de, fr,
es, it, nl, ja, da, sv, pl, cs) decide a candidate line. What it does not know is added here
(each checked against the library while this was written):
Portuguese ("Em … escreveu:"), Dutch "Op … schreef <name>:", Spanish with one space before
"escribió", Apple Mail Japanese ("…のメッセージ:"), Japanese/Portuguese/Chinese header labels
("差出人:/送信日時:", "Enviada em:/Assunto:"), attributions wrapped over up to three lines,
"-----Ursprüngliche Nachricht-----"-style separators and phone footers in many languages.

Only candidate lines (ending in ":" or opening like an attribution, a header label, a separator or
a footer) are examined, so ordinary lines cost one cheap regex each.
"""

from __future__ import annotations

import re
from enum import StrEnum

from mailparser_reply.parser import EmailMessage

_LIBRARY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "ja", "da", "sv", "pl", "cs"]
_LIBRARY_HEADERS = EmailMessage(text="", languages=list(_LIBRARY_LANGUAGES)).HEADER_REGEX


class Marker(StrEnum):
    ATTRIBUTION = "attribution"  # "On … wrote:", with quoted (">") lines usually following
    HEADERS = "headers"  # "From:/Sent:/To:/Subject:" block of an inline-forwarded message
    SEPARATOR = "separator"  # "-----Original Message-----", "Begin forwarded message:"
    FOOTER = "footer"  # "Sent from my iPhone": the end of what the sender typed


QUOTE_LINE = re.compile(r"^[ \t]*>")

_WROTE_VERBS = (
    r"wrote|writes|a\s+[ée]crit|schrieb|escribi[óo]|escreveu|ha\s+scritto|scrisse|schreef|"
    r"skrev|kirjoitti|napisa[łl](?:\(a\))?|napsal(?:\(a\))?|написал(?:\(а\))?|yazd[ıi]|"
    r"写道|寫道|のメッセージ|のメール|さんは書きました|작성"
)
_ENDS_WITH_WROTE = re.compile(rf"(?:{_WROTE_VERBS})\s*[:：]\s*$", re.IGNORECASE)
_HAS_WROTE = re.compile(rf"(?<!\w)(?:{_WROTE_VERBS})(?!\w)", re.IGNORECASE)
_ENDS_WITH_COLON = re.compile(r"[:：]\s*$")
_OPENER_WORDS = (
    r"(?:On|Le|Am|El|Em|Il|Op|Den|På|Dne|W\s+dniu|Dnia|Quoting|Zitat\s+von|Citando|"
    r"Citation\s+de)\s"
)
_ATTRIBUTION_OPENER = re.compile(r"^[ \t>]*" + _OPENER_WORDS, re.IGNORECASE)
_JAPANESE_DATE_OPENER = re.compile(r"^[ \t>]*\d{4}\s*[年/]\s*\d{1,2}\s*[月/]\s*\d{1,2}")
_DATE_OR_ADDRESS = re.compile(r"\d|@")

_FROM_LABELS = (
    r"From|De|Von|Van|Da|Fra|Från|Od|От|Lähettäjä|Feladó|Kimden|差出人|发件人|寄件者|보낸\s?사람"
)
_OTHER_LABELS = (
    r"Sent|Date|To|Cc|Bcc|Subject|Reply-To|Envoy[ée]|[ÀA]|Objet|Gesendet|Datum|An|Betreff|"
    r"Enviado(?:\s+el)?|Enviada\s+em|Enviado\s+em|Fecha|Para|Asunto|Assunto|Data|Inviato|Oggetto|"
    r"Verzonden|Verstuurd|Aan|Onderwerp|Skickat|Till|Ämne|Sendt|Til|Emne|Wysłano|Do|Temat|"
    r"Odesláno|Komu|Předmět|Отправлено|Кому|Тема|送信日時|宛先|件名|日付|发送时间|收件人|主题|"
    r"日期|받는\s?사람|보낸\s?날짜|제목"
)
_LABEL_TAIL = r"\*{0,2}[ \t\u00a0]*[:：]"
_FROM_LINE = re.compile(rf"^[ \t>]*\*{{0,2}}(?:{_FROM_LABELS}){_LABEL_TAIL}", re.IGNORECASE)
_OTHER_LINE = re.compile(rf"^[ \t>]*\*{{0,2}}(?:{_OTHER_LABELS}){_LABEL_TAIL}", re.IGNORECASE)
# Outlook's header block collapsed onto one line by an HTML-to-text conversion.
_ONE_LINE_HEADERS = re.compile(
    rf"(?:{_FROM_LABELS}){_LABEL_TAIL}.{{1,200}}?\b(?:Sent|Date|Subject|Gesendet|Envoy[ée]|"
    rf"Enviado|Verzonden|Inviato|Betreff|Objet|Asunto|Assunto|Onderwerp|Oggetto){_LABEL_TAIL}",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^[ \t>]*(?:[-_=*]{2,}\s*[^\W\d_][^-_=]{2,50}?\s*[-_=*]{2,}|_{8,}|-{8,}|={8,}|"
    r"Begin forwarded message|Anfang der weitergeleiteten Nachricht|D[ée]but du message "
    r"r[ée]exp[ée]di[ée]|Inicio del mensaje reenviado|In[íi]cio da mensagem encaminhada|"
    r"Inizio messaggio inoltrato|Begin doorgestuurd bericht|転送されたメッセージ)\s*:?\s*$",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^[ \t]*(?:Sent from (?:my|Yahoo|Mail for|Outlook|Gmail|AOL|Proton)|Sent with Proton|"
    r"Sent via \w+|Get Outlook for|Gesendet von meinem|Von meinem \S+ gesendet|"
    r"Gesendet mit der|Envoy[ée] (?:de|depuis) mon|Enviado desde mi|Enviado (?:do|de) meu|"
    r"Inviato da(?:l mio)?|Verzonden (?:vanaf|met) mijn|Verstuurd vanaf mijn|Skickat från min|"
    r"Sendt fra min|Wysłane z mojego|Odesláno z|iPhoneから送信|Androidから送信|从我的\S+发送)",
    re.IGNORECASE,
)
# Cheap test before any of the above: could this line be a marker at all? (anchored at its start)
_CANDIDATE_START = re.compile(
    rf"[ \t>]*(?:[-_=*]{{2}}|Begin|Anfang|D[ée]but|Inicio|In[íi]cio|Inizio|Sent|Get Outlook|"
    rf"Gesendet|Von meinem|Envoy|Enviado|Inviato|Verzonden|Verstuurd|Skickat|Sendt|Wysłane|"
    rf"Odesláno|iPhone|Android|从我的|\*{{0,2}}(?:{_FROM_LABELS}){_LABEL_TAIL}|{_OPENER_WORDS})",
    re.IGNORECASE,
)

# First words of every marker that does not end in ":" (footers, separators, wrapped "On …",
# header labels).
_FIRST_WORDS = frozenset({
    "on", "le", "am", "el", "em", "il", "op", "den", "på", "dne", "w", "dnia", "quoting",
    "zitat", "citando", "citation", "begin", "anfang", "début", "debut", "inicio", "início",
    "inizio", "sent", "get", "gesendet", "von", "envoyé", "envoye", "enviado", "inviato",
    "verzonden", "verstuurd", "skickat", "sendt", "wysłane", "odesláno", "iphoneから送信",
    "androidから送信", "from", "de", "van", "da", "fra", "från", "od", "от", "lähettäjä",
    "feladó", "kimden", "差出人", "发件人", "寄件者", "보낸",
})  # fmt: skip
_LABEL_END = re.compile(r"[:：*]")
_FIRST_TOKEN = re.compile(r"[ \t>*]*([^\s:：*]+)")


def _could_be_marker(line: str) -> bool:
    """Cheap test before the patterns: the line ends in ':' or opens like some marker."""
    tail = line.rstrip()
    if not tail:
        return False
    if tail[-1] in ":：":
        return True
    first = _FIRST_TOKEN.match(line)
    if first is None:
        return False
    word = first.group(1)
    if word[0] in "-_=":
        return True
    word = word.lower()
    return word in _FIRST_WORDS or word.startswith("从我的")


_MAX_ATTRIBUTION_CHARS = 400
_MAX_FROM_WORDS = 8
_ATTRIBUTION_LINES = 3
_HEADER_LOOKAHEAD = 5


def marker_at(lines: list[str], index: int) -> tuple[Marker, int] | None:
    """The marker starting at `lines[index]` and how many lines it spans, or None."""
    line = lines[index]
    if not _could_be_marker(line):
        return None
    if _FOOTER.match(line):
        return Marker.FOOTER, 1
    if _SEPARATOR.match(line):
        return Marker.SEPARATOR, 1
    found = _library_marker(lines, index)
    if found is not None:
        return found
    headers = _header_block(lines, index)
    if headers:
        return Marker.HEADERS, headers
    span = _attribution_span(lines, index)
    if span:
        return Marker.ATTRIBUTION, span
    if _ONE_LINE_HEADERS.search(line):
        return Marker.HEADERS, 1
    return None


def _library_marker(lines: list[str], index: int) -> tuple[Marker, int] | None:
    """mail-parser-reply's verdict on a line that ends in ":" or opens with a From: label."""
    if not (_ENDS_WITH_COLON.search(lines[index]) or _FROM_LINE.match(lines[index])):
        return None
    piece = "\n".join(line.strip() for line in lines[index : index + _HEADER_LOOKAHEAD + 1])
    found = _LIBRARY_HEADERS.match(piece)
    if found is None or not found.group(0).strip():
        return None
    text = found.group(0).rstrip("\n")
    span = text.count("\n") + 1
    if _FROM_LINE.match(lines[index]) or _OTHER_LINE.match(lines[index]):
        return (Marker.HEADERS, span) if span >= 2 and _plausible_from(lines[index]) else None
    if not text.rstrip().endswith((":", "：")):
        return None
    return Marker.ATTRIBUTION, span


def _plausible_from(line: str) -> bool:
    """A From: value is a name or an address, not a sentence ("From: my side it's a yes.")."""
    value = _LABEL_END.split(line, 1)[-1].strip(" *\t")
    return not value.endswith((".", "!", "?")) and len(value.split()) <= _MAX_FROM_WORDS


def _header_block(lines: list[str], index: int) -> int:
    """Lines in a From:/Sent:/To: block starting here (0 when this is no such block)."""
    if not _FROM_LINE.match(lines[index]) or not _plausible_from(lines[index]):
        return 0
    end = index + 1
    others = 0
    limit = min(len(lines), index + 1 + _HEADER_LOOKAHEAD)
    while end < limit:
        candidate = lines[end]
        if _OTHER_LINE.match(candidate):
            others += 1
        elif candidate.strip() and others == 0:
            return 0
        elif not candidate.strip() and others:
            break
        end += 1
    return end - index if others else 0


def _attribution_span(lines: list[str], index: int) -> int:
    """Lines an "On … wrote:" attribution spans from here (wrapped over up to three), or 0."""
    for span in range(1, _ATTRIBUTION_LINES + 1):
        if index + span > len(lines):
            break
        piece = " ".join(line.strip() for line in lines[index : index + span])
        if len(piece) > _MAX_ATTRIBUTION_CHARS:
            break
        if _ENDS_WITH_COLON.search(piece) and _is_attribution(piece):
            return span
        if not _ATTRIBUTION_OPENER.match(piece):
            break  # only an "On …"-style opener is worth joining with the next line
    return 0


def _is_attribution(piece: str) -> bool:
    if _ENDS_WITH_WROTE.search(piece):
        return True
    if _HAS_WROTE.search(piece) and _DATE_OR_ADDRESS.search(piece):
        return True  # "Am 02.03.2026 um 10:12 schrieb Jordan <j@x>:"
    return bool(_JAPANESE_DATE_OPENER.match(piece) and "@" in piece)
