"""The signals of one reply, per sentence, ready for the reader's precedence table.

Phrases are matched on the folded new text with every amount overwritten by a mark, so a phrase
such as "<amount> doesn't work" sees where an amount stood. A phrase inside a longer one of
another list gives way to it ("can't do it" inside "can't do it for that price" is price talk,
not a decline). An acceptance right after "not", "if" or "unless" is none ("let me know if that
works"), and an acceptance inside the part of a sentence that asks is none ("Is that a deal?").
"Yes", "Perfect", "Deal" count only as their own fragment ("Yes!", "Perfect, thanks"), never
inside a sentence ("yes I saw the brief"). A decline that depends on price ("if the budget
can't move, we'll pass") is price talk.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from negotiation_pipeline.domain.reading.clauses import Clause, clauses_of
from negotiation_pipeline.domain.reading.folding import fold_case
from negotiation_pipeline.domain.reading.money_mentions import MentionKind, MoneyMention
from negotiation_pipeline.domain.reading.vocabulary import (
    AMOUNT_MARK,
    CompiledVocabulary,
    PhraseHit,
    Signal,
)

_ACCEPTANCE = frozenset(
    {Signal.ACCEPT, Signal.ACCEPT_STANDALONE, Signal.ENTHUSIASM, Signal.ACCEPT_WEAK}
)
_OWN_FRAGMENT = frozenset({Signal.ACCEPT_STANDALONE, Signal.ENTHUSIASM, Signal.ACCEPT_WEAK})
_LEAD_IN = re.compile(
    r"^(?:(?:oh|ah|hey|hi|well|and|so|then|um|also|wow|yes|yeah|ok|okay|great|perfect|sure|"
    r"absolutely|amazing|awesome)\b[\s,!.]*)*$"
)
_TRAIL = re.compile(
    r"^[\s!.,;:…)~*-]*(?:(?:(?:thanks?|thank you|thx|ty|so much|then|again|too|here|all around|"
    r"from (?:me|us|my side|our side|my end|our end)|on (?:my|our) (?:end|side)|to (?:that|"
    r"this|both|all|everything))\b|[\U0001F300-\U0001FAFF\u2600-\u27BF])[\s!.,]*)*$"
)
# A sentence that opens with a bare "No" ("No, sorry.", "Nope", "no we can't"); not "No problem".
_LEADING_NO = re.compile(
    r"^\W*(?:no+|nope|nah|nay)(?:\s*[,.!;]|\s*$|\s+(?:thanks|thank|sorry|unfortunately|i|we|"
    r"that|this|it|not|can't|cant|way)\b)"
)
_CONDITION = re.compile(r"\b(?:if|unless|otherwise)\b")
_PRICE_WORD = re.compile(
    r"\b(?:budget|rate|fee|price|pay|offer|amount|money|number)\b|" + AMOUNT_MARK
)

# The confidence of a vague yes alone ("ok", "fine").
VAGUE_ACCEPTANCE = 0.5


@dataclass(frozen=True)
class Evidence:
    hits: tuple[PhraseHit, ...]
    clauses: tuple[Clause, ...]
    questions: tuple[Clause, ...]  # asking sentences that are about the deal
    polite: tuple[bool, ...]  # per question: no reopening of the terms inside it
    leading_no: bool
    accept_emoji: bool
    decline_emoji: bool

    def has(self, signal: Signal) -> bool:
        return any(hit.signal is signal for hit in self.hits)

    def count(self, signal: Signal) -> int:
        return sum(1 for hit in self.hits if hit.signal is signal)

    @property
    def declines(self) -> bool:
        return self.has(Signal.DECLINE) or self.leading_no

    @property
    def clear_acceptance(self) -> bool:
        return (
            self.has(Signal.ACCEPT)
            or self.has(Signal.ACCEPT_STANDALONE)
            or self.has(Signal.AFTER_DEAL)
        )

    @property
    def changes_terms(self) -> bool:
        return any(
            hit.signal is Signal.DIFFERENT_TERMS and self._question_at(hit.start) is None
            for hit in self.hits
        )

    @property
    def questions_are_polite(self) -> bool:
        return all(self.polite)

    def restated_ours(self, mentions: list[MoneyMention]) -> MoneyMention | None:
        """Our amount restated outside a question (the one with an acceptance cue first)."""
        ours = [
            m for m in mentions if m.kind is MentionKind.OURS and self._question_at(m.start) is None
        ]
        accepted = [m for m in ours if m.accepted]
        chosen = accepted or ours
        return chosen[0] if chosen else None

    def decline_confidence(self) -> float:
        confidence = 0.93 if self.has(Signal.DECLINE) else 0.8
        if self.has(Signal.ACCEPT):
            confidence -= 0.12
        if self.has(Signal.HEDGE) or self.has(Signal.HEDGE_WEAK):
            confidence -= 0.08
        return confidence

    def question_confidence(self) -> float:
        confidence = 0.9 if any(clause.marked for clause in self.questions) else 0.82
        if self.has(Signal.HEDGE):
            confidence -= 0.08
        if self.clear_acceptance:
            confidence -= 0.08
        return confidence

    def acceptance_confidence(self) -> float:
        if self.has(Signal.ACCEPT):
            confidence = 0.95
        elif self.has(Signal.ACCEPT_STANDALONE):
            confidence = 0.88
        elif self.has(Signal.AFTER_DEAL):
            confidence = 0.85
        elif self.has(Signal.ENTHUSIASM):
            confidence = 0.72
        elif self.accept_emoji:
            confidence = 0.7
        elif self.has(Signal.ACCEPT_WEAK):
            return VAGUE_ACCEPTANCE
        else:
            return 0.0
        if self.has(Signal.HEDGE_WEAK):
            confidence -= 0.12
        if self.has(Signal.DECLINE_SOFT):
            confidence -= 0.15
        return confidence

    def _question_at(self, position: int) -> Clause | None:
        for clause in self.questions:
            if clause.start <= position < clause.end:
                return clause
        return None


def gather_evidence(text: str, mentions: list[MoneyMention], words: CompiledVocabulary) -> Evidence:
    marked = _mark_amounts(fold_case(text), mentions)
    raw = _without_nested(words.phrases.hits(marked))
    indirect = [hit.start for hit in raw if hit.signal is Signal.INDIRECT_QUESTION]
    clauses = clauses_of(marked, words, indirect)
    hits = tuple(_filtered(raw, clauses, marked, words))
    questions, polite = _deal_questions(clauses, hits, mentions)
    emoji = words.ascii_emoji or not text.isascii()
    return Evidence(
        hits=hits,
        clauses=tuple(clauses),
        questions=questions,
        polite=polite,
        leading_no=bool(clauses) and bool(_LEADING_NO.match(marked[clauses[0].start :])),
        accept_emoji=bool(emoji and words.accept_emoji and words.accept_emoji.search(text)),
        decline_emoji=bool(emoji and words.decline_emoji and words.decline_emoji.search(text)),
    )


def _mark_amounts(folded: str, mentions: list[MoneyMention]) -> str:
    if not mentions:
        return folded
    pieces, last = [], 0
    for mention in mentions:
        if mention.start < last:
            continue
        pieces += [folded[last : mention.start], AMOUNT_MARK * (mention.end - mention.start)]
        last = mention.end
    pieces.append(folded[last:])
    return "".join(pieces)


def _without_nested(hits: list[PhraseHit]) -> list[PhraseHit]:
    """Drop every hit that starts inside an earlier or longer one (hits come in order of their
    start): "<amount> doesn't work" is price talk, the "doesn't work for me" inside it is not a
    decline of its own."""
    if len(hits) < 2:
        return hits
    kept: list[PhraseHit] = []
    reach = -1  # the furthest end of a hit kept so far
    for hit in hits:
        if hit.start < reach and not (kept and kept[-1].start == hit.start):
            continue  # starts inside an earlier hit
        while kept and kept[-1].start == hit.start and kept[-1].end < hit.end:
            kept.pop()  # a longer hit from the same word
        kept.append(hit)
        reach = max(reach, hit.end)
    return kept


def _filtered(
    hits: list[PhraseHit], clauses: list[Clause], marked: str, words: CompiledVocabulary
) -> list[PhraseHit]:
    kept: list[PhraseHit] = []
    on_price: dict[int, bool] = {}  # per sentence start: a condition about the price in it
    starts = [clause.start for clause in clauses]
    for hit in hits:
        index = _clause_index(clauses, starts, hit.start)
        if index is None:
            continue
        clause = clauses[index]
        fragment_start, fragment_end = _fragment_at(clause, hit.start)
        if hit.signal in _ACCEPTANCE:
            before = marked[fragment_start : hit.start]
            if words.negation.search(before[-30:] if before else " ") and before:
                continue
            if _fragment_asks(clause, fragment_start, fragment_end, marked, words):
                continue
            if hit.signal in _OWN_FRAGMENT and not (
                _LEAD_IN.match(before.strip()) and _TRAIL.match(marked[hit.end : fragment_end])
            ):
                continue
        if hit.signal is Signal.DECLINE:
            if clause.start not in on_price:
                on_price[clause.start] = _conditional_on_price(marked, clause)
            if on_price[clause.start]:
                hit = PhraseHit(Signal.PRICE_TALK, hit.start, hit.end)
        kept.append(hit)
    return kept


def _deal_questions(
    clauses: list[Clause], hits: tuple[PhraseHit, ...], mentions: list[MoneyMention]
) -> tuple[tuple[Clause, ...], tuple[bool, ...]]:
    """Asking sentences about the deal: not small talk, not price talk (a counter), not one
    carrying their proposed amount, not an after-deal question (an acceptance)."""
    starts = [clause.start for clause in clauses]
    signals: list[set[Signal]] = [set() for _ in clauses]
    for hit in hits:
        index = _clause_index(clauses, starts, hit.start)
        if index is not None:
            signals[index].add(hit.signal)
    proposing = [False] * len(clauses)
    for mention in mentions:
        index = _clause_index(clauses, starts, mention.start)
        if index is not None and mention.kind is MentionKind.PROPOSAL:
            proposing[index] = True
    questions: list[Clause] = []
    polite: list[bool] = []
    for clause, inside, proposes in zip(clauses, signals, proposing, strict=True):
        if not clause.asks or proposes:
            continue
        if inside & {Signal.SMALL_TALK, Signal.PRICE_TALK, Signal.AFTER_DEAL}:
            continue
        questions.append(clause)
        polite.append(Signal.REOPENS_TERMS not in inside)
    return tuple(questions), tuple(polite)


def _clause_index(clauses: list[Clause], starts: list[int], position: int) -> int | None:
    """Which sentence holds `position`, or None (between sentences). `starts` are the
    sentences' starts: sentences are in order and do not overlap, so a bisection finds it
    (a long reply has thousands of sentences and phrases)."""
    index = bisect_right(starts, position) - 1
    if index >= 0 and position < clauses[index].end:
        return index
    return None


def _fragment_at(clause: Clause, position: int) -> tuple[int, int]:
    start, end = clause.start, clause.end
    for fragment in clause.fragment_starts:
        if fragment <= position:
            start = fragment
        elif fragment > position:
            end = fragment
            break
    return start, end


def _fragment_asks(
    clause: Clause, start: int, end: int, marked: str, words: CompiledVocabulary
) -> bool:
    """Whether the fragment holding an acceptance is itself the question ("Is that a deal?",
    "does that work for you"), not a statement beside one ("Sounds great, when do we start?")."""
    if not clause.asks:
        return False
    if end >= clause.end and clause.marked:
        return True
    return words.question_opener.match(marked, start, end) is not None


def _conditional_on_price(marked: str, clause: Clause) -> bool:
    """Whether the sentence puts a condition on the price ("I'll pass unless you can raise the
    fee"): a decline in it is then price talk. Searched once per sentence, however many
    declines it holds."""
    sentence = marked[clause.start : clause.end]
    return bool(_CONDITION.search(sentence) and _PRICE_WORD.search(sentence))
