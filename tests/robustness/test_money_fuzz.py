"""Fuzzing the money parsers: `money.parse_decimal` and `money_mentions`.

Claims:
- `parse_decimal` on any value returns a finite Decimal or raises `MoneyError` (never another
  exception); a float or a bool is always refused, whatever its value; a Decimal, int or its
  own printed form round-trips exactly.
- `find_money_mentions` on any text returns mentions in reading order, each a positive Decimal
  inside the text, in a known currency, that rounds to cents (so the engine can use it);
  `proposed_amount` picks one of them or None.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation_pipeline.domain.money import MoneyError, format_usd, parse_decimal, quantize_cents
from negotiation_pipeline.domain.reading.money_mentions import (
    MoneyMention,
    find_money_mentions,
    proposed_amount,
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CURRENCIES = {"USD", "EUR", "GBP", "CAD", "AUD"}

NASTY_TEXT = [
    "", " ", "$", "$$1", "USD", "usd usd 5", "1,,000", ",5", "5,", "1.2.3", "1e5", "1E+999999999",
    "-1e-999999999", "NaN", "-nan", "sNaN", "Infinity", "-Infinity", "inf", "1_000", "١٢٣",
    "１２", "²", "½", "$ 1 000 USD", "50%", "%", "0x10", "+-1", "--1", "(5)", "\x00", "1\x00",
    "9" * 400, "0." + "0" * 400 + "1", "US$5", "dollars", "5 dollar", "\u00a0500",
]  # fmt: skip
money_like_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=20),
    st.text(alphabet="0123456789$,. -+eEkK%€£usdUSD", max_size=20),
)
any_value: st.SearchStrategy[Any] = st.one_of(
    money_like_text,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.decimals(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.complex_numbers(),
)


@settings(max_examples=300, deadline=None)
@given(any_value)
def test_parse_decimal_gives_a_finite_decimal_or_money_error(value: Any) -> None:
    try:
        result = parse_decimal(value)
    except MoneyError as exc:
        assert str(exc)
        return
    assert type(result) is Decimal
    assert result.is_finite()
    assert not isinstance(value, float | bool)


@given(st.one_of(st.floats(), st.booleans()))
def test_floats_and_bools_are_always_refused(value: float | bool) -> None:
    with pytest.raises(MoneyError):
        parse_decimal(value)


@given(st.one_of(st.decimals(allow_nan=False, allow_infinity=False), st.integers()))
def test_exact_values_round_trip(value: Decimal | int) -> None:
    assert parse_decimal(value) == value
    assert parse_decimal(str(value)) == value


@given(st.decimals(min_value=0, max_value=10**12, places=2))
def test_formatted_usd_parses_back_to_the_same_cents(amount: Decimal) -> None:
    assert parse_decimal(format_usd(amount)) == quantize_cents(amount)


# --- money mentions ----------------------------------------------------------------------------
amount_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.builds(
        lambda sign, number, suffix: f"{sign}{number}{suffix}",
        st.sampled_from(["", "$", "€", "£", "USD ", "C$", "A$", "us$"]),
        st.one_of(
            st.integers(0, 10**30).map(str),
            st.integers(0, 10**9).map(lambda n: f"{n:,}"),
            st.decimals(min_value=0, max_value=10**6, places=2).map(str),
            st.text(alphabet="0123456789,.", min_size=1, max_size=40),
        ),
        st.sampled_from(["", "k", "K", " EUR", " dollars", " followers", "%", "/mo", " bucks"]),
    ),
)
reply_words = st.sampled_from(
    ["I could do", "my rate is", "how about", "your", "offer", "usually", "works for me",
     "call me at", "followers", "views", "on", "March", "2026", "but", ".", "?", "\n", ">",
     "not", "instead of", "at least", "555-0147", "(310) 555-0147", "+44 20 7946 0958"]
)  # fmt: skip
reply_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(amount_text, reply_words, st.text(max_size=6)), max_size=25).map(" ".join),
)


def assert_mentions_are_usable(text: str, mentions: list[MoneyMention]) -> None:
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    for mention in mentions:
        assert type(mention.amount) is Decimal
        assert mention.amount.is_finite() and mention.amount > 0
        assert format_usd(mention.amount).startswith("$")  # rounds to cents without error
        assert mention.currency in CURRENCIES
        assert 0 <= mention.start < mention.end <= len(text)
    chosen = proposed_amount(mentions)
    assert chosen is None or chosen in mentions


@FUZZ
@given(reply_text)
def test_any_text_gives_usable_money_mentions(text: str) -> None:
    assert_mentions_are_usable(text, find_money_mentions(text))


# Regressions found by the fuzzers: a run of digits read as money broke the "k" multiplication
# (decimal.Overflow) or, later, rounding to cents (decimal.InvalidOperation in the engine).
@pytest.mark.parametrize(
    "text",
    [
        "I could do " + "9" * 40,
        "$" + "9" * 40,
        "I could do " + "9" * 1_000_001 + "k",
        "my rate is 1,000,000,000,000,000,000,000,000,000,000 dollars",
    ],
    ids=["bare-40-digits", "dollar-40-digits", "million-digits-k", "comma-grouped-huge"],
)
def test_regression_absurdly_long_amounts_are_not_money(text: str) -> None:
    mentions = find_money_mentions(text)
    assert_mentions_are_usable(text, mentions)
    assert mentions == []


def test_twelve_digit_amounts_still_count() -> None:
    (mention,) = find_money_mentions("I could do $999,999,999,999")
    assert mention.amount == Decimal("999999999999")
