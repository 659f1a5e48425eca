"""The money option type: what an operator may type as an amount, and the refusals."""

from __future__ import annotations

from decimal import Decimal

import click
import pytest
from click.testing import CliRunner

from negotiation_pipeline.cli.params import MONEY


@click.command()
@click.option("--rate", type=MONEY, required=True)
def quote(rate: Decimal) -> None:
    click.echo(f"{type(rate).__name__} {rate}")


def run(value: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(quote, ["--rate", value])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1500", "1500.00"),
        ("1500.5", "1500.50"),
        ("1,500.00", "1500.00"),
        ("$1,500", "1500.00"),
        ("US$ 12,345,678.90", "12345678.90"),
        ("1500 USD", "1500.00"),
        (" 0.99 ", "0.99"),
        (".5", "0.50"),
    ],
)
def test_amounts_become_exact_decimals_in_cents(typed: str, amount: str) -> None:
    code, out, _ = run(typed)
    assert code == 0
    assert out == f"Decimal {amount}\n"


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("abc", "is not an amount of money"),
        ("", "is not an amount of money"),
        ("12.345", "at most two decimals"),
        ("1e3", "is not an amount of money"),
        ("-5", "is not an amount of money"),
        ("0", "must be more than 0"),
        ("0.00", "must be more than 0"),
        ("NaN", "is not an amount of money"),
        ("Infinity", "is not an amount of money"),
        ("€1500", "is not an amount of money"),
        ("50%", "is not an amount of money"),
        ("1,50", "is not an amount of money"),
        ("15 00", "is not an amount of money"),
    ],
)
def test_non_money_is_a_usage_error_naming_the_value(typed: str, why: str) -> None:
    code, out, err = run(typed)
    assert code == 2
    assert out == ""
    assert f"Invalid value for '--rate': {typed!r}" in err
    assert why in err
