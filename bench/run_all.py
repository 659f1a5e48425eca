"""Run every benchmark and print one markdown table (and write it to bench/RESULTS.md).

    uv run python bench/run_all.py            # full sizes (the audit build takes a few minutes)
    uv run python bench/run_all.py --quick    # small sizes, a smoke run of every script
    uv run python bench/run_all.py --only engine --only audit

With `--only`, RESULTS.md keeps every other benchmark's rows, command and sections, and lists
when each refreshed one was measured (bench/_results_file.py).
Each script runs in its own process (no shared warm caches) and reports its numbers through
`bench/_results.py` lines; a script that fails shows as FAILED with its exit code, and the
others still run. A script may also report a section of its own (the simulate benchmark's
per-opponent strategy table): it is written under its own heading after the table, so a rerun
rewrites it with fresh numbers instead of dropping it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import _results_file

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "RESULTS.md"
PREFIX = "BENCH_RESULT "
SECTION_PREFIX = "BENCH_SECTION "


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    full_args: tuple[str, ...]
    quick_args: tuple[str, ...]
    needs: str = ""  # an executable that must be on PATH, else the benchmark is skipped


BENCHMARKS = (
    Benchmark("sensor", "bench_clickup_sensor.py", ("--tasks", "5000"), ("--tasks", "600")),
    Benchmark(
        "cpm", "bench_cpm_flexibility.py", ("--influencers", "2000"), ("--influencers", "200")
    ),
    Benchmark("reader", "bench_reply_reader.py", ("--seconds", "3"), ("--seconds", "0.5")),
    Benchmark("engine", "bench_engine.py", ("--seconds", "5"), ("--seconds", "0.5")),
    Benchmark(
        "simulate",
        "bench_simulate.py",
        ("--campaigns", "50", "--influencers", "200"),
        ("--campaigns", "3", "--influencers", "20"),
    ),
    Benchmark(
        "tit-for-tat-reach",
        "bench_tit_for_tat_bound.py",
        ("--campaigns", "50", "--influencers", "200"),
        ("--campaigns", "3", "--influencers", "20"),
    ),
    Benchmark("advance", "bench_advance.py", ("--replies", "1000"), ("--replies", "100")),
    Benchmark(
        "advance-dovecot",
        "bench_advance.py",
        ("--replies", "1000", "--dovecot"),
        ("--replies", "50", "--dovecot"),
        needs="dovecot",
    ),
    Benchmark(
        "audit",
        "bench_audit.py",
        ("--rows", "1000000", "--db", "bench/out/audit_1m.db"),
        ("--rows", "20000", "--queries", "100", "--db", "bench/out/audit_quick.db"),
    ),
    Benchmark(
        "store-reads",
        "bench_store_reads.py",
        ("--active", "3000", "--total", "100000"),
        ("--active", "3000", "--total", "10000", "--repeat", "9", "--saves", "500"),
    ),
    Benchmark("e2e-latency", "bench_e2e_latency.py", (), ("--quick",)),
    Benchmark("large-reply", "bench_large_reply.py", ("--mb", "25"), ("--mb", "5")),
)


@dataclass(frozen=True)
class Outcome:
    benchmark: Benchmark
    command: str
    seconds: float
    returncode: int | None  # None = skipped
    results: tuple[dict[str, object], ...]
    note: str = ""
    sections: tuple[dict[str, str], ...] = ()  # {"title", "markdown"}


def run_one(benchmark: Benchmark, quick: bool) -> Outcome:
    args = benchmark.quick_args if quick else benchmark.full_args
    shown = _command(benchmark, quick)
    if not (BENCH_DIR / benchmark.script).exists():
        return Outcome(benchmark, shown, 0.0, None, (), "script not present")
    if benchmark.needs and shutil.which(benchmark.needs) is None:
        return Outcome(benchmark, shown, 0.0, None, (), f"`{benchmark.needs}` not installed")
    print(f"→ {shown}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, f"bench/{benchmark.script}", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    lines = completed.stdout.splitlines()
    results = tuple(json.loads(line[len(PREFIX) :]) for line in lines if line.startswith(PREFIX))
    sections = tuple(
        json.loads(line[len(SECTION_PREFIX) :]) for line in lines if line.startswith(SECTION_PREFIX)
    )
    note = "" if completed.returncode == 0 else _last_lines(completed.stderr or completed.stdout)
    return Outcome(benchmark, shown, seconds, completed.returncode, results, note, sections)


def _last_lines(text: str, count: int = 3) -> str:
    return " / ".join(line.strip() for line in text.strip().splitlines()[-count:])


def _verdict(ok: object) -> str:
    return {True: "met", False: "**missed**"}.get(ok, "reported")  # type: ignore[call-overload]


def _number(value: object) -> str:
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown_table(outcomes: list[Outcome]) -> str:
    lines = ["| benchmark | metric | value | target | result |", "|---|---|---:|---|---|"]
    for outcome in outcomes:
        name = outcome.benchmark.name
        if outcome.returncode is None:
            lines.append(f"| {name} | skipped: {outcome.note} | | | |")
            continue
        for result in outcome.results:
            lines.append(
                f"| {name} | {result['metric']} | {_number(result['value'])} {result['unit']} "
                f"| {result['target']} | {_verdict(result['ok'])} |"
            )
        if outcome.returncode != 0:
            lines.append(f"| {name} | FAILED (exit {outcome.returncode}): {outcome.note} | | | |")
    return "\n".join(lines)


def machine_description() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def report(outcomes: list[Outcome], quick: bool) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = " --quick" if quick else ""
    commands = "\n".join(f"- `{o.command}` ({o.seconds:.0f} s)" for o in outcomes)
    sections = "".join(
        f"\n## {section['title']}\n\n{section['markdown'].strip()}\n"
        for outcome in outcomes
        for section in outcome.sections
    )
    return (
        f"# Benchmark results\n\n"
        f"Measured {when} on {machine_description()}.\n"
        f"Reproduce with `uv run python bench/run_all.py{mode}`.\n\n"
        f"{markdown_table(outcomes)}\n\n"
        f"Commands run:\n{commands}\n"
        f"{sections}"
    )


def _command(benchmark: Benchmark, quick: bool) -> str:
    args = benchmark.quick_args if quick else benchmark.full_args
    return " ".join(["uv", "run", "python", f"bench/{benchmark.script}", *args])


def _refreshed(old: str, fresh: str, outcomes: list[Outcome]) -> str:
    """`old` RESULTS.md with only the benchmarks of `outcomes` updated from `fresh`."""
    owners = {_command(b, quick): b.name for b in BENCHMARKS for quick in (False, True)}
    ran = {o.benchmark.name: o.command for o in outcomes}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    merged = _results_file.merge(
        _results_file.parse(old), _results_file.parse(fresh), ran, owners, when
    )
    order = [b.name for b in BENCHMARKS]
    rank = {command: order.index(name) for command, name in owners.items()}
    merged.commands = dict(
        sorted(merged.commands.items(), key=lambda item: rank.get(item[0], len(order)))
    )
    return _results_file.render(merged, order)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--only", action="append", default=[], help="benchmark name (repeatable)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS_FILE.name}")
    args = parser.parse_args()
    known = {b.name for b in BENCHMARKS}
    unknown = set(args.only) - known
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; known: {sorted(known)}")
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    (BENCH_DIR / "out").mkdir(exist_ok=True)
    outcomes = [run_one(benchmark, args.quick) for benchmark in chosen]
    text = report(outcomes, args.quick)
    print(text)
    if not args.no_write:
        if args.only and RESULTS_FILE.exists():
            text = _refreshed(RESULTS_FILE.read_text(encoding="utf-8"), text, outcomes)
        RESULTS_FILE.write_text(text, encoding="utf-8")
    failed = [o for o in outcomes if o.returncode not in (0, None)]
    missed = [r for o in outcomes for r in o.results if r["ok"] is False]
    return 1 if failed or missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
