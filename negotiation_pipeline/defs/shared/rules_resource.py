"""The editable business rules as a Dagster resource: ops and assets receive the parsed engine
config, negotiation policy and ClickUp field mapping from here and never read config files
themselves, so a definitions built against another rules folder runs on those rules."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from negotiation_pipeline.domain.negotiation.engine import EngineConfig
from negotiation_pipeline.domain.negotiation.policy import NegotiationPolicy
from negotiation_pipeline.integrations.clickup.field_mapping import FieldMapping
from negotiation_pipeline.settings.engine import load_engine_config, load_policy
from negotiation_pipeline.settings.files import config_dir


class BusinessRulesResource(dg.ConfigurableResource):
    """Where the rules come from: `config_dir` when set, else NEGOTIATION_CONFIG_DIR, else the
    rules shipped with the package. Each call parses them (files are cached per path by the
    loaders), so a broken file fails the op that needs it with a message naming the file."""

    config_dir: str = Field(
        default="",
        description="folder holding an edited copy of config/ (NEGOTIATION_CONFIG_DIR); "
        "empty = the packaged rules",
    )

    @property
    def directory(self) -> Path:
        configured = self.config_dir.strip()
        return Path(configured).expanduser() if configured else config_dir()

    def engine_config(self) -> EngineConfig:
        """Policy, escalation triggers, email templates and reply vocabulary."""
        return load_engine_config(self.directory)

    def policy(self) -> NegotiationPolicy:
        return load_policy(self.directory)

    def field_mapping(self) -> FieldMapping:
        """How the ClickUp campaign form maps onto a campaign."""
        return FieldMapping.load(self.directory)
