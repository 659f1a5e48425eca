"""Sandbox resources: ClickUp tasks from a folder of JSON files, Slack into a JSONL log."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from negotiation_pipeline.defs.shared.resources import CampaignTaskSourceResource, SlackResource
from negotiation_pipeline.integrations.clickup.client import CampaignTaskSource
from negotiation_pipeline.integrations.slack import SlackNotifier
from negotiation_pipeline.sandbox.clickup_tasks import SandboxTaskSource
from negotiation_pipeline.sandbox.slack_log import LogSlack


class SandboxTaskSourceResource(CampaignTaskSourceResource):
    """A folder of ClickUp-shaped task JSON files (no ClickUp account needed); comments on
    tasks are appended to `<comments_folder>/clickup_comments.jsonl`."""

    folder: str = Field(description="folder of ClickUp task JSON files")
    comments_folder: str = Field(description="where comments on sandbox tasks are written")

    @contextmanager
    def open(self) -> Iterator[CampaignTaskSource]:
        yield SandboxTaskSource(Path(self.folder), Path(self.comments_folder))


class LogSlackResource(SlackResource):
    """Sandbox Slack: each message appended to a JSONL file and written to the Dagster log."""

    jsonl_path: str = Field(description="JSONL file of posted messages (next to the DB)")

    @property
    def is_sandbox(self) -> bool:
        return True

    @contextmanager
    def open(self) -> Iterator[SlackNotifier]:
        yield LogSlack(Path(self.jsonl_path), logger=dg.get_dagster_logger("slack"))
