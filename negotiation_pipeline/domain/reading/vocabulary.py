"""The reply reader's editable word lists (config/reply_vocabulary.yaml) and their matcher.

`ReplyVocabulary` validates the file (pydantic); every phrase is compiled when it is loaded, so a
bad phrase is an error naming its list, never a surprise while reading mail. `PhraseMatcher`
finds every phrase in one pass over the words of a text: phrases are indexed by the words they
can start with, so each word of a reply tries only the few phrases that could begin there.

Phrase syntax is described at the top of the YAML file: words, "(a|b)" alternatives, "[a|b]"
optional parts, "*" any word, "..." up to three words, "<amount>" an amount of money.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

# Amount spans are overwritten with this character before phrases are matched.
AMOUNT_MARK = "¤"
_SEPARATOR = r"[\s,]+"
_TOKEN = re.compile(r"\(|\)|\[|\]|\||\.\.\.|\*|<amount>|[^\s()\[\]|]+")
_FORBIDDEN = re.compile(r"[\\^$?+{}]")
_TEXT_WORD = re.compile(r"[\w']+|" + AMOUNT_MARK + "+")


class Signal(StrEnum):
    """What a matched phrase says about the reply."""

    ACCEPT = "accept"
    ACCEPT_STANDALONE = "accept_standalone"
    ENTHUSIASM = "enthusiasm"
    ACCEPT_WEAK = "accept_weak"
    AFTER_DEAL = "after_deal"
    REQUEST = "request"
    DECLINE = "decline"
    DECLINE_SOFT = "decline_soft"
    PRICE_TALK = "price_talk"
    DIFFERENT_TERMS = "different_terms"
    HEDGE = "hedge"
    HEDGE_WEAK = "hedge_weak"
    INDIRECT_QUESTION = "indirect_question"
    SMALL_TALK = "small_talk"
    REOPENS_TERMS = "reopens_terms"


class PhraseError(ValueError):
    """A vocabulary phrase cannot be compiled; the message quotes it."""


def _check_phrases(phrases: list[str]) -> list[str]:
    for phrase in phrases:
        compile_phrase(phrase)
    return phrases


class _Lists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _phrases_compile(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, list) and info.field_name not in _PLAIN_LISTS:
            _check_phrases([str(item) for item in value])
        return value


# Lists of single characters or single words, not phrases.
_PLAIN_LISTS = frozenset({"emoji", "wh_words", "auxiliaries", "subjects", "reactions", "lead_ins"})


class AcceptWords(_Lists):
    strong: list[str]
    standalone: list[str]
    enthusiasm: list[str]
    weak: list[str]
    after_deal: list[str]
    requests: list[str]
    emoji: list[str]


class DeclineWords(_Lists):
    explicit: list[str]
    soft: list[str]
    emoji: list[str]


class CounterWords(_Lists):
    price_talk: list[str]
    different_terms: list[str]


class HedgeWords(_Lists):
    strong: list[str]
    weak: list[str]


class QuestionWords(_Lists):
    wh_words: list[str]
    auxiliaries: list[str]
    subjects: list[str]
    indirect: list[str]
    small_talk: list[str]
    reactions: list[str]
    lead_ins: list[str]
    reopens_terms: list[str]


class ReplyVocabulary(BaseModel):
    """config/reply_vocabulary.yaml as validated lists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accept: AcceptWords
    decline: DeclineWords
    counter: CounterWords
    hedge: HedgeWords
    question: QuestionWords
    negation: list[str]

    def compile(self) -> CompiledVocabulary:
        return CompiledVocabulary.from_lists(self)


class PhraseHit(NamedTuple):
    signal: Signal
    start: int
    end: int


class _Entry(NamedTuple):
    """One phrase under one of the words it can start with."""

    shortest: int  # the fewest characters a match can have
    regex: str
    signal: Signal
    seconds: frozenset[str] | None  # the words it can go on with; None: any word, or none


class _Alternation(NamedTuple):
    """Phrases tried together at one word: one capturing group each, in trial order."""

    pattern: re.Pattern[str]
    signals: tuple[Signal, ...]


class PhraseMatcher:
    """All phrases of every list, indexed by the words they can start with.

    At each word of a text only the phrases that start with it and can go on with the next word
    are tried (one regex, one capturing group per phrase, longest first, built on first use), so
    each word costs a dict lookup and at most one match call against a few phrases.
    """

    def __init__(self, lists: dict[Signal, list[str]]) -> None:
        by_key: dict[str, list[_Entry]] = defaultdict(list)
        for signal, phrases in lists.items():
            for phrase in phrases:
                regex, prefixes, shortest = _phrase_parts(phrase)
                for key in {str(prefix[0]) for prefix in prefixes}:
                    seconds = _seconds(key, prefixes)
                    by_key[key].append(_Entry(shortest, regex, signal, seconds))
        # Per first word: its phrases in trial order, every word one of them names as the next
        # one, and whether one of them goes on with any word (or none).
        self._index: dict[str, tuple[tuple[_Entry, ...], frozenset[str], bool]] = {}
        for key, entries in by_key.items():
            # Longest phrases first: "fine by me" must be tried before "fine" (a stable sort).
            entries.sort(key=lambda entry: entry.shortest, reverse=True)
            definite = frozenset().union(*(e.seconds for e in entries if e.seconds is not None))
            any_next = any(entry.seconds is None for entry in entries)
            self._index[key] = (tuple(entries), definite, any_next)
        self._alternations: dict[tuple[str, str | None], _Alternation] = {}

    def hits(self, folded: str) -> list[PhraseHit]:
        """Phrase occurrences in `folded` (case-folded, amounts marked), reading order: at each
        word the first (longest-written) phrase that matches there."""
        found: list[PhraseHit] = []
        index = self._index
        # Each word's key: an amount's marks are one key, apostrophes do not count.
        words = [
            (
                word.start(),
                AMOUNT_MARK if (token := word.group(0))[0] == AMOUNT_MARK else _key(token),
            )
            for word in _TEXT_WORD.finditer(folded)
        ]
        last = len(words) - 1
        for position, (start, key) in enumerate(words):
            entry = index.get(key)
            if entry is None:
                continue
            following = words[position + 1][1] if position != last else None
            second = following if following in entry[1] else None
            if second is None and not entry[2]:
                continue  # no phrase starting with this word goes on with the next one
            alternation = self._alternations.get((key, second))
            if alternation is None:
                alternation = self._alternation(key, second)
            match = alternation.pattern.match(folded, start)
            if match is not None and match.lastindex is not None:
                signal = alternation.signals[match.lastindex - 1]
                found.append(PhraseHit(signal, match.start(), match.end()))
        return found

    def _alternation(self, key: str, second: str | None) -> _Alternation:
        """The phrases starting with `key` that can go on with `second` (None: a word no phrase
        names, or no word), in trial order; the others cannot match there."""
        entries = [
            entry
            for entry in self._index[key][0]
            if entry.seconds is None or (second is not None and second in entry.seconds)
        ]
        combined = "|".join(f"({entry.regex})" for entry in entries)
        alternation = _Alternation(
            re.compile(f"(?:{combined})(?![\\w'])"), tuple(entry.signal for entry in entries)
        )
        self._alternations[(key, second)] = alternation
        return alternation


def _seconds(key: str, prefixes: Prefixes) -> frozenset[str] | None:
    """The words a phrase starting with `key` can go on with; None when it can go on with any
    word (a wildcard, an amount) or end after it."""
    seconds = set()
    for prefix in prefixes:
        if str(prefix[0]) != key:
            continue
        if len(prefix) < 2 or prefix[1] is None or prefix[1] == AMOUNT_MARK:
            return None
        seconds.add(prefix[1])
    return frozenset(seconds)


@dataclass(frozen=True)
class CompiledVocabulary:
    """Everything the reader needs from the vocabulary, compiled once."""

    phrases: PhraseMatcher
    accept_emoji: re.Pattern[str] | None
    decline_emoji: re.Pattern[str] | None
    question_opener: re.Pattern[str]
    openers: frozenset[str]  # the first words a question can open with
    lead_ins: frozenset[str]  # words a question may come after ("hey what …", "so is …")
    reactions: frozenset[str]
    negation: re.Pattern[str]
    # Whether an emoji list holds a plain ASCII symbol (":)"): else a plain ASCII text, the
    # usual kind, holds none and the emoji patterns need not run.
    ascii_emoji: bool = False

    @classmethod
    def from_lists(cls, words: ReplyVocabulary) -> CompiledVocabulary:
        question = words.question
        lists = {
            Signal.ACCEPT: words.accept.strong,
            Signal.ACCEPT_STANDALONE: words.accept.standalone,
            Signal.ENTHUSIASM: words.accept.enthusiasm,
            Signal.ACCEPT_WEAK: words.accept.weak,
            Signal.AFTER_DEAL: words.accept.after_deal,
            Signal.REQUEST: words.accept.requests,
            Signal.DECLINE: words.decline.explicit,
            Signal.DECLINE_SOFT: words.decline.soft,
            Signal.PRICE_TALK: words.counter.price_talk,
            Signal.DIFFERENT_TERMS: words.counter.different_terms,
            Signal.HEDGE: words.hedge.strong,
            Signal.HEDGE_WEAK: words.hedge.weak,
            Signal.INDIRECT_QUESTION: question.indirect,
            Signal.SMALL_TALK: question.small_talk,
            Signal.REOPENS_TERMS: question.reopens_terms,
        }
        return cls(
            phrases=PhraseMatcher(lists),
            accept_emoji=_char_class(words.accept.emoji),
            decline_emoji=_char_class(words.decline.emoji),
            question_opener=_opener(question.wh_words, question.auxiliaries, question.subjects),
            openers=frozenset(word.lower() for word in [*question.wh_words, *question.auxiliaries]),
            lead_ins=frozenset(word.lower() for word in question.lead_ins),
            reactions=frozenset(reaction.lower() for reaction in question.reactions),
            negation=_negation(words.negation),
            ascii_emoji=any(
                symbol.isascii() for symbol in [*words.accept.emoji, *words.decline.emoji]
            ),
        )


def _char_class(symbols: list[str]) -> re.Pattern[str] | None:
    if not symbols:
        return None
    return re.compile("|".join(re.escape(symbol) for symbol in sorted(symbols, key=len)[::-1]))


def _alternation(words: list[str]) -> str:
    ordered = sorted({_word_regex(word.lower()) for word in words}, key=len, reverse=True)
    return "(?:" + "|".join(ordered) + ")"


def _opener(wh_words: list[str], auxiliaries: list[str], subjects: list[str]) -> re.Pattern[str]:
    """A clause that opens like a question: a wh-word (group "wh", with the next word in "next"),
    or an auxiliary followed by a subject ("is the usage…", "do you…"; not "can do")."""
    return re.compile(
        rf"[^\w{AMOUNT_MARK}]*(?:(?P<wh>{_alternation(wh_words)})(?![\w'])\s*(?P<next>[\w']*)"
        rf"|{_alternation(auxiliaries)}\s+{_alternation(subjects)}(?![\w']))"
    )


def _negation(words: list[str]) -> re.Pattern[str]:
    """A negating word at most two words before the end of the window ("not really …")."""
    parts = [("n't" if word == "n't" else rf"\b{re.escape(word.lower())}") for word in words]
    return re.compile(r"(?:" + "|".join(parts) + r")(?:\s+[\w']+){0,2}\s+$")


def _key(word: str) -> str:
    return word.replace("'", "")


def _first_key(word: str) -> str:
    """The index key of a phrase word: its first run of word characters, as the text's words
    are cut ("w-9" → "w", "100%" → "100"), without apostrophes."""
    found = _TEXT_WORD.match(word)
    if found is None:
        raise PhraseError(f"word {word!r} does not start with a letter or digit")
    return _key(found.group(0))


def compile_phrase(phrase: str) -> tuple[re.Pattern[str], frozenset[str]]:
    """One phrase → (anchored whole-word regex, the index keys of the words it can start with);
    PhraseError names what is wrong with it."""
    regex, keys = phrase_regex(phrase)
    return re.compile(regex + r"(?![\w'])"), keys


def phrase_regex(phrase: str) -> tuple[str, frozenset[str]]:
    """The regex source of one phrase (no groups of its own) and its index keys."""
    regex, prefixes, _ = _phrase_parts(phrase)
    return regex, frozenset(str(prefix[0]) for prefix in prefixes)


def _phrase_parts(phrase: str) -> tuple[str, Prefixes, int]:
    """(regex source, its first two word keys, the fewest characters a match can have)."""
    text = phrase.strip().lower()
    if not text:
        raise PhraseError("empty phrase")
    if _FORBIDDEN.search(text):
        raise PhraseError(f"phrase {phrase!r}: characters \\ ^ $ ? + {{ }} are not allowed")
    tokens = _TOKEN.findall(text)
    parser = _Parser(tokens, phrase)
    regex, prefixes, can_be_empty, shortest = parser.sequence()
    if parser.position != len(tokens):
        raise PhraseError(f"phrase {phrase!r}: unbalanced ')' or ']'")
    if (
        can_be_empty
        or not prefixes
        or any(prefix[0] is None or _is_clitic(prefix[0]) for prefix in prefixes)
    ):
        raise PhraseError(f"phrase {phrase!r}: must start with a word")
    return regex, prefixes, shortest


Prefixes = set[tuple[str | None, ...]]  # the first (up to two) word keys a match can have
_MAX_PREFIXES = 256
# Ends a prefix whose phrase goes on after its two keys: later words change nothing in it.
_MORE = "\x00"


def _joined(left: Prefixes, right: Prefixes) -> Prefixes:
    joined = {_followed_by(a, b) for a in left for b in right}
    if len(joined) > _MAX_PREFIXES:  # too many to be worth it: keep first words only
        return {(a[0], None, _MORE) for a in joined}
    return joined


def _followed_by(
    first: tuple[str | None, ...], then: tuple[str | None, ...]
) -> tuple[str | None, ...]:
    """The word keys of `first` followed by `then`, cut to two (then `_MORE`). A clitic key
    ("'s", "'re") joins the word before it, as the text's "that's" is the one word "thats";
    after an amount it stays a word of its own ("$500's" is an amount, then "s")."""
    if first and first[-1] == _MORE:
        return first
    if first and then and _is_clitic(then[0]):
        clitic, last = str(then[0])[1:], first[-1]
        if last is None:
            then = then[1:]
        elif last == AMOUNT_MARK:
            then = (clitic, *then[1:])
        else:
            first, then = (*first[:-1], last + clitic), then[1:]
    keys = first + tuple(key for key in then if key != _MORE)
    more = len(keys) > 2 or (then[-1:] == (_MORE,))
    return (*keys[:2], _MORE) if more and len(keys) >= 2 else keys


def _is_clitic(key: str | None) -> bool:
    return key is not None and key.startswith("'")


class _Parser:
    """Recursive descent over phrase tokens; yields (regex, prefixes, can be empty, shortest).

    A key of None means any word may stand there (a wildcard); a phrase may not start so.
    """

    def __init__(self, tokens: list[str], phrase: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.phrase = phrase

    def sequence(self, lead: str = "") -> tuple[str, Prefixes, bool, int]:
        """Items up to the next "|", ")" or "]". `lead` is what stands before the first of them
        (a separator, or nothing at the start of the phrase); each item writes its own, so a
        clitic ("'s") can go without one."""
        pieces: list[str] = []
        prefixes: Prefixes = {()}
        shortest = 0
        while self.position < len(self.tokens) and self.tokens[self.position] not in "|)]":
            regex, item_prefixes, optional, item_shortest = self._item(lead)
            prefixes = _joined(prefixes, item_prefixes | ({()} if optional else set()))
            if not optional:
                shortest += item_shortest + (1 if lead else 0)
                pieces.append(regex)
                lead = _SEPARATOR
            elif lead:
                pieces.append(f"(?:{regex})?")
            else:  # optional at the start: its separator comes after it
                pieces.append(f"(?:{regex}{_SEPARATOR})?")
        return "".join(pieces), prefixes, () in prefixes, shortest

    def _item(self, lead: str) -> tuple[str, Prefixes, bool, int]:
        token = self.tokens[self.position]
        self.position += 1
        if token in ("(", "["):
            closing = ")" if token == "(" else "]"
            regex, prefixes, shortest = self._alternatives(closing, lead)
            return regex, prefixes, token == "[", shortest
        if token == "*":
            return lead + r"[\w'-]+", {(None,)}, False, 1
        if token == "...":
            return lead + r"[\w'-]+(?:\s+[\w'-]+){0,2}", {(None,)}, False, 1
        if token == "<amount>":
            return lead + AMOUNT_MARK + "+", {(AMOUNT_MARK,)}, False, 1
        keys = tuple(_first_key(piece) for piece in token.split("-") if piece)[:2]
        if token.startswith("'"):  # a clitic is written onto the word before it
            return _word_regex(token), {("'" + keys[0], *keys[1:])}, False, len(token) - 1
        return lead + _word_regex(token), {keys}, False, len(token.replace("'", ""))

    def _alternatives(self, closing: str, lead: str) -> tuple[str, Prefixes, int]:
        options: list[str] = []
        prefixes: Prefixes = set()
        shortest: int | None = None
        while True:
            regex, option_prefixes, empty, option_shortest = self.sequence(lead)
            if empty:
                raise PhraseError(f"phrase {self.phrase!r}: an empty or all-optional alternative")
            options.append(regex)
            prefixes |= option_prefixes
            shortest = option_shortest if shortest is None else min(shortest, option_shortest)
            if self.position >= len(self.tokens):
                raise PhraseError(f"phrase {self.phrase!r}: missing {closing!r}")
            token = self.tokens[self.position]
            self.position += 1
            if token == "|":
                continue
            if token != closing:
                raise PhraseError(f"phrase {self.phrase!r}: {token!r} where {closing!r} belongs")
            return "(?:" + "|".join(options) + ")", prefixes, shortest or 0


def _word_regex(word: str) -> str:
    """A literal word: an apostrophe is optional, a hyphen may be a space or nothing."""
    parts = []
    for char in word:
        if char == "'":
            parts.append("'?")
        elif char == "-":
            parts.append(r"[-\s]?")
        else:
            parts.append(re.escape(char))
    return "".join(parts)
