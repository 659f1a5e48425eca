"""The one line every benchmark prints per measured number, so `bench/run_all.py` can collect them.

A benchmark calls `emit(...)` after its human-readable output; the line looks like
`BENCH_RESULT {"metric": ..., "value": ..., "unit": ..., "target": ..., "ok": ...}`.
A benchmark whose result is a table of its own (the simulator's per-opponent strategy table)
calls `emit_section(title, markdown)`: run_all.py writes it under `## title` in RESULTS.md.
"""

from __future__ import annotations

import json

PREFIX = "BENCH_RESULT "
SECTION_PREFIX = "BENCH_SECTION "


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


def emit_section(title: str, markdown: str) -> None:
    """Print a markdown section (one line of JSON) for RESULTS.md, under its own heading."""
    print(SECTION_PREFIX + json.dumps({"title": title, "markdown": markdown}), flush=True)
