"""Checks of the CPM flexibility table, run inline by `cpm_flexibility` (blocking).

Inline `check_specs` rather than a separate `@asset_check`: an unpartitioned check on a
partitioned asset loads every partition as a dict and breaks once two campaigns exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import dagster as dg

from negotiation_pipeline.domain.campaigns.cpm import HARD_CAP_FACTOR

CPM_WITHIN_BOUNDS = "cpm_within_bounds"

cpm_within_bounds_spec = dg.AssetCheckSpec(
    name=CPM_WITHIN_BOUNDS,
    asset="cpm_flexibility",
    blocking=True,
    description=(
        "Every row: 0 < floor_cpm ≤ max_allowed_cpm ≤ 120% of the campaign's target max CPM, "
        "and 0 < opening_rate ≤ ceiling_rate. A failing table stops the run before anyone "
        "is emailed."
    ),
)

_POSITIVE_COLUMNS = ("floor_cpm", "max_allowed_cpm", "opening_rate", "ceiling_rate")


def flexibility_violations(
    records: Iterable[Mapping[str, Any]], target_max_cpm: Decimal
) -> list[str]:
    """One message per broken rule per row (empty = the table is sound)."""
    hard_cap = target_max_cpm * HARD_CAP_FACTOR
    problems: list[str] = []
    for record in records:
        who = str(record.get("name") or record.get("email") or "?")
        decimals: dict[str, Decimal] = {}
        for column in _POSITIVE_COLUMNS:
            value = record.get(column)
            if isinstance(value, Decimal):
                decimals[column] = value
        if len(decimals) < len(_POSITIVE_COLUMNS):
            missing = [c for c in _POSITIVE_COLUMNS if c not in decimals]
            problems.append(f"{who}: {', '.join(missing)} not Decimal")
            continue
        floor, max_allowed = decimals["floor_cpm"], decimals["max_allowed_cpm"]
        opening, ceiling = decimals["opening_rate"], decimals["ceiling_rate"]
        non_positive = [c for c, v in decimals.items() if v <= 0]
        if non_positive:
            problems.append(f"{who}: {', '.join(non_positive)} not positive")
        if floor > max_allowed:
            problems.append(f"{who}: floor_cpm {floor} > max_allowed_cpm {max_allowed}")
        if max_allowed > hard_cap:
            problems.append(f"{who}: max_allowed_cpm {max_allowed} > 120% cap {hard_cap}")
        if opening > ceiling:
            problems.append(f"{who}: opening_rate {opening} > ceiling_rate {ceiling}")
    return problems


def cpm_within_bounds_result(
    records: Sequence[Mapping[str, Any]], target_max_cpm: Decimal
) -> dg.AssetCheckResult:
    problems = flexibility_violations(records, target_max_cpm)
    return dg.AssetCheckResult(
        check_name=CPM_WITHIN_BOUNDS,
        asset_key="cpm_flexibility",
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if not problems else f"{len(problems)} bound violation(s)",
        metadata={
            "rows_checked": len(records),
            "violations": len(problems),
            "hard_cap_cpm": str(target_max_cpm * HARD_CAP_FACTOR),
            "first_violations": dg.MetadataValue.md(
                "\n".join(f"- {p}" for p in problems[:20]) or "none"
            ),
        },
    )
