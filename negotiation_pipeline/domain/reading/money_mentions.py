"""Every number in a reply's new text, classified before intent is read.

A number is one of: their PROPOSAL now, OUR amount restated ("your $800 offer", "$800 is well
below what I charge", "is the $1,200 per video?", or equal to our last offer), their HISTORY
("I usually get $2,200", "last time it was $3k"), an audience STATISTIC ("120K Instagram", "2.1M
views", also in signatures), a DATE or time, or a PHONE number. Only a proposal can be the rate
they propose; a lone history amount stands in for it when nothing else is proposed ("I typically
charge $1,000" is their ask), and the reader drops even that when they decline.

Amount forms are found by amount_forms.py; this module weighs the words around each one.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from negotiation_pipeline.domain.money import quantize_cents
from negotiation_pipeline.domain.reading.amount_forms import (
    CURRENCY_SIGNS,
    DEFAULT_CURRENCY,
    WrittenAmount,
    find_written_amounts,
    normalize,
    parse_number,
)
from negotiation_pipeline.domain.reading.folding import fold_case

__all__ = [
    "DEFAULT_CURRENCY",
    "MentionKind",
    "MoneyMention",
    "classify_numbers",
    "find_money_mentions",
    "fold_case",
    "mask_phone_numbers",
    "proposed_amount",
]


class MentionKind(StrEnum):
    PROPOSAL = "proposal"
    OURS = "ours"
    HISTORY = "history"
    STATISTIC = "statistic"
    DATE = "date"
    PHONE = "phone"
    COUNT = "count"  # deliverables, percentages, durations: "2 reels", "6.5%", "30 days"
    # More money on top of an offer we cannot name ("another $200", "$300 more" with no offer
    # of ours known): an ask for more, never a total.
    INCREMENT = "increment"
    # A price per deliverable the reader could not total over the package on the table
    # ("$300 per story" for a reel and two stories): never a fee as it is (see reader.py).
    UNIT = "unit"
    # Part of the fee paid at one time ("$500 upfront", "a deposit of $300"): never the fee.
    PAYMENT = "payment"


MONEY_KINDS = frozenset({MentionKind.PROPOSAL, MentionKind.OURS, MentionKind.HISTORY})

_DIGIT = re.compile(r"\d")
_SEVEN_DIGITS = re.compile(r"\d(?:\D{0,3}\d){6}")  # no phone number has fewer
# Masked before scanning so their digits never look like amounts.
_PHONE = re.compile(
    rf"(?<![\w{CURRENCY_SIGNS},.])"
    r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?!\d)"
    rf"|(?<![\w{CURRENCY_SIGNS}])"
    r"\+\d{1,3}(?:[\s.-]?\d){7,12}(?!\d)"
    r"|(?<![\w])(?:(?:tel|phone|mobile|mob|cell|whatsapp)\.?\s?:?|[mptc]\s?[:.])\s?\+?\d[\d\s().-]{6,16}\d"
)
_NOT_MONEY_AFTER = re.compile(
    r"\s?(?:%|percent|\+?\s?(?:followers|follower|subs\b|subscribers|views|view\b|viewers|"
    r"impressions|likes|plays|streams|reach|fans|members|downloads|listeners|people|accounts|"
    r"comments|shares|saves|engagements?|clicks|reels?\b|posts?\b|stor(?:y|ies)|videos?\b|"
    r"tiktoks?|shorts?\b|days?\b|weeks?\b|months?\b|years?\b|hours?\b|hrs?\b|mins?\b|minutes|"
    r"rounds?\b|revisions?\b|times\b|pieces?\b|slides?\b|frames?\b|links?\b|deliverables?|"
    r"words?\b|seconds?\b|secs?\b|st\b|nd\b|rd\b|th\b|am\b|pm\b|[/:]\d))",
)
_DATE_AFTER = re.compile(r"\s?(?:st|nd|rd|th|am|pm)\b|[/:]\d|\.\d{1,2}\.\d")
_PLATFORM = (
    r"ig|insta|instagram|tiktok|tik tok|tt|youtube|yt|twitter|x|twitch|pinterest|facebook|fb|"
    r"threads|snapchat|snap|linkedin|newsletter|substack|podcast|blog|spotify"
)
_AUDIENCE = (
    r"followers?|subs|subscribers|views|viewers|impressions|likes|plays|streams|reach|fans|"
    r"members|downloads|listeners|readers|monthly|avg|average|audience|community|uniques"
)
_STATISTIC_AFTER = re.compile(
    rf"\s?\+?\s?(?:[-–—:|·•]\s?)?(?:(?:{_AUDIENCE})|on (?:{_PLATFORM})\b|(?:{_PLATFORM})\b)"
)
_STATISTIC_BEFORE = re.compile(rf"(?:\b(?:{_PLATFORM}|{_AUDIENCE})\b|[📸🎵▶️🎥📺👥])\W{{0,4}}$")
_MONTH_BEFORE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+$|"
    r"(?:in|by|of|since|until|before|after|early|late|mid|end of)\s+$",
)

# Money asked on top of the offer: "an extra $300", "another 200", "plus $100 for the raw
# files", "bump it by $250" before the amount, "$300 more", "$250 on top" after it. After a
# plain number "more" counts only where nothing it could count follows ("500 more followers").
# The words before an amount or a share that put it on top of the offer: one list for money
# ("another $200") and shares ("plus 15%"). "Up" needs what it raises ("up it by 15%"):
# "engagement is up by 15%" asks for nothing.
_RAISED = r"(?: it| that| this| the (?:fee|rate|offer|budget))"
_ON_TOP_BEFORE = (
    r"(?:\b(?:an? )?(?:extra|additional|another)|\bplus|\badd(?:ing)?(?: another| an extra)?"
    rf"|\b(?:bump|raise|increase|top|go up|come up|move up){_RAISED}?(?: up)? by|\bup{_RAISED} by"
    r"|\+)\s?"
)
_INCREMENT_BEFORE = re.compile(_ON_TOP_BEFORE + "$")
_INCREMENT_AFTER = re.compile(
    r"\s?(?:extra\b|on top\b|higher\b|additional\b|"
    r"more(?=\s*(?:$|[.,!?;:)]|(?:and|than|for|to|if|on|please|would|then|i|we|per|each)\b)))"
)
# A price per deliverable: "$500 per post", "$450/reel", "$300 a story", "$400 each".
_DELIVERABLE_WORDS = (
    r"posts?|reels?|videos?|stor(?:y|ies)|tiktoks?|shorts?|pieces?|deliverables?|integrations?|"
    r"items?|assets?|carousels?|pins?|tweets?|episodes?|mentions?|slides?|frames?|lives?|"
    r"streams?|photos?|images?|clips?|blogs?|articles?|newsletters?"
)
_PER_UNIT_AFTER = re.compile(
    r"\s?(?:(?:/|per|an?|for each|for every|every)\s?(?:single |additional |extra |instagram |"
    r"ig |tiktok |youtube |yt |dedicated )?(?P<unit>" + _DELIVERABLE_WORDS + r")\b"
    r"|(?P<each>each|apiece|a piece|per piece|a pop)\b)"
)
_DELIVERABLE_NOUN = re.compile(rf"\b(?:{_DELIVERABLE_WORDS})\b")
_COUNT_WORDS = {
    "one": 1, "a": 1, "an": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "both": 2, "couple of": 2,
}  # fmt: skip
_COUNT = r"(?P<count>\d{1,2}|" + "|".join(_COUNT_WORDS) + r")"
_TIMES_AFTER = re.compile(r"\s?(?:x|×|times)\s?(?P<count>\d{1,2})\b")
# When a part of the fee is paid: "$500 upfront", "$300 on signing", "a deposit of $400".
_PAYMENT_AFTER = re.compile(
    r"\s?(?:up ?front|in advance|as (?:a |the )?(?:deposit|advance|down payment)|deposit|"
    r"(?:paid |payable |due )?(?:on|at|upon|before|after) (?:signing|signature|delivery|posting|"
    r"approval|publication|completion|go-live|launch)|before (?:i|we) start)"
)
_PAYMENT_BEFORE = re.compile(
    r"(?:deposit|advance|down payment|upfront payment|retainer|installment|instalment|"
    r"(?:first|second|final|last) (?:half|payment|part|half payment))(?: of| is| would be)?\s?$"
)
# More money asked as a multiple or a share of our offer: "double it", "20% higher", "an extra
# 15%", "bump it by 10%".
_RELATIVE_ASK = re.compile(
    r"\b(?P<times>double|triple)(?= (?:it|that|this|the (?:offer|fee|rate|budget)|your offer)\b)"
    r"|\b(?:twice|three times) (?:that|what you (?:offered|proposed)|your offer|the offer)\b"
    + "|"
    + _ON_TOP_BEFORE
    + r"(?P<share_before>\d{1,2}(?:\.\d)?)\s?(?:%|percent)"
    r"|\b(?P<share>\d{1,2}(?:\.\d)?)\s?(?:%|percent) (?:higher|extra|on top|above|increase"
    r"|more(?=\s*(?:$|[.,!?;:)]|(?:and|than|for|to|if|on|please|would|then)\b)))"
)
# "10% off my usual $1,500", "a 20% discount on my $2,000 rate".
_DISCOUNT_BEFORE = re.compile(
    r"\b(?P<share>\d{1,2}(?:\.\d)?)\s?(?:%|percent) (?:off|discount (?:on|from|off))"
    r"(?: of)?(?: (?:my|the|our))?(?: (?:usual|standard|normal|regular|full|listed))?"
    r"(?: (?:rate|fee|price))?(?: of)?\s?$"
)
# How close an increment must follow another amount to be added to it ("$1,200 plus $100").
_JOIN_REACH = 16
# A bare number ("I could do 1500", "I'm at 2,400") is money only this close after a cue.
_BARE_REACH = 12
# Without a cue, a plain number counts as money only within this factor of our last offer.
_NEAR_LOW = Decimal("0.5")
_NEAR_HIGH = Decimal(3)

# Words around an amount, each kind one named group of one pattern, so the words before an
# amount cost one scan and the words after it another.
_PROPOSAL_CUES = (
    r"could do|can do|would do|could go|can go|could meet|can meet|i'd need|we'd need|"
    r"would need|needs?|(?:rate|fee|price|number|quote|ask)"
    rf"[^.!?\n\d{CURRENCY_SIGNS}]{{0,30}}?\b"
    r"(?:is|would be|will be)|would be|how about|what about|meet (?:you )?(?:in the middle )?at|"
    r"settle|do it for|do this for|do that for|do both for|go as low as|come down to|"
    r"come up to|go up to|lowest i can (?:go|do)|best i can do|at least|minimum|bottom line|"
    r"final|would (?:you|u) (?:be able to )?do|could (?:you|u) (?:do|go|meet|stretch|come)|"
    r"can (?:you|u) (?:do|go|meet|come)|can we do|could we do|bump|increase|raise|counter|"
    r"propose|asking|ask is|looking for|i'?d want|i want|i charge|i'?d charge|i'?d ask|quote|"
    r"come in at|land at|make it|go with|move forward at|for you|instead|if you can|"
    r"if you could|i'?d do|i'?ll do|i would do|i will do|(?:i'm|i am|we're|we are) at|"
    r"(?:i'd|we'd) be at|all in|all-in|for everything|for the (?:whole|full) (?:package|thing)|"
    r"in total|total|package price|i'?d accept|i'?ll take|i'?d take|i'?d go for|"
    r"(?:my|our) number|i need|we need|i'?ll need|unless|hoping for|hoping to get|had in mind|"
    r"(?:no|not|nothing) (?:less|lower) than|"
    r"closer to|more like|aiming for|thinking(?: more)?(?: like| of| about| around)?|"
    r"in the range of|somewhere around|ballpark|(?:i|we)'?d like|expecting"
)
# Someone else's number, usually ours: "your $800 offer", "instead of $800", "$800 is too low".
_OURS_CUES_BEFORE = (
    r"your|you offered|(?<!was )(?<!were )(?<!been )(?<!got )offered|you mentioned|you proposed|"
    r"you quoted|you sent|(?:you're|you are) offering|budget of|budget is|instead of|rather than|"
    r"up from|down from|(?<!less )(?<!lower )than|the proposed|the offered|vs\.?|versus|"
    r"compared to"
)
_HABIT_CUES_BEFORE = (
    r"(?:was|were|been|got) offered|"
    r"usually|normally|typically|generally|standard|regular|last time|previously|in the past|"
    r"used to|before|got paid|get paid|been paid|other brands|"
    r"brands (?:usually )?pay|went for|charged|my last|earned|landed|"
    r"last (?:campaign|deal|collab|partnership|brand|year|month)|historically"
)
_AGREED_CUES = (
    r"deal at|agreed at|agree to|accept|happy with|fine with|okay with|ok with|good with|"
    r"confirm(?:ing)?|(?:happy|glad|ready|excited|good) to (?:move forward|proceed|go ahead|"
    r"confirm|lock (?:it|this) in)(?: at| with| for)?"
)
# "was" and "were" before an amount tell of the past ("it was $1,500 last year") unless a
# proposal cue stands nearer to it ("I was hoping for $1,400" is today's ask).
_PAST_CUES_BEFORE = r"was|were"
_BEFORE_CUES = re.compile(
    rf"\b(?:(?P<agreed>{_AGREED_CUES})|(?P<ours>{_OURS_CUES_BEFORE})|"
    rf"(?P<habit>{_HABIT_CUES_BEFORE})|(?P<past>{_PAST_CUES_BEFORE})|"
    rf"(?P<proposal>{_PROPOSAL_CUES}))\b"
)
_OURS_CUES_AFTER = (
    r"offer|offered|you (?:offered|mentioned|proposed|sent|quoted)|(?:you're|you are) offering|"
    r"is (?:(?:too|a bit|a little|pretty|quite|way|well|far|much|really|very|rather|slightly|"
    r"somewhat|a lot|significantly) )*(?:low|below|under|less|short|lower)|"
    r"(?:is|was)n'?t enough|is not enough|(?:doesn'?t|won'?t|does not|will not|wouldn'?t|"
    r"would not|can'?t|cannot) (?:work|cover|do it|cut it)|seems low|feels low|"
    r"is on the low side|falls short|is nowhere near|is far from"
)
_HABIT_CUES_AFTER = (
    r"usually|normally|typically|last time|previously|before|in the past|last year|last month|"
    r"elsewhere|(?:with|from|for) other brands|historically"
)
_ACCEPT_CUES_AFTER = (
    r"works|work (?:for|with) (?:me|us)|is fine|is good|is great|sounds? (?:good|great|fair|"
    r"perfect)|is perfect|is fair|it is|deal|confirmed|agreed|i accept|we accept|is ok|is okay|"
    r"is acceptable|would work|is a go"
)
# "$1,500 is my final offer": their own offer, never ours (which "offer" after an amount is).
_PROPOSAL_CUES_AFTER = (
    r"(?:is|'s|would be|will be|being) (?:my|our) "
    r"(?:(?:final|best|last|lowest|new|absolute|bottom|firm|revised|updated)\s)*"
    r"(?:offer|price|rate|number|ask|counter(?:[- ]?offer)?|quote|line|proposal|figure)"
)
_AFTER_CUES = re.compile(
    rf"\b(?:(?P<proposal>{_PROPOSAL_CUES_AFTER})|(?P<ours>{_OURS_CUES_AFTER})|"
    rf"(?P<habit>{_HABIT_CUES_AFTER})|(?P<accepted>{_ACCEPT_CUES_AFTER}))\b"
)
# How far a cue may stand from the amount it describes (characters between them).
_REACH_BEFORE = {"agreed": 30, "ours": 30, "habit": 30, "past": 30, "proposal": 25}
_REACH_AFTER = {"proposal": 3, "ours": 20, "habit": 25, "accepted": 25}
# "Is the $1,200 per video?", "does that $900 include usage?": a question about a known amount.
_DEFINITE_BEFORE = re.compile(r"(?:\b(?:the|that|this)|^\s*(?:is|does|did|was|will))\s+$")
_RANGE_NUMBER = r"(?P<num>\d{1,3}(?:[,.]\d{3})+|\d+(?:\.\d)?)\s?(?P<k>k)?"
_RANGE_AFTER = re.compile(
    rf"\s?(?P<word>-|–|—|to|and)\s?[{CURRENCY_SIGNS}]?" + _RANGE_NUMBER + r"(?![\w,.]?\d)"
)
_RANGE_BEFORE = re.compile(r"(?<![\w.,])" + _RANGE_NUMBER + r"\s?(?:-|–|—|to)\s?$")
_SENTENCE_BREAK = re.compile(r"[!?\n]|\.(?!\d)")
_CLAUSE_BREAK = re.compile(r"[!?\n;]|\.(?!\d)|\b(?:but|however|though|although|whereas)\b")

_WINDOW_BEFORE = 60
_WINDOW_AFTER = 40


class MoneyMention(NamedTuple):
    """One amount written as money, and what the words around it say it is."""

    amount: Decimal
    currency: str
    start: int
    end: int
    kind: MentionKind
    proposed: bool  # a proposal cue ("could do", "would need", "how about") points at it
    accepted: bool  # an acceptance cue is attached ("$500 works for me")
    # For "$300 more" on our offer: the $300 as written (`amount` is then our offer plus it).
    increment: Decimal | None = None
    # For "$500 per reel": the deliverable it is priced per ("reel"; "" for "each"); None for
    # a fee, also one totalled from a count beside it ("$400 each for the 3 reels").
    unit: str | None = None

    @property
    def weight(self) -> float:
        """How strongly this amount reads as what the sender proposes now."""
        return 1.0 + (2.0 if self.proposed else 0.0) + (1.0 if self.accepted else 0.0)


class NumberMention(NamedTuple):
    """Any number in the text with its kind; money kinds carry the MoneyMention."""

    kind: MentionKind
    start: int
    end: int
    money: MoneyMention | None = None


def mask_phone_numbers(text: str) -> str:
    """Blank out phone numbers (same length, so positions still line up)."""
    return _mask_phones(text)[0]


def _mask_phones(text: str) -> tuple[str, list[tuple[int, int]]]:
    if not _SEVEN_DIGITS.search(text):
        return text, []
    spans = [match.span() for match in _PHONE.finditer(text)]
    if not spans:
        return text, []
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], " " * (end - start)]
        last = end
    pieces.append(text[last:])
    return "".join(pieces), spans


def find_money_mentions(text: str, reference: Decimal | None = None) -> list[MoneyMention]:
    """Every amount written as money in `text`, in reading order (positions index `text`).

    `reference` is our last offer: an amount equal to it is ours restated, whatever the cue.
    """
    return [m.money for m in classify_numbers(text, reference) if m.money is not None]


def classify_numbers(text: str, reference: Decimal | None = None) -> list[NumberMention]:
    """Every number in `text` that looks like money, a statistic, a date or a phone number."""
    if not _DIGIT.search(text) and not _might_hold_words(text):
        return []
    masked, phones = _mask_phones(fold_case(text))
    found = [NumberMention(MentionKind.PHONE, start, end) for start, end in phones]
    relative = _relative_asks(masked, reference)
    found += relative
    floor = 0  # words before an earlier amount describe that amount, not the next one
    previous: MoneyMention | None = None
    their_ask: Decimal | None = None  # the last amount they proposed so far
    inside_relative = {index for r in relative for index in range(r.start, r.end)}
    for written in find_written_amounts(masked):
        if written.start in inside_relative:
            continue  # the 20 of "20% higher"
        base = their_ask if their_ask is not None else reference
        mention = _classify(masked, written, reference, floor, previous, base)
        if mention is not None:
            found.append(mention)
        previous = mention.money if mention is not None else None
        # Extras add up: "Another $200 for the reel. Another $200 for the stories." is $400 on
        # top of our offer, so an increment's total is the base of the next one.
        if previous is not None and previous.kind is MentionKind.PROPOSAL:
            their_ask = previous.amount
        floor = written.end
    found.sort(key=lambda mention: mention.start)
    return _merge_ranges(masked, found)


def proposed_amount(mentions: list[MoneyMention]) -> MoneyMention | None:
    """The amount the sender proposes now: the best-weighted proposal, the later one on a tie;
    when they propose none, their usual or past rate (it is their ask); never our own amount."""
    for kind in (MentionKind.PROPOSAL, MentionKind.HISTORY):
        candidates = [mention for mention in mentions if mention.kind is kind]
        if candidates:
            best = candidates[0]
            for mention in candidates[1:]:
                if mention.weight >= best.weight:
                    best = mention
            return best
    return None


def _might_hold_words(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in ("hundred", "thousand", "grand", "double", "triple"))


def _relative_asks(text: str, reference: Decimal | None) -> list[NumberMention]:
    """ "Double it", "20% higher": with our offer known, a proposal of that multiple of it;
    without it, more money asked on an unknown base (INCREMENT)."""
    found = []
    for match in _RELATIVE_ASK.finditer(text):
        times, share = match.group("times"), match.group("share") or match.group("share_before")
        if share is not None:
            factor = 1 + Decimal(share) / 100
        elif times is not None:
            factor = Decimal(2 if times == "double" else 3)
        else:
            factor = Decimal(2 if match.group(0).startswith("twice") else 3)
        if reference is None:
            found.append(_asked(match.start(), match.end(), DEFAULT_CURRENCY, Decimal(0)))
            continue
        total = _to_cents(reference * factor)
        found.append(
            _asked(
                match.start(),
                match.end(),
                DEFAULT_CURRENCY,
                total,
                MentionKind.PROPOSAL,
                increment=_to_cents(total - reference),
            )
        )
    return found


def _to_cents(amount: Decimal) -> Decimal:
    """A computed fee to the cent, half up (20% on $1,040 is $1,248, not $1,248.000)."""
    return normalize(quantize_cents(amount))


def _classify(
    text: str,
    written: WrittenAmount,
    reference: Decimal | None,
    floor: int,
    previous: MoneyMention | None = None,
    increment_base: Decimal | None = None,
) -> NumberMention | None:
    """What the amount `written` is. `previous` is the amount just before it; an increment
    ("$300 more") adds to it when joined to it, else to `increment_base` (their last ask in
    this text, or our offer)."""
    start, end = written.start, written.end
    follow = text[end : end + 24]
    if not written.marked:
        if _STATISTIC_AFTER.match(follow):
            return NumberMention(MentionKind.STATISTIC, start, end)
        if _DATE_AFTER.match(follow) or _is_year(written.amount, text, start):
            return NumberMention(MentionKind.DATE, start, end)
        if _NOT_MONEY_AFTER.match(follow):
            return NumberMention(MentionKind.COUNT, start, end)
    before = _same_sentence_before(text, start, floor)
    before_cues = _cues_before(before)
    increment = bool(_INCREMENT_BEFORE.search(before) or _INCREMENT_AFTER.match(text, end))
    if (
        written.bare
        and not increment
        and min(before_cues.get("proposal", 99), before_cues.get("agreed", 99)) > _BARE_REACH
        and not _near_offer(written.amount, reference)
    ):
        return None  # a plain number nobody offers: not money, not worth a kind
    after, asks = _same_sentence_after(text, end)
    cues = set(before_cues) | _cues_after(after)
    # The share is a number of its own, so it stands before `floor`: look back from `start`.
    window_start = max(0, start - _WINDOW_BEFORE)
    discount = (
        _DISCOUNT_BEFORE.search(text, window_start, start)
        if "%" in text[window_start:start] or "percent" in text[window_start:start]
        else None
    )
    if discount is not None:
        # "10% off my usual $1,500": what they ask now is the discounted amount.
        share = Decimal(discount.group("share")) / 100
        amount = _to_cents(written.amount * (1 - share))
        return _asked(start, end, written.currency, amount, MentionKind.PROPOSAL)
    if _PAYMENT_AFTER.match(text, end) or _PAYMENT_BEFORE.search(before):
        return NumberMention(MentionKind.PAYMENT, start, end)
    if increment:
        # "$1,200 plus $100 for the raw files": on the amount just before it, else our offer.
        joined = previous is not None and previous.end == floor and len(before) <= _JOIN_REACH
        return _increment_on(written, previous.amount if previous and joined else increment_base)
    agreed_at = "agreed" in cues  # "happy to move forward at $850"
    proposed = not agreed_at and "proposal" in cues
    if (
        not written.marked
        and written.multiplied
        and not proposed
        and _STATISTIC_BEFORE.search(text[max(0, start - 30) : start])
    ):
        return NumberMention(MentionKind.STATISTIC, start, end)
    past = "past" in before_cues and before_cues["past"] < before_cues.get("proposal", 99)
    if "ours" in cues or (asks and not proposed and _DEFINITE_BEFORE.search(before)):
        kind = MentionKind.OURS
    elif "habit" in cues or past:
        kind = MentionKind.HISTORY
    elif reference is not None and written.amount == reference:
        kind = MentionKind.OURS
    else:
        kind = MentionKind.PROPOSAL
    per_unit = _PER_UNIT_AFTER.match(text, end) if kind is not MentionKind.OURS else None
    if per_unit is not None:
        return _per_unit(text, written, per_unit, floor, kind, proposed)
    money = MoneyMention(
        amount=written.amount,
        currency=written.currency,
        start=start,
        end=end,
        kind=kind,
        proposed=proposed,
        accepted=agreed_at or "accepted" in cues,
    )
    return NumberMention(kind, start, end, money)


def _asked(
    start: int,
    end: int,
    currency: str,
    amount: Decimal,
    kind: MentionKind = MentionKind.INCREMENT,
    *,
    proposed: bool = True,
    increment: Decimal | None = None,
    unit: str | None = None,
) -> NumberMention:
    """Money they ask for that the reader computed (a total, a discount, our offer plus more)
    or marked (a price per deliverable), rather than took as written."""
    money = MoneyMention(
        amount=amount,
        currency=currency,
        start=start,
        end=end,
        kind=kind,
        proposed=proposed,
        accepted=False,
        increment=increment,
        unit=unit,
    )
    return NumberMention(kind, start, end, money)


def _increment_on(written: WrittenAmount, base: Decimal | None) -> NumberMention:
    """ "$300 more": with a base known, a proposal of the base plus the $300; without one, an
    ask for more on an unknown base (the reader must not guess a total)."""
    start, end, currency = written.start, written.end, written.currency
    if base is None:
        return _asked(start, end, currency, written.amount, increment=written.amount)
    total = normalize(base + written.amount)
    return _asked(start, end, currency, total, MentionKind.PROPOSAL, increment=written.amount)


def _per_unit(
    text: str,
    written: WrittenAmount,
    per_unit: re.Match[str],
    floor: int,
    kind: MentionKind,
    proposed: bool,
) -> NumberMention:
    """ "$500 per reel": with a count of reels in its sentence ("for the 3 reels", "x 3") the
    total; otherwise the price per reel, marked with its unit for the reader to total over the
    package on the table."""
    unit = singular(per_unit.group("unit") or _noun_before(text, written.start, floor))
    count = _count_in_sentence(text, written, per_unit, floor, unit)
    return _asked(
        written.start,
        per_unit.end(),
        written.currency,
        normalize(written.amount * count) if count is not None else written.amount,
        kind,
        proposed=proposed or kind is MentionKind.PROPOSAL,
        unit=None if count is not None else unit,
    )


def _count_in_sentence(
    text: str, written: WrittenAmount, per_unit: re.Match[str], floor: int, unit: str
) -> int | None:
    """How many of `unit` the sentence around a per-unit price names ("3 reels", "x 3")."""
    times = _TIMES_AFTER.match(text, per_unit.end())
    if times is not None:
        return int(times.group("count"))
    before = _same_sentence_before(text, written.start, floor)
    after, _ = _same_sentence_after(text, per_unit.end())
    nouns = rf"(?:{re.escape(unit)}s?|{re.escape(unit[:-1])}ies)" if unit else _DELIVERABLE_WORDS
    named = re.search(rf"\b{_COUNT}\s(?:[a-z]+\s)?(?:{nouns})\b", before + " " + after)
    if named is None:
        return None
    word = named.group("count")
    return int(word) if word.isdigit() else _COUNT_WORDS[word]


def _noun_before(text: str, start: int, floor: int) -> str:
    """The deliverable an "each" prices: the last one named before it in its sentence
    ("stories are $100 each" → "stories"); "" when none is (then it prices every item)."""
    nouns = _DELIVERABLE_NOUN.findall(_same_sentence_before(text, start, floor))
    return nouns[-1] if nouns else ""


def singular(word: str) -> str:
    """ "stories" → "story", "reels" → "reel": a deliverable word as one of it."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _cues_before(before: str) -> dict[str, int]:
    """Each cue kind found before an amount, with how many characters separate it from it."""
    found: dict[str, int] = {}
    for match in _BEFORE_CUES.finditer(before):
        kind = match.lastgroup or ""
        gap = before[match.end() :]
        if kind == "agreed" and gap.strip() not in ("", "the"):
            continue
        if len(gap) <= _REACH_BEFORE[kind]:
            found[kind] = min(len(gap), found.get(kind, 99))
    return found


def _cues_after(after: str) -> set[str]:
    return {
        match.lastgroup or ""
        for match in _AFTER_CUES.finditer(after)
        if match.start() <= _REACH_AFTER[match.lastgroup or "accepted"]
    }


def _merge_ranges(text: str, found: list[NumberMention]) -> list[NumberMention]:
    """ "$1,500-2,000", "1,500 to 2,000 USD", "between $1.5k and 2k": one mention at the low end
    (what they would settle for), spanning the whole range."""
    merged: list[NumberMention] = []
    skip_until = -1
    for mention in found:
        if mention.start < skip_until:
            continue
        money = mention.money
        if money is None or money.kind is not MentionKind.PROPOSAL:
            merged.append(mention)
            continue
        low = _RANGE_BEFORE.search(text, max(0, money.start - 20), money.start)
        high = _RANGE_AFTER.match(text, money.end)
        if high is not None and high.group("word") == "and":
            before = text[max(0, money.start - 12) : money.start]
            high = high if before.rstrip().endswith("between") else None
        if high is not None and not (_range_value(high) or 0) >= money.amount:
            high = None  # "$500 to 2 reels" is not a range
        low_value = _range_value(low) if low is not None else None
        if low is not None and low_value is not None and low_value < money.amount:
            money = money._replace(amount=normalize(low_value), start=low.start())
        if high is not None:
            skip_until = high.end()
            money = money._replace(end=high.end())
        merged.append(NumberMention(mention.kind, money.start, money.end, money))
    return merged


def _near_offer(amount: Decimal, reference: Decimal | None) -> bool:
    """A plain number in the range of our offer is money in a negotiation ("800 is a bit tight,
    950 and we're good?"), unless it looks like a year."""
    if reference is None or reference <= 0:
        return False
    if amount == amount.to_integral_value() and 1900 <= amount <= 2100:
        return False
    return reference * _NEAR_LOW <= amount <= reference * _NEAR_HIGH


def _range_value(match: re.Match[str]) -> Decimal | None:
    value = parse_number(match.group("num"))
    if value is None or value <= 0:
        return None
    return value * 1000 if match.group("k") else value


def _is_year(amount: Decimal, text: str, start: int) -> bool:
    if amount != amount.to_integral_value() or not 1990 <= amount <= 2100:
        return False
    return bool(_MONTH_BEFORE.search(text[max(0, start - 12) : start]))


def _same_sentence_before(text: str, start: int, floor: int) -> str:
    """The words before an amount back to the sentence start, an earlier amount or a "but"."""
    window = text[max(0, floor, start - _WINDOW_BEFORE) : start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _same_sentence_after(text: str, end: int) -> tuple[str, bool]:
    """The rest of the sentence after an amount, and whether that sentence is a question."""
    window = text[end : end + _WINDOW_AFTER]
    found = _SENTENCE_BREAK.search(window)
    if found is None:
        return window, False
    return window[: found.start()], found.group(0) == "?"
