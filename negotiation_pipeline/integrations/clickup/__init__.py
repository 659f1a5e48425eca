"""ClickUp: the campaign task source (the real API) and the form-field parser."""

from negotiation_pipeline.integrations.clickup.client import (
    DEFAULT_CLICKUP_API_URL,
    CampaignTaskSource,
    ClickUpClient,
    ClickUpConnectionError,
    ClickUpError,
    ClickUpHTTPError,
    TaskListing,
    task_date_updated,
)
from negotiation_pipeline.integrations.clickup.fields import (
    CampaignValidationError,
    FieldMapping,
    load_task_json,
    parse_campaign_task,
)

__all__ = [
    "DEFAULT_CLICKUP_API_URL",
    "CampaignTaskSource",
    "CampaignValidationError",
    "ClickUpClient",
    "ClickUpConnectionError",
    "ClickUpError",
    "ClickUpHTTPError",
    "FieldMapping",
    "TaskListing",
    "load_task_json",
    "parse_campaign_task",
    "task_date_updated",
]
