"""clickup_campaign_sensor through `evaluate_tick`, as the daemon runs it: a real test instance,
the real ClickUp client over loopback HTTP (the fake ClickUp server), and the resources chosen
by `build_definitions` from the environment."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from negotiation_pipeline.definitions import build_definitions, build_resources
from negotiation_pipeline.defs.campaigns.partitions import CAMPAIGN_PARTITIONS_NAME
from negotiation_pipeline.defs.campaigns.sensors import clickup_campaign_sensor
from negotiation_pipeline.defs.campaigns.task_cursor import TaskCursor
from negotiation_pipeline.defs.shared.resources import ClickUpTaskSourceResource
from tests.defs.conftest import INVALID_NIMBUS, VALID_LUMEN, VALID_TRAILPEAK, sandbox_task
from tests.fakes.clickup_server import FakeClickUp, make_task

NAME_WITH_MARKUP = "Acme\n<b>Co</b>\t"
ALL_SANDBOX = [VALID_LUMEN, VALID_TRAILPEAK, INVALID_NIMBUS]


def tick(instance: dg.DagsterInstance, defs: dg.Definitions, cursor: str | None) -> dg.SensorResult:
    """One sensor evaluation; like the daemon, apply its partition requests to the instance."""
    with dg.build_sensor_context(
        instance_ref=instance.get_ref(),
        definitions=defs,
        cursor=cursor,
        resources=dict(defs.resources or {}),
    ) as context:
        data = defs.resolve_sensor_def(clickup_campaign_sensor.name).evaluate_tick(context)
    for request in data.dynamic_partitions_requests or []:
        assert isinstance(request, dg.AddDynamicPartitionsRequest)
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return dg.SensorResult(
        run_requests=data.run_requests,
        dynamic_partitions_requests=data.dynamic_partitions_requests,
        cursor=data.cursor,
    )


def list_queries(fake: FakeClickUp) -> list[int]:
    return [int(r.query["date_updated_gt"][0]) for r in fake.requests if r.path.endswith("/task")]


def test_first_tick_adds_partitions_and_requests_one_run_per_task(
    instance: dg.DagsterInstance, clickup_defs: dg.Definitions, fake_clickup: FakeClickUp
) -> None:
    result = tick(instance, clickup_defs, cursor=None)

    requests = result.run_requests or []
    assert [r.partition_key for r in requests] == ALL_SANDBOX  # oldest update first
    assert [r.run_key for r in requests] == [
        f"{t}:{sandbox_task(t)['date_updated']}" for t in ALL_SANDBOX
    ]
    [add] = result.dynamic_partitions_requests or []
    assert isinstance(add, dg.AddDynamicPartitionsRequest)
    assert add.partitions_def_name == CAMPAIGN_PARTITIONS_NAME
    assert list(add.partition_keys) == ALL_SANDBOX
    assert instance.get_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME) == ALL_SANDBOX
    cursor = TaskCursor.from_json(result.cursor)
    assert cursor.watermark_ms == int(sandbox_task(INVALID_NIMBUS)["date_updated"])
    assert cursor.seen_at_watermark == {INVALID_NIMBUS}
    assert list_queries(fake_clickup) == [0]


def test_each_run_request_names_its_client_beside_the_task_id(
    instance: dg.DagsterInstance, clickup_defs: dg.Definitions, fake_clickup: FakeClickUp
) -> None:
    """The client comes from the listed task's Client Name field; a task whose field is empty
    (the incomplete Nimbus form) or holds markup and control characters still gets a one-line
    name, from the task name when the field has none."""
    fake_clickup.put_task(
        make_task(
            "86b1aa009",
            int(sandbox_task(INVALID_NIMBUS)["date_updated"]) + 1_000,
            [
                {
                    "id": "f1",
                    "name": "client  name",
                    "type": "short_text",
                    "value": "Acme\n<b>Co</b>\t",
                }
            ],
        )
    )
    result = tick(instance, clickup_defs, cursor=None)

    tags = {r.partition_key: r.tags for r in result.run_requests or []}
    assert tags[VALID_LUMEN]["clickup/task_id"] == VALID_LUMEN
    assert tags[VALID_LUMEN]["campaign_name"] == "Lumen Skincare"
    assert tags[VALID_TRAILPEAK]["campaign_name"] == "Trailpeak Outdoors"
    assert tags[INVALID_NIMBUS]["campaign_name"] == sandbox_task(INVALID_NIMBUS)["name"]
    assert tags["86b1aa009"]["campaign_name"] == "Acme <b>Co</b>"


def test_second_tick_without_changes_requests_nothing_despite_inclusive_filter(
    instance: dg.DagsterInstance, clickup_defs: dg.Definitions, fake_clickup: FakeClickUp
) -> None:
    first = tick(instance, clickup_defs, cursor=None)
    fake_clickup.clear_requests()

    second = tick(instance, clickup_defs, cursor=first.cursor)

    # ClickUp's date_updated_gt is ">=": the newest task comes back, and must be dropped.
    watermark = TaskCursor.from_json(first.cursor).watermark_ms
    assert list_queries(fake_clickup) == [watermark]
    assert not second.run_requests
    assert not second.dynamic_partitions_requests
    assert second.cursor == first.cursor


def test_changed_task_requests_exactly_one_new_run(
    instance: dg.DagsterInstance, clickup_defs: dg.Definitions, fake_clickup: FakeClickUp
) -> None:
    first = tick(instance, clickup_defs, cursor=None)
    edited_at = int(sandbox_task(INVALID_NIMBUS)["date_updated"]) + 5_000
    fake_clickup.touch_task(VALID_LUMEN, edited_at)

    second = tick(instance, clickup_defs, cursor=first.cursor)

    [request] = second.run_requests or []
    assert request.partition_key == VALID_LUMEN
    assert request.run_key == f"{VALID_LUMEN}:{edited_at}"
    assert not second.dynamic_partitions_requests  # the partition exists already
    third = tick(instance, clickup_defs, cursor=second.cursor)
    assert not third.run_requests


def test_tasks_sharing_the_watermark_millisecond_are_each_requested_once(
    instance: dg.DagsterInstance, clickup_defs: dg.Definitions, fake_clickup: FakeClickUp
) -> None:
    first = tick(instance, clickup_defs, cursor=None)
    watermark = TaskCursor.from_json(first.cursor).watermark_ms
    # A task saved in the same millisecond as the newest one, seen only on the next poll.
    fake_clickup.put_task(make_task("late-same-ms", watermark))

    second = tick(instance, clickup_defs, cursor=first.cursor)

    assert [r.run_key for r in second.run_requests or []] == [f"late-same-ms:{watermark}"]
    assert TaskCursor.from_json(second.cursor).seen_at_watermark == {
        INVALID_NIMBUS,
        "late-same-ms",
    }
    assert not tick(instance, clickup_defs, cursor=second.cursor).run_requests


def test_page_budget_continues_on_the_next_tick_until_caught_up(
    instance: dg.DagsterInstance,
    clickup_env: dict[str, str],
    fake_clickup: FakeClickUp,
) -> None:
    base = 1_800_000_000_000
    # 250 more tasks; ten of them share one millisecond across the first page boundary.
    fake_clickup.put_tasks(
        make_task(f"bulk-{n:03d}", base + (95 if 95 <= n < 105 else n) * 1_000) for n in range(250)
    )
    one_page = ClickUpTaskSourceResource(
        api_token=fake_clickup.token,
        list_id=fake_clickup.list_id,
        base_url=fake_clickup.base_url,
        pages_per_tick=1,
    )
    base_defs = build_definitions(clickup_env)
    defs = dg.Definitions(
        assets=list(base_defs.assets or []),
        jobs=list(base_defs.jobs or []),
        sensors=list(base_defs.sensors or []),
        resources={**build_resources(clickup_env), "clickup": one_page},
    )

    requested: Counter[str] = Counter()
    cursor: str | None = None
    ticks = 0
    while True:
        fake_clickup.clear_requests()
        result = tick(instance, defs, cursor)
        ticks += 1
        assert len(list_queries(fake_clickup)) == 1  # one page per tick, never more
        if not result.run_requests:
            break
        requested.update(r.partition_key or "" for r in result.run_requests)
        cursor = result.cursor
        assert ticks < 10

    assert ticks == 4  # 253 tasks: 100, then 99 + 1 repeat, then 54 + 1 repeat, then none
    assert sum(requested.values()) == 253
    assert set(requested.values()) == {1}
    assert len(instance.get_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME)) == 253


def test_sandbox_folder_is_the_source_without_a_token(
    instance: dg.DagsterInstance, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    defs = build_definitions(sandbox_env)

    first = tick(instance, defs, cursor=None)
    assert sorted(r.partition_key or "" for r in first.run_requests or []) == ALL_SANDBOX
    assert not tick(instance, defs, cursor=first.cursor).run_requests


def test_unreadable_cursor_fails_the_tick_with_a_clear_message(
    instance: dg.DagsterInstance, clickup_defs: dg.Definitions
) -> None:
    with pytest.raises(Exception, match="not a ClickUp task cursor"):
        tick(instance, clickup_defs, cursor="12345")
