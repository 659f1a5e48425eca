"""Replies read per second over the labelled corpus (one core, single process).

Run: uv run python bench/bench_reply_reader.py [--seconds 3]
The engine budget is >= 1,000 replies/s for read + decide + render + validate, so reading alone
should stay far above that (well under 0.5 ms per reply).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from bench._results import emit
from tests.support.reading import read_reply

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "domain" / "reading" / "reply_corpus.yaml"


def load_bodies() -> list[str]:
    cases = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["cases"]
    return [case["body"] for case in cases]


def measure(bodies: list[str], seconds: float) -> tuple[int, float]:
    """Read the corpus round after round for about `seconds`; return (replies, elapsed)."""
    for body in bodies:  # warm-up: regex compilation and caches
        read_reply(body)
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for body in bodies:
            read_reply(body)
        count += len(bodies)
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    bodies = load_bodies()
    count, elapsed = measure(bodies, args.seconds)
    per_reply_ms = elapsed / count * 1000
    slowest = max(bodies, key=lambda body: _time_one(body))
    print(f"corpus: {len(bodies)} replies, {count} reads in {elapsed:.2f} s")
    print(f"throughput: {count / elapsed:,.0f} replies/s ({per_reply_ms:.3f} ms per reply)")
    print(f"slowest reply: {_time_one(slowest) * 1000:.3f} ms ({slowest.splitlines()[0][:60]!r})")
    emit("reply reader alone (labelled corpus)", count / elapsed, "replies/s")


def _time_one(body: str, rounds: int = 50) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        read_reply(body)
    return (time.perf_counter() - started) / rounds


if __name__ == "__main__":
    main()
