"""parse_decimal and the money formulas: property tests plus the edge cases that bit before."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from negotiation_pipeline.domain.money import (
    MoneyError,
    PricingError,
    cpm_for_rate,
    format_usd,
    parse_decimal,
    quantize_cents,
    rate_for_cpm,
)

amounts = st.decimals(min_value=0, max_value=Decimal("10000000"), places=2, allow_nan=False)


@given(amounts)
def test_dollar_and_thousands_separators_round_trip(amount: Decimal) -> None:
    assert parse_decimal(f"${amount:,.2f}") == amount
    assert parse_decimal(f"{amount:,}") == amount
    assert parse_decimal(f"{amount} USD") == amount


@given(amounts)
def test_format_usd_parses_back(amount: Decimal) -> None:
    assert parse_decimal(format_usd(amount)) == quantize_cents(amount)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_always_rejected(value: float) -> None:
    with pytest.raises(MoneyError, match="float"):
        parse_decimal(value)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_ints_are_exact(value: int) -> None:
    assert parse_decimal(value) == Decimal(value)


@pytest.mark.parametrize("bad", ["", "$", "abc", "1.2.3", "NaN", "Infinity", "$-"])
def test_non_amounts_are_rejected_with_the_value_named(bad: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_decimal(bad)
    assert repr(bad) in str(caught.value)


@pytest.mark.parametrize("bad", [True, None, [1], object()])
def test_non_numbers_are_rejected(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_decimal(bad)


def test_formulas_round_half_up_to_cents() -> None:
    assert rate_for_cpm(45_000, Decimal("20")) == Decimal("900.00")
    assert rate_for_cpm(1_005, Decimal("0.5")) == Decimal("0.50")  # 0.5025 → 0.50
    assert rate_for_cpm(1_010, Decimal("0.5")) == Decimal("0.51")  # 0.505 → 0.51 (half-up)
    assert cpm_for_rate(Decimal("900"), 45_000) == Decimal("20.00")


@pytest.mark.parametrize("views", [0, -10])
def test_formulas_refuse_non_positive_views(views: int) -> None:
    with pytest.raises(PricingError, match="views"):
        rate_for_cpm(views, Decimal(20))
    with pytest.raises(PricingError, match="views"):
        cpm_for_rate(Decimal(900), views)


@given(st.integers(min_value=1, max_value=10**8), st.decimals(min_value=1, max_value=500, places=2))
def test_rate_and_cpm_are_inverse_within_a_cent_of_cpm(views: int, cpm: Decimal) -> None:
    rate = rate_for_cpm(views, cpm)
    assert isinstance(rate, Decimal) and rate == quantize_cents(rate)
    if views >= 100_000:  # enough views that cents of rate resolve the CPM to a cent
        assert abs(cpm_for_rate(rate, views) - cpm) <= Decimal("0.01")
