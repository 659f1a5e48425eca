"""Prices per deliverable in a reply, totalled over the package we offered (or refused)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.domain.reading.money_mentions import MentionKind, find_money_mentions
from negotiation_pipeline.domain.reading.unit_prices import total_over_package
from tests.domain.negotiation.engine_support import opened, reply
from tests.support.reading import read_reply

THREE_POSTS = ((3, "Instagram posts"),)
REEL_AND_STORIES = ((1, "Instagram Reel"), (2, "Stories"))
ONE_REEL = ((1, "Reel"),)


def _units(text: str) -> list[tuple[Decimal, str | None]]:
    return [(m.amount, m.unit) for m in find_money_mentions(text.lower()) if m.unit is not None]


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("I charge $500 per post.", [(Decimal(500), "post")]),
        ("$450/reel", [(Decimal(450), "reel")]),
        ("$300 a story and $700 per reel", [(Decimal(300), "story"), (Decimal(700), "reel")]),
        ("Stories are $100 each", [(Decimal(100), "story")]),
        ("$400 each", [(Decimal(400), "")]),
    ],
)
def test_a_price_per_deliverable_is_marked_with_its_unit(
    text: str, units: list[tuple[Decimal, str]]
) -> None:
    assert _units(text) == units


@pytest.mark.parametrize(
    ("text", "total"),
    [
        ("$400 each for the 3 reels", "1200"),
        ("For the 2 reels it's $500 each", "1000"),
        ("$500 per reel x 3", "1500"),
        ("three stories at $150 per story", "450"),
    ],
)
def test_a_count_beside_the_unit_price_makes_it_a_fee(text: str, total: str) -> None:
    (mention,) = find_money_mentions(text.lower())
    assert (mention.kind, mention.amount, mention.unit) == (
        MentionKind.PROPOSAL,
        Decimal(total),
        None,
    )


def test_totals_need_every_item_priced_in_one_currency() -> None:
    (post,) = find_money_mentions("$500 per post")
    story, reel = find_money_mentions("$300 per story, $700 per reel")
    assert total_over_package([post], THREE_POSTS) == Decimal(1500)
    assert total_over_package([post], ONE_REEL) == Decimal(500)  # "per post" for the one reel
    assert total_over_package([story, reel], REEL_AND_STORIES) == Decimal(1300)
    assert total_over_package([story], REEL_AND_STORIES) is None  # the reel has no price
    assert total_over_package([post], REEL_AND_STORIES) is None  # which of them is "a post"?
    assert total_over_package([post], ()) is None
    (euros,) = find_money_mentions("€700 per reel")
    assert total_over_package([story, euros], REEL_AND_STORIES) is None


@pytest.mark.parametrize(
    ("body", "package", "intent", "rate"),
    [
        ("I charge $500 per post.", THREE_POSTS, Intent.COUNTER, "1500"),
        ("I usually charge $500 per post.", THREE_POSTS, Intent.COUNTER, "1500"),
        ("Rate: $300 per story, $700 per reel", REEL_AND_STORIES, Intent.COUNTER, "1300"),
        ("$500 per post, or $1,200 for all three", THREE_POSTS, Intent.COUNTER, "1200"),
        ("My rate is $450/post, so $1,350 for the three.", THREE_POSTS, Intent.COUNTER, "1350"),
        ("Rate: $300 per story", REEL_AND_STORIES, Intent.UNCLEAR, None),
        ("The reel is $700 and stories are $150 each.", REEL_AND_STORIES, Intent.UNCLEAR, None),
        ("Happy with $1,000! Stories are $100 each if you want more.", REEL_AND_STORIES,
         Intent.ACCEPT, "1000"),
    ],
)  # fmt: skip
def test_the_reader_totals_unit_prices_over_the_package_or_refuses(
    body: str, package: tuple[tuple[int, str], ...], intent: Intent, rate: str | None
) -> None:
    reading = read_reply(body, our_offer=Decimal(1000), package=package)
    assert (reading.intent, reading.proposed_rate) == (
        intent,
        Decimal(rate) if rate else None,
    )


@pytest.mark.parametrize(
    ("body", "package"),
    [
        ("I charge $500 per post.", THREE_POSTS),
        ("The reel is $700 and stories are $150 each.", REEL_AND_STORIES),
        ("Rate: $300 per story", REEL_AND_STORIES),
    ],
)
def test_a_price_per_deliverable_is_never_agreed_as_the_whole_fee(
    body: str, package: tuple[tuple[int, str], ...]
) -> None:
    negotiation = opened().negotiation
    reading = read_reply(body, our_offer=negotiation.our_last_offer, package=package)
    outcome = reply(negotiation, reading, text=body)
    assert outcome.negotiation.agreed_rate not in (Decimal(500), Decimal(700), Decimal(300))
