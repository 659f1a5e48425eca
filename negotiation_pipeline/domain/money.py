"""Decimal money: parsing form and roster values, rate/CPM formulas, display.

A float never becomes money: binary floats cannot represent cents exactly, so every entry point
rejects them and callers pass strings, ints or Decimals.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENTS = Decimal("0.01")
THOUSAND = Decimal(1000)

# Symbols and codes that may surround an amount in a form or a sheet cell.
_STRIP = re.compile(r"(?i)^\s*(?:usd|us\$|\$)?\s*|\s*(?:usd|dollars?|%)?\s*$")


class MoneyError(ValueError):
    """A value that should be money (or a plain decimal) is not one."""


class PricingError(ValueError):
    """Rate or CPM cannot be computed (for example zero views)."""


def parse_decimal(value: object) -> Decimal:
    """Parse "$1,500", "1,500.00", "1500", "50%", 1500 or Decimal("1500") to a Decimal.

    Floats (and bools) are rejected with a clear message; so is anything not a finite number.
    """
    if isinstance(value, bool):
        raise MoneyError(f"expected an amount, got a boolean ({value!r})")
    if isinstance(value, float):
        raise MoneyError(f"float {value!r} rejected: pass money as a string or Decimal, not float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = _STRIP.sub("", value).replace(",", "").replace(" ", "")
        if not text:
            raise MoneyError(f"{value!r} is not an amount")
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"{value!r} is not an amount") from exc
    else:
        raise MoneyError(f"expected an amount, got {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite amount")
    return result


def quantize_cents(amount: Decimal) -> Decimal:
    """Round half-up to cents."""
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


def rate_for_cpm(average_views: int, cpm: Decimal) -> Decimal:
    """rate = average_views / 1000 × CPM, rounded half-up to cents."""
    if average_views <= 0:
        raise PricingError(f"average views must be positive, got {average_views}")
    return quantize_cents(Decimal(average_views) / THOUSAND * cpm)


def cpm_for_rate(rate: Decimal, average_views: int) -> Decimal:
    """CPM = rate / (average_views / 1000), rounded half-up to cents."""
    if average_views <= 0:
        raise PricingError(f"average views must be positive, got {average_views}")
    return quantize_cents(rate / (Decimal(average_views) / THOUSAND))


def format_usd(amount: Decimal) -> str:
    """$1,500.00: the one way money is written in emails, Slack and reports."""
    return f"${quantize_cents(amount):,.2f}"
