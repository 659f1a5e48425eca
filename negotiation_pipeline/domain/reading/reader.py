"""Reading an influencer's reply: what they just told us, the rate they propose, how sure we are.

Deterministic and network-free. The one splitter (domain/quoting.py) keeps what they typed now;
every number in it is classified first (domain/money_mentions.py: their proposal, our amount
restated, their history, audience statistics, dates, phones); phrases from
config/reply_vocabulary.yaml are found per sentence (domain/reply_clauses.py); then the first
row of this precedence that applies decides:

    #  signal in the new text                                intent    rate          confidence
    1  an amount they propose now that differs from our       COUNTER   that amount   0.85-0.93
       last offer, even beside accept words ("come up to
       $1,500 and it's a deal") or questions; money asked on             (our offer
       top ("$300 more", "another $200") is our offer plus it;            plus theirs)
       with no offer of ours known, a counter without amount;
       a price per deliverable ("$500 per post") is totalled
       over the package we offered, or read as UNCLEAR
    2  an explicit decline ("I'll sit this one out"), also      REJECT    none          0.75-0.93
       over talk about price without an amount; a leading
       "No." or a thumbs-down alone
    3  their usual or past rate, nothing proposed now and no   COUNTER   that amount   0.80
       acceptance ("I typically charge $1,000")
    4  price talk without an amount ("a bit low", "any         COUNTER   none          0.78-0.88
       flexibility?"), or changed terms stated ("only if",
       "instead of")
    5  a question by its form (interrogative, "?", "I was      QUESTION  none          0.75-0.90
       wondering"), unless every question is a polite
       request beside a clear acceptance (paperwork, brief,
       next steps) and none reopens the terms - then row 7
    6  undecided ("let me think", "checking with my manager")  UNCLEAR   none          0.85
    7  an acceptance: strong phrase, a clear "Yes!"/"Deal.",    ACCEPT    our amount    0.70-0.95
       an after-deal question, a thumbs-up, our own amount                when they
       proposed back ("I can do $1,000" to our $1,000);                   restate it
       "accept" only when nothing above proposes different
       terms
    8  vague: "ok" alone, regret words alone                   ACCEPT /  none          0.50-0.55
                                                               REJECT
    9  nothing to go on                                        UNCLEAR   none          0.0

Confidence is the row's certainty, lowered by each competing cue (a hedge beside an acceptance,
regret words beside a decline). Below the threshold (config/negotiation_policy.yaml
`confidence_threshold`, set from the calibration the corpus test prints) the intent is UNCLEAR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.domain.reading.evidence import (
    VAGUE_ACCEPTANCE,
    Evidence,
    gather_evidence,
)
from negotiation_pipeline.domain.reading.money_mentions import (
    MentionKind,
    MoneyMention,
    find_money_mentions,
    fold_case,
    proposed_amount,
)
from negotiation_pipeline.domain.reading.quoting import split_reply
from negotiation_pipeline.domain.reading.unit_prices import PackageItems, total_over_package
from negotiation_pipeline.domain.reading.vocabulary import CompiledVocabulary, Signal

DEFAULT_CONFIDENCE_THRESHOLD = 0.7


@dataclass(frozen=True)
class ReplyReading:
    intent: Intent
    proposed_rate: Decimal | None  # the amount the sender proposes now, in `currency`
    currency: str | None  # ISO code: "USD", "EUR", "GBP"; None when no amount
    confidence: float  # 0..1; below the configured threshold the intent is UNCLEAR
    new_text: str  # the reply with quoted history and signature removed
    basis: str = field(default="", compare=False)  # the precedence row that decided
    # It names prices the rules could not turn into a fee ("$300 per story" for a reel and
    # stories): a person must read it; no other reader's intent may settle it.
    money_unsettled: bool = False


@dataclass(frozen=True)
class _Verdict:
    intent: Intent
    confidence: float
    basis: str
    amount: MoneyMention | None = None


def read_reply(
    body: str,
    *,
    confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
    our_offer: Decimal | None = None,
    vocabulary: CompiledVocabulary,
    package: PackageItems = (),
) -> ReplyReading:
    """Read one plain-text reply body.

    `our_offer` is the last amount we offered; without it the first amount in the quoted
    history (our last email) stands in for it. `vocabulary` holds the editable word lists
    (loaded from config by the caller, so this module never touches files). `package` is what
    that offer covers, as (quantity, item) pairs: a price per deliverable is totalled over it.
    """
    words = vocabulary
    split = split_reply(body)
    text = split.new_text
    reference = our_offer if our_offer is not None else _our_last_amount(split.quoted)
    mentions = find_money_mentions(text, reference) if text else []
    mentions = _with_unit_prices_totalled(mentions, package, text)
    verdict = _decide(gather_evidence(text, mentions, words), mentions, reference)
    intent = verdict.intent if verdict.confidence >= confidence_threshold else Intent.UNCLEAR
    chosen = verdict.amount
    return ReplyReading(
        intent=intent,
        proposed_rate=chosen.amount if chosen is not None else None,
        currency=chosen.currency if chosen is not None else None,
        confidence=round(verdict.confidence, 3),
        new_text=text,
        basis=verdict.basis,
        money_unsettled=verdict.basis == _UNSETTLED_UNITS,
    )


def _with_unit_prices_totalled(
    mentions: list[MoneyMention], package: PackageItems, text: str
) -> list[MoneyMention]:
    """Prices per deliverable ("$500 per post") over the package we offered.

    - They total over it, and nothing else is proposed: one proposal of that total.
    - A fee is stated beside them: the fee, when words beside it say it is the total ("$500
      per post, $1,200 for all three") or it covers at least what they total to; otherwise
      ("the reel is $700 and stories are $150 each") no amount can be trusted and every one
      is set aside as UNIT.
    - A yes to our amount beside them ("Happy with $1,000! Stories are $100 each"): prices
      of extras, set aside.
    - They do not total (an item without a price): set aside as UNIT (never a fee).
    With no package given they stay as they were read.
    """
    units = [mention for mention in mentions if mention.unit is not None]
    if not units or not package:
        return mentions
    rest = [mention for mention in mentions if mention.unit is None]
    aside = [_set_aside(mention) for mention in units]
    total = total_over_package(units, package)
    fees = [mention for mention in rest if mention.kind is MentionKind.PROPOSAL]
    if fees:
        folded = fold_case(text)  # mention positions index the folded text as well
        trusted = all(
            _TOTAL_WORDS.search(folded, max(0, fee.start - _TOTAL_REACH), fee.end + _TOTAL_REACH)
            or (total is not None and fee.amount >= total)
            for fee in fees
        )
        if not trusted:
            rest = [_set_aside(m) if m.kind is MentionKind.PROPOSAL else m for m in rest]
        return _in_order([*rest, *aside])
    yes_to_ours = any(m.kind is MentionKind.OURS and m.accepted for m in rest)
    if total is None or yes_to_ours:
        return _in_order([*rest, *aside])
    return _in_order([*rest, units[0]._replace(amount=total, end=units[-1].end, unit=None)])


_UNSETTLED_UNITS = "a price per deliverable that does not total"
# Words that make a fee beside prices per deliverable the whole fee.
_TOTAL_WORDS = re.compile(
    r"\b(?:total|in all|altogether|all in|all-in|bundle|package|for (?:all|everything|both|"
    r"the (?:whole|full|entire|lot|set|two|three|four|five|six|\d+)))\b"
)
_TOTAL_REACH = 40


def _set_aside(mention: MoneyMention) -> MoneyMention:
    return mention._replace(kind=MentionKind.UNIT)


def _in_order(mentions: list[MoneyMention]) -> list[MoneyMention]:
    return sorted(mentions, key=lambda mention: mention.start)


def _our_last_amount(quoted: str) -> Decimal | None:
    """The first amount in the quoted history: our most recent email sits at its top."""
    if not quoted:
        return None
    mentions = find_money_mentions(quoted[:2000])
    return mentions[0].amount if mentions else None


def _decide(
    evidence: Evidence, mentions: list[MoneyMention], reference: Decimal | None
) -> _Verdict:
    """The precedence table of the module docstring, row by row."""
    proposal = proposed_amount(mentions)
    ours = evidence.restated_ours(mentions)
    # "I can do $1,000" when $1,000 is our offer: proposing our own amount back agrees to it.
    ours_back = ours is not None and (ours.accepted or ours.proposed)
    accepting = evidence.clear_acceptance or ours_back
    if proposal is not None and proposal.kind is MentionKind.PROPOSAL:
        if proposal.increment is not None:
            confidence = _counter_confidence(evidence, proposal)
            return _Verdict(Intent.COUNTER, confidence, "more on top of an amount", proposal)
        if proposal.accepted and not proposal.proposed and reference is None:
            return _Verdict(Intent.ACCEPT, 0.8, "accepts an amount, no offer to compare", proposal)
        if proposal.accepted and reference is not None and proposal.amount < reference:
            return _Verdict(Intent.ACCEPT, 0.9, "accepts an amount below our offer", proposal)
        confidence = _counter_confidence(evidence, proposal)
        return _Verdict(Intent.COUNTER, confidence, "new amount", proposal)
    if any(mention.kind is MentionKind.INCREMENT for mention in mentions):
        return _Verdict(Intent.COUNTER, 0.8, "more money asked, our offer unknown")
    untotalled = any(mention.kind is MentionKind.UNIT for mention in mentions)
    if proposal is None and untotalled and not ours_back:
        # "$300 per story" when the package also holds a reel: a person must total it.
        return _Verdict(Intent.UNCLEAR, 0.0, _UNSETTLED_UNITS)
    if evidence.declines:
        return _Verdict(Intent.REJECT, evidence.decline_confidence(), "explicit decline")
    if proposal is not None and not accepting and ours is None:
        return _Verdict(Intent.COUNTER, 0.8, "their usual rate as the ask", proposal)
    if evidence.has(Signal.PRICE_TALK):
        return _Verdict(Intent.COUNTER, 0.88 - 0.06 * accepting, "price talk without an amount")
    if evidence.changes_terms:
        return _Verdict(Intent.COUNTER, 0.78, "different terms")
    if evidence.questions and not (accepting and evidence.questions_are_polite):
        return _Verdict(Intent.QUESTION, evidence.question_confidence(), "question")
    if evidence.has(Signal.HEDGE):
        return _Verdict(Intent.UNCLEAR, 0.85, "undecided")
    acceptance = evidence.acceptance_confidence()
    # Our amount restated with a yes ("$1,000 it is") says more than a vague "fine" beside it.
    if ours is not None and acceptance <= VAGUE_ACCEPTANCE:
        if ours.accepted:
            return _Verdict(Intent.ACCEPT, 0.88, "our amount accepted", ours)
        if ours.proposed:
            return _Verdict(Intent.ACCEPT, 0.8, "our amount proposed back", ours)
    if acceptance > 0:
        return _Verdict(Intent.ACCEPT, acceptance, "acceptance", ours)
    if evidence.has(Signal.DECLINE_SOFT) or evidence.decline_emoji:
        return _Verdict(Intent.REJECT, 0.55, "regret words only")
    return _Verdict(Intent.UNCLEAR, 0.0, "nothing to go on")


def _counter_confidence(evidence: Evidence, proposal: MoneyMention) -> float:
    confidence = 0.93 if proposal.proposed or proposal.accepted else 0.87
    if evidence.declines:
        confidence -= 0.1
    if evidence.has(Signal.HEDGE):
        confidence -= 0.05
    return confidence
