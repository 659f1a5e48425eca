"""Sensors: new or changed ClickUp campaign tasks, and the CPM automation sensor.

`clickup_campaign_sensor` stays cheap: it lists tasks (a bounded number of pages per tick) and
moves its cursor; fetching and parsing each task happen in the run it requests.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at definition time.
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg

from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility
from negotiation_pipeline.defs.campaigns.jobs import SQLITE_RUN_TAGS, campaign_ingestion_job
from negotiation_pipeline.defs.campaigns.partitions import (
    CAMPAIGN_PARTITIONS_NAME,
    campaign_partitions,
)
from negotiation_pipeline.defs.campaigns.task_cursor import TaskCursor, TickPlan, plan_tick
from negotiation_pipeline.defs.shared.resources import CampaignTaskSourceResource
from negotiation_pipeline.defs.shared.run_tags import campaign_tags
from negotiation_pipeline.integrations.clickup.field_mapping import FieldMapping
from negotiation_pipeline.integrations.clickup.field_values import listed_client_name
from negotiation_pipeline.settings.files import ConfigError

SENSOR_INTERVAL_SECONDS = 30


@dg.sensor(
    name="clickup_campaign_sensor",
    job=campaign_ingestion_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the ClickUp campaign List: each new campaign task becomes a campaign "
        "partition (named by its task id), and each new or edited task gets one "
        "campaign_ingestion_job run, tagged with the client name. An unchanged task is never "
        "run twice."
    ),
)
def clickup_campaign_sensor(
    context: dg.SensorEvaluationContext, clickup: CampaignTaskSourceResource
) -> dg.SensorResult:
    cursor = TaskCursor.from_json(context.cursor)
    with clickup.open() as source:
        listing = source.list_tasks_updated_since(
            cursor.watermark_ms, max_pages=clickup.pages_per_tick
        )
    plan = plan_tick(cursor, listing.tasks)
    _log_plan(context, cursor, plan, more_pages=listing.more_pages)

    known = set(context.instance.get_dynamic_partitions(CAMPAIGN_PARTITIONS_NAME))
    new_keys = list(dict.fromkeys(c.task_id for c in plan.changes if c.task_id not in known))
    names = _client_names(listing.tasks)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=change.run_key,
                partition_key=change.task_id,
                tags=campaign_tags(change.task_id, names.get(change.task_id, "")),
            )
            for change in plan.changes
        ],
        dynamic_partitions_requests=(
            [campaign_partitions.build_add_request(new_keys)] if new_keys else []
        ),
        cursor=plan.next_cursor.to_json(),
        skip_reason=None if plan.changes else "no new or changed campaign tasks",
    )


def _client_names(tasks: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Task id → client name as listed (the last listing of a task wins, as in the plan). A
    broken field mapping only costs the names their field: the campaign asset reports it."""
    try:
        label = FieldMapping.load().label_for("client_name")
    except ConfigError:
        label = ""
    return {str(task.get("id")): listed_client_name(task, label) for task in tasks}


def _log_plan(
    context: dg.SensorEvaluationContext, cursor: TaskCursor, plan: TickPlan, *, more_pages: bool
) -> None:
    if plan.ignored_tasks:
        context.log.warning(
            f"ignored {len(plan.ignored_tasks)} task(s) without id or date_updated: "
            + ", ".join(plan.ignored_tasks[:10])
        )
    if more_pages:
        if plan.next_cursor.watermark_ms == cursor.watermark_ms and not plan.changes:
            # Every task of the page budget has the same date_updated and was seen already:
            # raise pages_per_tick, or the sensor cannot move past this millisecond.
            context.log.error(
                f"page budget exhausted at date_updated {cursor.watermark_ms} without progress"
            )
        else:
            context.log.info("more tasks remain; the next tick continues from the new cursor")


cpm_automation_sensor = dg.AutomationConditionSensorDefinition(
    name="cpm_automation_sensor",
    target=dg.AssetSelection.assets(cpm_flexibility),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    run_tags=SQLITE_RUN_TAGS,
    description=(
        "Recomputes a campaign's cpm_flexibility when its agreements or influencers change."
    ),
)
