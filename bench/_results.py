"""The one line every benchmark prints per measured number, so `bench/run_all.py` can collect them.

A benchmark calls `emit(...)` after its human-readable output; the line looks like
`BENCH_RESULT {"metric": ..., "value": ..., "unit": ..., "target": ..., "ok": ...}`.
"""

from __future__ import annotations

import json

PREFIX = "BENCH_RESULT "


def emit(
    metric: str,
    value: float,
    unit: str,
    *,
    target: str = "",
    ok: bool | None = None,
    digits: int = 3,
) -> None:
    """Print one machine-readable result. `target` is the goal as text ("< 5 s", ">= 100/s");
    `ok` says whether it was met (None when the number is only reported)."""
    record = {
        "metric": metric,
        "value": round(value, digits),
        "unit": unit,
        "target": target,
        "ok": ok,
    }
    print(PREFIX + json.dumps(record), flush=True)
