"""The return date in an out-of-office notice, and when to follow up after it.

Pure functions: the notice's text and its own date in, a date (or None) out.

How a notice is read:
- Date mentions are found in many forms: "Monday 14 December", "December 14th, 2026",
  "14 de diciembre", "14. Dezember", "14.12.", "12/14", "2026-12-14", "12月14日", "the 3rd",
  a weekday ("back on Monday"), "tomorrow", and ranges ("Dec 1-14", "1.-14.12.").
- A mention counts only when a cue ties it to the end of the absence: a return cue ("back on",
  "zurück am", "de retour le", "de vuelta el") names the first day back; an until cue ("until",
  "bis", "jusqu'au", "hasta") or the end of a range names the last day away. Return cues win
  over until cues; within one kind, mentions that disagree make the notice ambiguous (None).
- A mention without a year is the next such date on or after the notice's date; a weekday is
  the next one after it; "12/14" is month/day because 14 cannot be a month, and "03/04" (either
  way round) is kept only when exactly one reading lies within AMBIGUOUS_WITHIN_DAYS.
- Dates before the notice, or more than `max_days` after it (a stale notice left switched on),
  are not believed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import Enum
from itertools import pairwise

from negotiation_pipeline.domain.reading.date_words import (
    ABSENCE_PHRASES,
    MONTHS,
    NEGATION_BEFORE,
    RELATIVE_DAYS,
    RETURN_CUES,
    UNTIL_CUES,
    WEEKDAYS,
    fold,
)

DEFAULT_MAX_DAYS = 120
# Notices are short; the rest of a long body is quoted mail or a disclaimer.
MAX_SCANNED_CHARS = 4000
# "03/04" could be either month first or day first: a reading further away than this is dropped.
AMBIGUOUS_WITHIN_DAYS = 45
_CUE_REACH = 40  # characters between a cue and its date
_BOUNDARY = re.compile(r"[!?;\n]|(?<=[a-z]{4})\.\s")


def _words(words: Iterable[str]) -> str:
    """One alternation, longest first, so "sept" is tried before "sep"."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_MONTH = rf"(?<![a-z])(?P<month>{_words(MONTHS)})(?![a-z])\.?"
_WEEKDAY = rf"(?:(?P<weekday>{_words(WEEKDAYS)})(?![a-z])\.?,?\s+)?"
_YEAR = r"(?:,?\s*(?:de\s+)?(?P<year>\d{4})(?!\d))?"
_ORD = r"(?:st|nd|rd|th|er|e|o|º|°)?"


class Reach(Enum):
    """What a date mention says about the absence."""

    RETURN = "return"  # the first day back
    UNTIL = "until"  # the last day away


@dataclass(frozen=True)
class ReturnDate:
    back_on: date  # the day the notice names as the end of the absence
    phrase: str  # the words it was read from (folded), for the audit trail
    reach: Reach


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    dates: tuple[date, ...]  # readings inside the plausible window (two for "03/04")
    range_end: bool = False  # the end of "Dec 1-14": an until date without a cue
    weekday_only: bool = False  # "Monday": only says which day when no date follows it


@dataclass(frozen=True)
class _Window:
    sent: date
    max_days: int

    def keep(self, *candidates: date | None) -> tuple[date, ...]:
        last = self.sent + timedelta(days=self.max_days)
        return tuple(
            dict.fromkeys(c for c in candidates if c is not None and self.sent <= c <= last)
        )

    def day_month(self, day: int, month: int, year: int | None, weekday: int | None) -> date | None:
        if year is not None:
            return _safe_date(year, month, day)
        options = [_safe_date(y, month, day) for y in (self.sent.year, self.sent.year + 1)]
        upcoming = [d for d in options if d is not None and d >= self.sent]
        if weekday is not None:
            matching = [d for d in upcoming if d.weekday() == weekday]
            if matching:
                return matching[0]
        return upcoming[0] if upcoming else None

    def day_only(self, day: int) -> date | None:
        year, month = self.sent.year, self.sent.month
        for _ in range(3):
            found = _safe_date(year, month, day)
            if found is not None and found >= self.sent:
                return found
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None

    def weekday(self, weekday: int) -> date:
        ahead = (weekday - self.sent.weekday()) % 7 or 7
        return self.sent + timedelta(days=ahead)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(match: re.Match[str]) -> int | None:
    """The mention's year ("26" is 2026), or None when it names none."""
    text = match.groupdict().get("year")
    if text is None:
        return None
    value = int(text)
    return 2000 + value if value < 100 else value


def _weekday_of(match: re.Match[str]) -> int | None:
    word = match.groupdict().get("weekday")
    return None if word is None else WEEKDAYS[word]


# --- date mentions, most specific form first ------------------------------------------------
def _month_day_range(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    return (w.day_month(int(m["day"]), MONTHS[m["month"]], _year(m), None),)


def _named_month(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    month = MONTHS[m["month"]]
    return (w.day_month(int(m["day"]), month, _year(m), _weekday_of(m)),)


def _iso(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    return (_safe_date(int(m["year"]), int(m["month"]), int(m["day"])),)


def _japanese(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    return (w.day_month(int(m["day"]), int(m["month"]), _year(m), None),)


def _day_first(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    return (w.day_month(int(m["day"]), int(m["month"]), _year(m), None),)


def _slashed(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    first, second, year = int(m["a"]), int(m["b"]), _year(m)
    month_first = w.day_month(second, first, year, None)
    day_first = w.day_month(first, second, year, None)
    if month_first is None or day_first is None or month_first == day_first:
        return (month_first, day_first)
    # Both readings exist ("03/04"): only a reading close to the notice is believable.
    near = w.sent + timedelta(days=AMBIGUOUS_WITHIN_DAYS)
    return tuple(d for d in (month_first, day_first) if d <= near)


def _ordinal(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    return (w.day_only(int(m["day"])),)


def _weekday(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    return (w.weekday(WEEKDAYS[m["weekday"]]),)


def _relative(m: re.Match[str], w: _Window) -> tuple[date | None, ...]:
    return (w.sent + timedelta(days=RELATIVE_DAYS[m["relative"]]),)


_Reader = Callable[[re.Match[str], _Window], tuple[date | None, ...]]
_NO_TIME_AFTER = r"(?!\s*(?:[:h]\d|uhr|am\b|pm\b|%|k|\$|€))"
_FORMS: tuple[tuple[re.Pattern[str], _Reader, bool], ...] = (
    # ranges: "dec 1-14", "1-14 december", "1.-14.12."
    (re.compile(rf"{_MONTH}\s+\d{{1,2}}{_ORD}\s*[-–]\s*(?P<day>\d{{1,2}}){_ORD}(?!\d){_YEAR}"),
     _month_day_range, True),
    (re.compile(rf"(?<!\d)\d{{1,2}}{_ORD}\.?\s*[-–]\s*(?P<day>\d{{1,2}}){_ORD}\.?\s*"
                rf"(?:of\s+|de\s+)?{_MONTH}{_YEAR}"), _month_day_range, True),
    (re.compile(r"(?<![\d.])\d{1,2}\.\s*[-–]\s*(?P<day>\d{1,2})\.(?P<month>\d{1,2})\."
                r"(?P<year>\d{4}|\d{2})?(?!\d)"), _day_first, True),
    (re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)"), _iso, False),
    (re.compile(r"(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?P<day>\d{1,2})日"), _japanese, False),
    (re.compile(rf"{_WEEKDAY}(?:the\s+)?(?<!\d)(?P<day>\d{{1,2}}){_ORD}\.?\s*(?:of\s+|de\s+|di\s+)?"
                rf"{_MONTH}{_YEAR}"), _named_month, False),
    (re.compile(rf"{_WEEKDAY}{_MONTH}\s+(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])"
                rf"{_YEAR}"), _named_month, False),
    (re.compile(r"(?<![\d./-])(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4}|\d{2})?(?![\d])"
                + _NO_TIME_AFTER), _day_first, False),
    (re.compile(r"(?<![\d./-])(?P<day>\d{1,2})\.(?P<month>\d{1,2})(?![\d.])" + _NO_TIME_AFTER),
     _day_first, False),
    (re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})[/-](?P<b>\d{1,2})(?:[/-](?P<year>\d{4}|\d{2}))?"
                r"(?![\d/-])"), _slashed, False),
    (re.compile(r"(?:the\s+)?(?<!\d)(?P<day>\d{1,2})(?:st|nd|rd|th)(?![a-z])"), _ordinal, False),
    (re.compile(r"(?:(?<![a-z])(?:am|ab|zum|dem|vom)\s+)(?P<day>\d{1,2})\.(?!\d)"),
     _ordinal, False),
    (re.compile(r"(?<![a-z])(?:le|du|el(?: dia)?|del|il|dal|dia|o dia|op|van)\s+"
                r"(?P<day>\d{1,2})(?:er)?(?![\d:h]|[.,]\d)"), _ordinal, False),
    (re.compile(rf"(?:(?:next|this|coming|nachsten|prochain|proximo)\s+)?(?<![a-z])"
                rf"(?P<weekday>{_words(WEEKDAYS)})(?![a-z])"), _weekday, False),
    (re.compile(rf"(?<![a-z])(?P<relative>{_words(RELATIVE_DAYS)})(?![a-z])"), _relative, False),
)  # fmt: skip


def _mentions(folded: str, window: _Window) -> list[_Mention]:
    taken: list[tuple[int, int]] = []
    found: list[_Mention] = []
    for pattern, reader, is_range in _FORMS:
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            dates = window.keep(*reader(match, window))
            found.append(_Mention(start, end, dates, is_range, reader is _weekday))
    found.sort(key=lambda m: m.start)
    return _without_decorating_weekdays(folded, found)


_DECORATION_GAP = re.compile(r"[\s,]*(?:(?:the|den|der|le|el|il|de|o)\s+)?")


def _without_decorating_weekdays(folded: str, mentions: list[_Mention]) -> list[_Mention]:
    """Drop a weekday written just before a date ("Monday the 14th", "Montag, 14.12."): the
    date says which day, and the weekday alone would point at the coming one."""
    kept: list[_Mention] = []
    for index, mention in enumerate(mentions):
        following = mentions[index + 1] if index + 1 < len(mentions) else None
        if (
            mention.weekday_only
            and following is not None
            and _DECORATION_GAP.fullmatch(folded[mention.end : following.start])
        ):
            continue
        kept.append(mention)
    return kept


# --- cues ------------------------------------------------------------------------------------
_RETURN_RE = re.compile(r"(?<![a-z])(?:" + "|".join(RETURN_CUES) + r")(?![a-z])")
_UNTIL_RE = re.compile(r"(?<![a-z])(?:" + "|".join(UNTIL_CUES) + r")(?![a-z])")
_JA_UNTIL = re.compile(r"まで")
_RANGE_GAP = re.compile(
    r"\s*(?:-|–|—|to|till|until|thru|through|bis(?: zum)?|au|al|a|ao|tot(?: en met)?|t/m"
    r"|fino al)\s*(?:the\s+|le\s+|el\s+|den\s+)?"
)


def _gap_ok(gap: str, *, before: bool) -> bool:
    if len(gap) > _CUE_REACH or _BOUNDARY.search(gap):
        return False
    return not (before and "," in gap)


def _after(mentions: list[_Mention], folded: str, position: int) -> _Mention | None:
    for mention in mentions:
        if mention.start >= position:
            return mention if _gap_ok(folded[position : mention.start], before=False) else None
    return None


def _before(mentions: list[_Mention], folded: str, position: int) -> _Mention | None:
    for mention in reversed(mentions):
        if mention.end <= position:
            return mention if _gap_ok(folded[mention.end : position], before=True) else None
    return None


def _paired(folded: str, mentions: list[_Mention]) -> Iterator[tuple[Reach, _Mention, int]]:
    """(what the date says, the mention, where its phrase starts) for every cue with a date."""
    starts = _range_starts(folded, mentions)
    for cue in _RETURN_RE.finditer(folded):
        if NEGATION_BEFORE.search(folded[max(0, cue.start() - 20) : cue.start()]):
            continue
        mention = _after(mentions, folded, cue.end()) or _before(mentions, folded, cue.start())
        if mention is not None and mention.start not in starts:
            yield Reach.RETURN, mention, min(cue.start(), mention.start)
    for cue in _UNTIL_RE.finditer(folded):
        mention = _after(mentions, folded, cue.end())
        if mention is not None:
            yield Reach.UNTIL, mention, cue.start()
    for cue in _JA_UNTIL.finditer(folded):
        mention = _before(mentions, folded, cue.start())
        if mention is not None:
            yield Reach.UNTIL, mention, mention.start
    for mention in mentions:
        if mention.range_end:
            yield Reach.UNTIL, mention, mention.start
    for first, second in pairwise(mentions):
        if _RANGE_GAP.fullmatch(folded[first.end : second.start]):
            yield Reach.UNTIL, second, first.start


def _range_starts(folded: str, mentions: list[_Mention]) -> set[int]:
    """Starts of "from X to Y" ranges: X is when the absence begins, never a return."""
    return {
        first.start
        for first, second in pairwise(mentions)
        if _RANGE_GAP.fullmatch(folded[first.end : second.start])
    }


def find_return_date(
    text: str, sent: date | datetime, *, max_days: int = DEFAULT_MAX_DAYS
) -> ReturnDate | None:
    """The day an out-of-office notice says the absence ends, or None when it names none, names
    one that cannot be believed, or names several that disagree."""
    day = sent.date() if isinstance(sent, datetime) else sent
    folded = fold(text[:MAX_SCANNED_CHARS])
    window = _Window(day, max_days)
    mentions = _mentions(folded, window)
    if not mentions:
        return None
    by_reach: dict[Reach, dict[date, str]] = {Reach.RETURN: {}, Reach.UNTIL: {}}
    ambiguous: set[Reach] = set()
    for reach, mention, phrase_start in _paired(folded, mentions):
        if len(mention.dates) > 1:
            ambiguous.add(reach)
        for found in mention.dates:
            phrase = " ".join(folded[phrase_start : mention.end].split())[:120]
            by_reach[reach].setdefault(found, phrase)
    for reach in (Reach.RETURN, Reach.UNTIL):
        dates = by_reach[reach]
        if not dates:
            continue
        if len(dates) > 1 or reach in ambiguous:
            return None
        ((back_on, phrase),) = dates.items()
        return ReturnDate(back_on, phrase, reach)
    return None


def looks_like_absence_notice(text: str) -> bool:
    """True when the opening of `text` says the sender is away ("I'm out of the office")."""
    return ABSENCE_PHRASES.search(fold(text[:400])) is not None


def add_business_days(start: date, days: int) -> date:
    """`start` moved forward `days` weekdays (Saturday and Sunday are skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def follow_up_not_before(back_on: date, grace_business_days: int, zone: tzinfo) -> datetime:
    """Start of the day `grace_business_days` weekdays after `back_on`, in the sender's zone."""
    return datetime.combine(add_business_days(back_on, grace_business_days), time(0), zone)


__all__ = [
    "DEFAULT_MAX_DAYS",
    "Reach",
    "ReturnDate",
    "add_business_days",
    "find_return_date",
    "follow_up_not_before",
    "looks_like_absence_notice",
]
