"""Sentences and their fragments in a reply's new text, and which of them ask something.

Wrapped mail ("…who should I\\ninvoice?") is re-joined: a line break ends a sentence only after a
short line (a greeting, a list item), after end punctuation, or before a blank line. A sentence
asks when it ends with "?", opens like a question (a wh-word with an auxiliary, or an auxiliary
with a subject: "is the usage…", "do you…"), or says so ("I was wondering if…"). Topic words
play no part here: they only choose the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from negotiation_pipeline.domain.reply_vocabulary import CompiledVocabulary

_HARD_END = re.compile(r"[.!?…]+(?=[\s\"')\]]|$)|\n")
_FRAGMENT_BREAK = re.compile(r"[,;:—–(]|\s-\s")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")
_LINE_FOR_WRAPPING = 45  # a line at least this long may be a wrapped one
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    fragment_starts: tuple[int, ...]  # where each comma/dash fragment begins (the first = start)
    asks: bool  # a question by its form
    marked: bool  # it ends with "?"


def clauses_of(marked: str, words: CompiledVocabulary, indirect: list[int]) -> list[Clause]:
    """The sentences of `marked` (folded text), each with its fragments and whether it asks.

    `indirect` holds the positions where an indirect-question phrase was found.
    """
    clauses: list[Clause] = []
    for start, end in _sentence_spans(marked):
        text = marked[start:end]
        fragments = [start] + [start + m.end() for m in _FRAGMENT_BREAK.finditer(text)]
        fragments = [_skip_space(marked, position, end) for position in fragments]
        asks = _asks(marked, start, end, fragments, words) or any(
            start <= position < end for position in indirect
        )
        clauses.append(Clause(start, end, tuple(fragments), asks, text.endswith("?")))
    return clauses


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    begin = 0
    for found in _HARD_END.finditer(text):
        if found.group(0) == "\n" and _soft_break(text, found.start()):
            continue
        end = found.end() if found.group(0) != "\n" else found.start()
        _add(spans, text, begin, end)
        begin = found.end()
    _add(spans, text, begin, len(text))
    return spans


def _add(spans: list[tuple[int, int]], text: str, begin: int, end: int) -> None:
    begin = _skip_space(text, begin, end)
    while end > begin and text[end - 1].isspace():
        end -= 1
    if end > begin:
        spans.append((begin, end))


def _skip_space(text: str, position: int, limit: int) -> int:
    while position < limit and text[position].isspace():
        position += 1
    return position


def _soft_break(text: str, newline: int) -> bool:
    """A line break inside a wrapped sentence (a long line going on in the next one)."""
    line_start = text.rfind("\n", 0, newline) + 1
    line = text[line_start:newline].rstrip()
    following_end = text.find("\n", newline + 1)
    following = text[newline + 1 : following_end if following_end >= 0 else len(text)]
    if len(line) < _LINE_FOR_WRAPPING or not following.strip() or _BULLET.match(following):
        return False
    return line[-1:].isalnum() or line[-1:] in ",'\"¤%"


def _asks(text: str, start: int, end: int, fragments: list[int], words: CompiledVocabulary) -> bool:
    sentence = text[start:end]
    if sentence.endswith("?"):
        stripped = sentence.rstrip("?!. ")
        return stripped not in words.reactions and bool(_WORD.search(stripped))
    unpunctuated = not sentence.endswith((".", "!", "…"))
    for position in fragments:
        opener = words.question_opener.match(text, position, end)
        if opener is None:
            continue
        if opener.group("wh") is None:
            return True  # auxiliary + subject: "is the usage 30 days"
        if unpunctuated or opener.group("next") in _AUXILIARY_AFTER_WH:
            return True
    return False


# After a wh-word these make it a question even with a full stop ("What are the terms.").
_AUXILIARY_AFTER_WH = frozenset(
    {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should"}
    | {"shall", "may", "might", "has", "have", "many", "much", "long", "soon", "often"}
)
