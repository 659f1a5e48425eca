"""A run of some benchmarks (`run_all.py --only`) refreshes only their part of RESULTS.md."""

from __future__ import annotations

from bench._results_file import merge, parse, render

OLD = """# Benchmark results

Measured 2026-11-23 13:21 UTC on a test machine.

| benchmark | metric | value | target | result |
|---|---|---:|---|---|
| sensor | sensor tick | 0.385 s | < 5 s | met |
| engine | engine rate | 1,963 replies/s | >= 2,000/s | **missed** |
| simulate | simulate wall | 41 s | < 60 s | met |

Commands run:
- `uv run python bench/bench_clickup_sensor.py --tasks 5000` (11 s)
- `uv run python bench/bench_engine.py --seconds 5` (6 s)
- `uv run python bench/bench_simulate.py --campaigns 50` (42 s)

## Strategy table

old strategy numbers

## Another section

kept as it was
"""

FRESH = """# Benchmark results

Measured 2026-12-02 09:00 UTC on a test machine.

| benchmark | metric | value | target | result |
|---|---|---:|---|---|
| engine | engine rate | 2,600 replies/s | >= 2,000/s | met |
| engine | engine per CPU second | 2,650 replies/s |  | reported |

Commands run:
- `uv run python bench/bench_engine.py --seconds 0.5` (1 s)

## Strategy table

new strategy numbers
"""

ORDER = ["sensor", "engine", "simulate"]
OWNERS = {
    "uv run python bench/bench_clickup_sensor.py --tasks 5000": "sensor",
    "uv run python bench/bench_engine.py --seconds 5": "engine",
    "uv run python bench/bench_engine.py --seconds 0.5": "engine",
    "uv run python bench/bench_simulate.py --campaigns 50": "simulate",
}


def _merged() -> str:
    ran = {"engine": "uv run python bench/bench_engine.py --seconds 0.5"}
    merged = merge(parse(OLD), parse(FRESH), ran, OWNERS, "2026-12-02 09:00 UTC")
    return render(merged, ORDER)


def test_the_refreshed_benchmark_s_rows_replace_its_old_ones_in_place() -> None:
    text = _merged()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "benchmark" not in line]
    assert [row.split(" |")[0] for row in rows] == [
        "| sensor",
        "| engine",
        "| engine",
        "| simulate",
    ]
    assert "2,600 replies/s" in text and "2,650 replies/s" in text
    assert "1,963" not in text


def test_other_benchmarks_keep_their_rows_commands_and_sections() -> None:
    text = _merged()
    assert "| sensor | sensor tick | 0.385 s | < 5 s | met |" in text
    assert "bench_simulate.py --campaigns 50` (42 s)" in text
    assert "## Another section\n\nkept as it was" in text
    assert "Measured 2026-11-23 13:21 UTC" in text  # the full run's header stays


def test_a_refreshed_section_and_command_replace_the_old_ones() -> None:
    text = _merged()
    assert "new strategy numbers" in text and "old strategy numbers" not in text
    assert text.count("## Strategy table") == 1
    assert "bench_engine.py --seconds 0.5` (1 s)" in text
    assert "bench_engine.py --seconds 5`" not in text  # the same benchmark's older command
    assert "Refreshed since (with `--only`):\n- engine: 2026-12-02 09:00 UTC" in text


def test_a_second_refresh_keeps_the_first_one_s_note_and_is_stable() -> None:
    once = _merged()
    ran = {"sensor": "uv run python bench/bench_clickup_sensor.py --tasks 5000"}
    twice = render(merge(parse(once), parse(OLD), ran, OWNERS, "2026-12-03 10:00 UTC"), ORDER)
    assert "- engine: 2026-12-02 09:00 UTC\n- sensor: 2026-12-03 10:00 UTC" in twice
    assert "2,600 replies/s" in twice
    assert render(parse(twice), ORDER) == twice
