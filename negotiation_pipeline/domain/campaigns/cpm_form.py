"""The campaign form's CPM rule: a range, or a target CPM widened by a leniency percentage.

A form gives either CPM Min and CPM Max, or CPM Target (optionally with Leniency %): the range
is then [target, target × (1 + leniency / 100)]. Pure: the caller names the fields (`name`), so
every problem reads in the words of the form that was filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

CPM_INPUTS = ("cpm_min", "cpm_max", "cpm_target", "cpm_leniency_pct")


@dataclass(frozen=True)
class CpmFormProblem:
    """What is wrong, and which input (one of CPM_INPUTS) it belongs to."""

    field: str
    message: str


def cpm_range_from_form(
    low: Decimal | None,
    high: Decimal | None,
    target: Decimal | None,
    leniency_pct: Decimal | None,
    name: Callable[[str], str] = str,
) -> tuple[Decimal, Decimal] | CpmFormProblem:
    """(min CPM, max CPM) from the form's inputs, or the first problem with them."""
    if low is not None or high is not None:
        return _explicit_range(low, high, name)
    if target is None:
        return CpmFormProblem(
            "cpm_min",
            f"no CPM range: set {name('cpm_min')} and {name('cpm_max')}, or {name('cpm_target')}",
        )
    if target <= 0:
        return CpmFormProblem("cpm_target", f"must be greater than 0, got {target}")
    leniency = leniency_pct if leniency_pct is not None else Decimal(0)
    if leniency < 0:
        return CpmFormProblem("cpm_leniency_pct", f"must not be negative, got {leniency}")
    return target, target * (1 + leniency / 100)


def _explicit_range(
    low: Decimal | None, high: Decimal | None, name: Callable[[str], str]
) -> tuple[Decimal, Decimal] | CpmFormProblem:
    if low is None:
        return CpmFormProblem("cpm_min", f"required when {name('cpm_max')} is set")
    if high is None:
        return CpmFormProblem("cpm_max", f"required when {name('cpm_min')} is set")
    if low <= 0:
        return CpmFormProblem("cpm_min", f"must be greater than 0, got {low}")
    if low > high:
        return CpmFormProblem("cpm_min", f"{low} is above {name('cpm_max')} {high}")
    return low, high
