"""Sentences and their fragments in a reply's new text, and which of them ask something.

Wrapped mail ("…who should I\\ninvoice?") is re-joined: a line break ends a sentence only after a
short line (a greeting, a list item) not followed by a lowercase word, after end punctuation,
or before a blank line. A sentence
asks when it ends with "?", opens like a question (a wh-word with an auxiliary, or an auxiliary
with a subject: "is the usage…", "do you…"), or says so ("I was wondering if…"). Topic words
play no part here: they only choose the answer.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import NamedTuple

from negotiation_pipeline.domain.reading.vocabulary import CompiledVocabulary

# A line break inside a wrapped sentence: after a line of at least 45 characters that ends
# in a letter, digit, comma or amount, before a line that goes on (not blank, not a list item);
# or any line break between a word and a lowercase word ("who should I\ninvoice?").
# Both alternatives look behind from after the line break (so the pattern starts with "\n" and
# the regex engine jumps from line break to line break instead of trying every position).
_SOFT_NEWLINE = re.compile(
    r"\n(?:(?<=[^\n]{44}[\w,'\"¤%]\n)(?=[ \t]*\S)(?![ \t]*(?:[-*•]|\d+[.)])\s)"
    r"|(?<=[\w,]\n)(?=[ \t]*[a-z]))"
)
# A sentence: from its first visible character to end punctuation followed by a space (not the
# dot inside "$1.5k") or to the end of its line.
_SENTENCE = re.compile(r"[^\s](?:[^\n.!?…]+|[.!?…]+(?![\s\"')\]]|$))*[.!?…]*")
_FRAGMENT_BREAK = re.compile(r"(?:[,;:—–(]|\s-)\s*")
_WORD = re.compile(r"[\w']+")


class Clause(NamedTuple):
    """One sentence (a named tuple: a reply has several, and each is made on every read)."""

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
    indirect = sorted(indirect)
    for start, end in _sentence_spans(marked):
        fragments = [start] + [m.end() for m in _FRAGMENT_BREAK.finditer(marked, start, end)]
        first_indirect = bisect_left(indirect, start)  # an indirect question in [start, end)
        asks = _asks(marked, start, end, fragments, words) or (
            first_indirect < len(indirect) and indirect[first_indirect] < end
        )
        clauses.append(Clause(start, end, tuple(fragments), asks, marked[end - 1] == "?"))
    return clauses


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    joined = _SOFT_NEWLINE.sub(" ", text) if "\n" in text else text  # same length
    spans = []
    for match in _SENTENCE.finditer(joined):
        start = match.start()
        spans.append((start, start + len(match.group(0).rstrip())))
    return spans


def _asks(text: str, start: int, end: int, fragments: list[int], words: CompiledVocabulary) -> bool:
    sentence = text[start:end]
    if sentence.endswith("?"):
        stripped = sentence.rstrip("?!. ")
        return stripped not in words.reactions and bool(_WORD.search(stripped))
    unpunctuated = not sentence.endswith((".", "!", "…"))
    for position in fragments:
        first = _WORD.search(text, position, end)
        if first is not None and first.group(0) in words.lead_ins:
            position = first.end()  # "hey what would …": the question starts after "hey"
            first = _WORD.search(text, position, end)
        if first is None or first.group(0) not in words.openers:
            continue
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
