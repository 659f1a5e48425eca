"""The form's CPM rule, pure: an explicit range, or a target widened by leniency."""

from __future__ import annotations

from decimal import Decimal as D

from negotiation_pipeline.domain.campaigns.cpm_form import CpmFormProblem, cpm_range_from_form


def test_target_and_leniency_widen_upwards_exactly() -> None:
    assert cpm_range_from_form(None, None, D("20"), D("15")) == (D("20"), D("23.00"))
    assert cpm_range_from_form(None, None, D("20"), None) == (D("20"), D("20"))


def test_an_explicit_range_wins_and_is_checked() -> None:
    assert cpm_range_from_form(D("10"), D("12"), D("99"), None) == (D("10"), D("12"))
    assert cpm_range_from_form(D("13"), D("12"), None, None) == CpmFormProblem(
        "cpm_min", "13 is above cpm_max 12"
    )
    assert cpm_range_from_form(None, D("12"), None, None).field == "cpm_min"  # type: ignore[union-attr]


def test_problems_speak_in_the_callers_names() -> None:
    names = {"cpm_min": "CPM Min", "cpm_max": "CPM Max", "cpm_target": "Target CPM"}
    problem = cpm_range_from_form(None, None, None, None, name=names.__getitem__)
    assert problem == CpmFormProblem(
        "cpm_min", "no CPM range: set CPM Min and CPM Max, or Target CPM"
    )
    assert cpm_range_from_form(None, None, D("5"), D("-1")) == CpmFormProblem(
        "cpm_leniency_pct", "must not be negative, got -1"
    )
    assert cpm_range_from_form(None, None, D("0"), None) == CpmFormProblem(
        "cpm_target", "must be greater than 0, got 0"
    )
