"""Reading an influencer's reply: new text only, intent, proposed rate and currency.

Deterministic and network-free: quoted history and signatures are cut (domain/quoting.py), the
amounts are found and weighed (domain/money_mentions.py), and the intent comes from phrase scores
per sentence with negation and contrast handling ("Sounds good, but I'd need $1,200" is a
counter). Confidence is the winning score's share of all evidence, so mixed signals lower it;
below the threshold the intent is UNCLEAR.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.money_mentions import (
    MoneyMention,
    find_money_mentions,
    fold_case,
    proposed_amount,
)
from negotiation_pipeline.domain.quoting import split_reply
from negotiation_pipeline.domain.types import Intent


@dataclass(frozen=True)
class ReplyReading:
    intent: Intent
    proposed_rate: Decimal | None  # the amount the sender proposes now, in `currency`
    currency: str | None  # ISO code: "USD", "EUR", "GBP"; None when no amount
    confidence: float  # 0..1; below the configured threshold the intent is UNCLEAR
    new_text: str  # the reply with quoted history and signature removed


def _phrases(*alternatives: str) -> re.Pattern[str]:
    """One pattern for whole-word phrases; text is ASCII-lowercased first (fold_case)."""
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w])")


_ACCEPT_STRONG = _phrases(
    r"sounds? (?:good|great|perfect|fair|amazing|awesome|fine)",
    r"(?:it'?s a |we have a |you have a |you'?ve got a |that'?s a )?deal",
    r"let'?s (?:do it|do this|go|go ahead|make it happen|move forward|proceed|lock it in)",
    r"(?:happy|glad|excited|ready|good) to (?:proceed|move forward|go ahead|confirm|accept)",
    r"(?:we|i) can (?:move forward|proceed|go ahead)",
    r"works? (?:for|with) (?:me|us)",
    r"(?:that|this|it|which) works",
    r"works (?:great|perfectly|well)",
    r"(?:i|we) (?:accept|agree|confirm)",
    r"accepted",
    r"agreed",
    r"count (?:me|us) in",
    r"(?:i'?m|we'?re) in",
    r"(?:i'?m|we'?re) (?:happy|good|fine|ok|okay) with (?:that|this|it|the)",
    r"send (?:over |me |us )?(?:the |a )?(?:contract|agreement|paperwork|docusign)",
    r"(?:what'?s|what are) (?:the )?next steps?",
    r"next steps?\??",
    r"where do i sign",
    r"(?:i'?ll|we'?ll) take it",
    r"(?:fine|good|ok|okay) (?:by|with) (?:me|us)",
    r"(?:that'?s|is) (?:fine|fair)",
    r"on board",
    r"(?:i'?m|we'?re) down",
    r"confirmed",
    r"absolutely",
    r"can'?t wait to (?:get started|start)",
)
# Questions about what happens once the deal is done presuppose it: "what are the next steps?",
# "where do I send my invoice?". They accept; they are not questions about the terms. Words may
# be separated by a line break (wrapped mail), hence the spaces become \s+ below.
_AFTER_DEAL_QUESTION_PARTS = (
    r"(?:what'?s|what are|what would be) (?:the )?next steps?",
    r"where (?:do|should|can) (?:i|we) sign",
    r"(?:where|who|how) (?:do|should|can|would) (?:i|we) (?:send|submit|address|email) "
    r"(?:my |our |the )?(?:invoice|banking|bank|payment|tax|w-?9|w-?8|shipping|mailing|address)",
    r"(?:where|who|how) (?:do|should|can|would) (?:i|we) (?:invoice|bill)",
    r"(?:do|will|would) you need (?:a |an |my |our |the )?(?:w-?9|w-?8|invoice|tax form|"
    r"banking|bank details|address|shipping address)",
    r"when (?:can|do|should|shall) (?:i|we) (?:get started|start)",
    r"what do you need from (?:me|us)",
    r"(?:should|do|will|can) (?:i|we) (?:expect|receive|get) (?:the |a )?(?:contract|agreement|"
    r"paperwork|docusign)",
)
_AFTER_DEAL_QUESTION = _phrases(*(part.replace(" ", r"\s+") for part in _AFTER_DEAL_QUESTION_PARTS))
_ACCEPT_WEAK = _phrases(
    r"yes+",
    r"yep",
    r"yeah",
    r"yup",
    r"(?<!make )(?<!be )sure",
    r"perfect",
    r"great",
    r"awesome",
    r"ok",
    r"okay",
    r"love (?:it|that)",
    r"no (?:problem|worries)",
)
_ACCEPT_EMOJI = re.compile(r"[👍🙌🤝✅🎉🥳💯]")
_REJECT_EMOJI = re.compile(r"👎")
_REJECT_STRONG = _phrases(
    r"not (?:really |at all )?interested",
    r"no longer interested",
    r"(?:i'?ll|we'?ll|i will|we will|going to|gonna|have to|need to|must|i'?d have to|"
    r"will have to|i'?m going to|we'?re going to|i think i'?ll|i'?m gonna) "
    r"(?:respectfully |politely |kindly )?(?:pass|decline|sit this one out)",
    r"pass on (?:this|that|it)",
    r"hard pass",
    r"no,? thanks?(?: you)?",
    r"not (?:for (?:me|us)|(?:a|the right|a good|the best|really a) fit)",
    r"(?:can'?t|cannot|can not|won'?t be able to|not able to|unable to) "
    r"(?:do (?:it|this|that|this one)|make (?:it|this|that) work|take (?:this|it) on|"
    r"work with|accept|participate|commit)",
    r"(?:won'?t|doesn'?t|does not|will not|isn'?t going to|not going to|wouldn'?t) work",
    r"(?:not|no) (?:taking|accepting) (?:on )?(?:any )?(?:new |more )?(?:brand|paid|sponsor|"
    r"partnership|collab|campaign|deal)",
    r"fully booked",
    r"booked (?:up|solid)",
    r"not (?:at this time|right now|this time)",
    r"(?:i|we) decline",
    r"declin(?:e|ing) (?:this|the)",
    r"remove me",
    r"unsubscribe",
    r"stop (?:emailing|contacting)",
    r"no deal",
    r"(?:i|we) (?:don'?t|do not) (?:do|work with|promote|partner with)",
    r"not (?:something|a brand|a product) (?:i|we)",
    r"(?:i'?m|we'?re) (?:going to|gonna) (?:have to )?pass",
)
_REJECT_WEAK = _phrases(
    r"unfortunately",
    r"sadly",
    r"regret(?:fully)?",
    r"i'?m afraid",
    r"not (?:a|the) right",
)
_LEADING_NO = re.compile(r"^\s*(?:no+|nope|nah)\b(?!\s+(?:problem|worries|rush|prob))")
_COUNTER_PHRASES = _phrases(
    r"would (?:you|u) (?:be able to )?(?:do|go|consider|meet)",
    r"(?:could|can) (?:you|u) (?:do|go|meet|stretch|increase|bump|come up)",
    r"(?:can|could) we (?:do|go|meet|make it)",
    r"how about",
    r"what about",
    r"meet (?:me |you )?(?:in the middle|halfway)",
    r"my (?:rate|fee|price|minimum|floor|rate card|rates)",
    r"(?:i'?d|i would|we'?d|we would|i|we) (?:need|want|require)(?! to)",
    r"need at least",
    r"(?:too|a bit|a little|pretty|quite|way|rather) low",
    r"on the low side",
    r"below (?:my|our) (?:rate|usual|standard|minimum)",
    r"lower than (?:my|our|i)",
    r"bump (?:it |that )?up",
    r"(?:come|go) up",
    r"go higher",
    r"more budget",
    r"best i can do",
    r"lowest i can (?:go|do)",
    r"counter(?:[- ]?offer)?",
    r"(?:i|we) (?:usually |normally |typically )?charge",
    r"(?:any|some) (?:flexibility|wiggle room)",
    r"(?:could|can) do (?:it|this|that) for",
    r"(?:i|we) could do",
    r"(?:i|we) can do",
)
_QUESTION_TOPIC = _phrases(
    r"usage",
    r"rights",
    r"whitelist(?:ing)?",
    r"paid ads?",
    r"boost(?:ing)?",
    r"exclusiv\w*",
    r"timeline",
    r"deadline",
    r"when",
    r"due",
    r"go live",
    r"post date",
    r"dates?",
    r"payment",
    r"paid",
    r"pay",
    r"net ?\d+",
    r"terms",
    r"invoice",
    r"upfront",
    r"deposit",
    r"deliverables?",
    r"brief",
    r"contract",
    r"how many",
    r"how long",
    r"product",
    r"shipping",
    r"ship",
    r"revisions?",
    r"approval",
    r"script",
    r"caption",
    r"hashtags?",
    r"link",
    r"details",
    r"info(?:rmation)?",
    r"clarify",
)
_QUESTION_START = re.compile(
    r"^\s*(?:what|when|how|which|who|where|why|is there|are there|do you|does the|does it|"
    r"will (?:you|the|it)|would (?:the|it)|can you (?:send|share|tell|clarify|explain|confirm)|"
    r"could you (?:send|share|tell|clarify|explain|confirm)|any chance)\b",
)
_DEFER = _phrases(
    r"let me (?:think|check|get back|circle back|look|run it|talk|see)",
    r"(?:get|circle|come) back to you",
    r"(?:need|have) to (?:check|think|talk|run it|discuss|confirm with)",
    r"(?:checking|check) with",
    r"(?:will|i'?ll|we'?ll) (?:let you know|be in touch|keep you posted|follow up)",
    r"thinking (?:about|it over)",
    r"not sure",
    r"maybe",
    r"hmm+",
    r"possibly",
    r"we'?ll see",
    r"(?:talk|speak) (?:to|with) my (?:manager|agent|team)",
)
# A negated or conditional acceptance is none: "doesn't sound good", "let me know if that works".
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot|n't|\bnever|\bno|\bhardly|\bif|\bwhether)\s+(?:\w+\s+){0,2}$"
)
_CONTRAST = re.compile(r"(?<!\w)(?:but|however|though|although|that said)(?!\w)")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")

# Weights of the evidence. Confidence = winner / (all evidence + _CONFIDENCE_PRIOR).
_STRONG = 2.5
_MEDIUM = 1.5
_WEAK = 1.0
_PROPOSED_RATE = 3.0
_PLAIN_RATE = 1.5
_BEFORE_CONTRAST = 0.3  # "Sounds good, but …": the part before "but" is mostly politeness
_REJECT_WITH_PROPOSAL = 0.3  # "can't do $500, could do $650" rejects our number, not the deal
_ACCEPT_WITH_PROPOSAL = 0.3  # "could you do $600? then I'm in" accepts only on their terms
_QUESTION_WITH_PROPOSAL = 0.3  # "could you do $1,400? how long is usage?": the engine answers
# the topics inside its counter, so the question is a side note to the proposal
_CONFIDENCE_PRIOR = 0.6
_MAX_CONFIDENCE = 0.97

# (pattern, intent, weight, skipped when negated or conditional)
_PHRASE_TABLE: tuple[tuple[re.Pattern[str], Intent, float, bool], ...] = (
    (_ACCEPT_STRONG, Intent.ACCEPT, _STRONG, True),
    (_AFTER_DEAL_QUESTION, Intent.ACCEPT, _MEDIUM, True),
    (_ACCEPT_WEAK, Intent.ACCEPT, _WEAK, True),
    (_ACCEPT_EMOJI, Intent.ACCEPT, _WEAK, False),
    (_REJECT_STRONG, Intent.REJECT, _STRONG, False),
    (_REJECT_WEAK, Intent.REJECT, _WEAK, False),
    (_REJECT_EMOJI, Intent.REJECT, _WEAK, False),
    (_COUNTER_PHRASES, Intent.COUNTER, _STRONG, False),
    (_DEFER, Intent.UNCLEAR, _STRONG, False),
)


def read_reply(
    body: str,
    *,
    confidence_threshold: float = 0.7,
    our_offer: Decimal | None = None,
) -> ReplyReading:
    """Read one plain-text reply body.

    `our_offer` (optional) is the last amount we offered: an acceptance that names a higher
    amount ("$900 works for me" after we offered $750) is a counter. Without it the first
    amount in the quoted history (our last email) is used for the same check.
    """
    split = split_reply(body)
    text = split.new_text
    mentions = find_money_mentions(text)
    chosen = proposed_amount(mentions)
    scores = _score_intents(text, chosen)
    intent, confidence = _decide(scores)
    if intent is Intent.ACCEPT and chosen is not None:
        reference = our_offer if our_offer is not None else _our_last_amount(split.quoted)
        if reference is not None and chosen.amount > reference:
            intent = Intent.COUNTER
    if confidence < confidence_threshold:
        intent = Intent.UNCLEAR
    return ReplyReading(
        intent=intent,
        proposed_rate=chosen.amount if chosen is not None else None,
        currency=chosen.currency if chosen is not None else None,
        confidence=confidence,
        new_text=text,
    )


def _our_last_amount(quoted: str) -> Decimal | None:
    """The first amount in the quoted history: our most recent email sits at its top."""
    if not quoted:
        return None
    mentions = find_money_mentions(quoted[:2000])
    return mentions[0].amount if mentions else None


def _score_intents(text: str, chosen: MoneyMention | None) -> dict[Intent, float]:
    """Phrase evidence per intent; each match weighs by its clause's contrast factor."""
    folded = fold_case(text)
    clauses = _clauses(folded)
    starts = [clause.start for clause in clauses]
    scores = dict.fromkeys(Intent, 0.0)  # UNCLEAR collects "let me think about it"

    def add(intent: Intent, weight: float, position: int) -> None:
        scores[intent] += weight * clauses[bisect_right(starts, position) - 1].factor

    if clauses:
        for pattern, intent, weight, negatable in _PHRASE_TABLE:
            for match in pattern.finditer(folded):
                if negatable and _NEGATION_BEFORE.search(
                    folded[max(0, match.start() - 24) : match.start()]
                ):
                    continue
                add(intent, weight, match.start())
        _score_questions(folded, clauses, chosen, scores)
    if chosen is not None:
        if chosen.accepted:
            scores[Intent.ACCEPT] += _MEDIUM
        else:
            scores[Intent.COUNTER] += _PROPOSED_RATE if chosen.proposed else _PLAIN_RATE
            scores[Intent.REJECT] *= _REJECT_WITH_PROPOSAL
            scores[Intent.ACCEPT] *= _ACCEPT_WITH_PROPOSAL
            scores[Intent.QUESTION] *= _QUESTION_WITH_PROPOSAL
    if _LEADING_NO.match(folded):
        scores[Intent.REJECT] += _MEDIUM
    return scores


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int
    factor: float  # below 1 for the part of a sentence before "but"
    asks: bool  # ends with "?" or opens like a question ("what are the usage rights")


def _clauses(folded: str) -> list[_Clause]:
    """Sentences, split at their last contrast word so the part before it weighs less."""
    clauses: list[_Clause] = []
    for match in _SENTENCE.finditer(folded):
        chunk = match.group(0)
        if not chunk.strip():
            continue
        asks = chunk.rstrip().endswith("?") or bool(_QUESTION_START.match(chunk))
        contrast = None
        for contrast in _CONTRAST.finditer(chunk):  # noqa: B007 - the last one is wanted
            pass
        if contrast is None:
            clauses.append(_Clause(match.start(), match.end(), 1.0, asks))
            continue
        cut = match.start() + contrast.start()
        clauses.append(_Clause(match.start(), cut, _BEFORE_CONTRAST, False))
        clauses.append(_Clause(cut, match.end(), 1.0, asks))
    return clauses


def _score_questions(
    folded: str, clauses: list[_Clause], chosen: MoneyMention | None, scores: dict[Intent, float]
) -> None:
    """A question about terms is a question; one that carries an amount is a counter, one
    about what happens after the deal an acceptance (scored in the phrase table)."""
    after_deal = [match.span() for match in _AFTER_DEAL_QUESTION.finditer(folded)]
    for clause in clauses:
        if not clause.asks:
            continue
        if chosen is not None and clause.start <= chosen.start < clause.end:
            continue
        if any(start < clause.end and clause.start < end for start, end in after_deal):
            continue
        on_topic = _QUESTION_TOPIC.search(folded, clause.start, clause.end) is not None
        scores[Intent.QUESTION] += clause.factor * (_STRONG + _WEAK if on_topic else _WEAK)


def _decide(scores: dict[Intent, float]) -> tuple[Intent, float]:
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), others = ranked[0], ranked[1:]
    if top <= 0:
        return Intent.UNCLEAR, 0.0
    rest = sum(score for _, score in others)
    confidence = min(_MAX_CONFIDENCE, top / (top + rest + _CONFIDENCE_PRIOR))
    return best, round(confidence, 3)
