"""Option and argument types of the command line: money as `Decimal`, and values checked by the
library's own parsers (so the CLI and the library accept exactly the same things).

A bad value is a usage error (exit 2) naming the option and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

import click

T = TypeVar("T")

# A US-dollar amount as people type it: 1500, 1500.5, 1,500.00, $1,500, 1500 USD. Nothing
# else: no sign, no exponent, no more than cents, no other currency.
_MONEY = re.compile(
    r"^\s*(?:US\$|\$|USD)?\s*"
    r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?|\.\d{1,2})"
    r"\s*(?:USD)?\s*$",
    re.IGNORECASE,
)


class MoneyParamType(click.ParamType):
    """A positive US-dollar amount with at most two decimals, as a `Decimal` in cents."""

    name = "amount"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Decimal):
            return value
        from negotiation_pipeline.domain.money import quantize_cents

        match = _MONEY.match(value) if isinstance(value, str) else None
        if match is None:
            self.fail(
                f"{value!r} is not an amount of money: write dollars with at most two "
                "decimals, e.g. 1500, 1,500.00 or $1500",
                param,
                ctx,
            )
        amount = Decimal(match.group("amount").replace(",", ""))
        if amount <= 0:
            self.fail(f"{value!r} is not an amount of money: it must be more than 0", param, ctx)
        return quantize_cents(amount)


MONEY = MoneyParamType()


class ParsedParamType(click.ParamType, Generic[T]):
    """A value converted by `parse`; the ValueError it raises becomes the usage error's text."""

    def __init__(self, name: str, metavar: str, parse: Callable[[str], T]) -> None:
        self.name = name
        self._metavar = metavar
        self._parse = parse

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self._metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
