"""Benchmark: clickup_campaign_sensor against the loopback ClickUp fake holding 5,000 tasks.

Times one tick (the default page budget: 5 pages = 500 tasks), then ticks until caught up and
checks that every task was requested exactly once and added as a partition exactly once.
Target: one tick < 5 s.

    uv run python bench/bench_clickup_sensor.py [--tasks 5000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory

import dagster as dg

from bench._results import emit
from negotiation_pipeline.definitions import build_definitions
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.campaigns.sensors import clickup_campaign_sensor
from negotiation_pipeline.defs.shared.resources import ClickUpTaskSourceResource
from tests.fakes.clickup_server import FakeClickUp, make_task

TICK_TARGET_S = 5.0
BASE_MS = 1_800_000_000_000


def run(task_count: int) -> int:
    with FakeClickUp() as fake, dg.instance_for_test() as instance, TemporaryDirectory() as tmp:
        # Groups of three tasks share a millisecond, so page boundaries split equal timestamps.
        fake.put_tasks(
            make_task(f"t{n:05d}", BASE_MS + (n // 3) * 1_000) for n in range(task_count)
        )
        clickup = ClickUpTaskSourceResource(
            api_token=fake.token, list_id=fake.list_id, base_url=fake.base_url
        )
        everything = build_definitions({"NEGOTIATION_DB": str(Path(tmp) / "negotiation.db")})
        defs = dg.Definitions(
            assets=list(everything.assets or []),
            jobs=list(everything.jobs or []),
            sensors=list(everything.sensors or []),
            resources={**dict(everything.resources or {}), "clickup": clickup},
        )
        sensor = defs.resolve_sensor_def(clickup_campaign_sensor.name)

        requested: Counter[str] = Counter()
        added: Counter[str] = Counter()
        tick_seconds: list[float] = []
        cursor: str | None = None
        while True:
            started = time.perf_counter()
            with dg.build_sensor_context(
                instance_ref=instance.get_ref(),
                definitions=defs,
                cursor=cursor,
                resources={"clickup": clickup},
            ) as context:
                data = sensor.evaluate_tick(context)
            tick_seconds.append(time.perf_counter() - started)
            # What the daemon does next: apply the partition requests.
            for request in data.dynamic_partitions_requests or []:
                assert isinstance(request, dg.AddDynamicPartitionsRequest)
                keys = list(request.partition_keys)
                added.update(keys)
                instance.add_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME, keys)
            if not data.run_requests:
                break
            requested.update(r.partition_key or "" for r in data.run_requests)
            cursor = data.cursor

        first = tick_seconds[0]
        print(f"tasks: {task_count}, ticks until caught up: {len(tick_seconds)}")
        print(f"first tick (500 tasks, 5 pages): {first:.3f} s (target < {TICK_TARGET_S} s)")
        print(
            f"all ticks: median {statistics.median(tick_seconds):.3f} s, "
            f"max {max(tick_seconds):.3f} s, total {sum(tick_seconds):.2f} s"
        )
        exactly_once = len(requested) == task_count and set(requested.values()) == {1}
        added_once = len(added) == task_count and set(added.values()) == {1}
        print(f"run requests: {sum(requested.values())}, each task exactly once: {exactly_once}")
        print(f"partitions added: {sum(added.values())}, each exactly once: {added_once}")
        ok = exactly_once and added_once and max(tick_seconds) < TICK_TARGET_S
        print("PASS" if ok else "FAIL")
        emit(
            f"sensor tick over {task_count:,} ClickUp tasks (slowest tick)",
            max(tick_seconds),
            "s",
            target=f"< {TICK_TARGET_S:g} s",
            ok=max(tick_seconds) < TICK_TARGET_S,
        )
        emit(
            f"ticks until all {task_count:,} tasks requested exactly once",
            len(tick_seconds),
            "ticks",
            target="each task exactly once",
            ok=exactly_once and added_once,
        )
        return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5_000)
    return run(parser.parse_args().tasks)


if __name__ == "__main__":
    raise SystemExit(main())
