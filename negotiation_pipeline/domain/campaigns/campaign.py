"""The validated campaign: what a ClickUp form task becomes once every field checks out.

Frozen Pydantic models. Money fields accept str/int/Decimal and reject floats (see money.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from negotiation_pipeline.domain.enums import (
    ApprovalMode,
    DeliverableType,
    OptimizeFor,
    Platform,
    UsageRightsDuration,
)
from negotiation_pipeline.domain.money import parse_decimal


def _money(value: Any) -> Decimal:
    return parse_decimal(value)


def _optional_money(value: Any) -> Decimal | None:
    return None if value is None else parse_decimal(value)


Money = Annotated[Decimal, BeforeValidator(_money)]
OptionalMoney = Annotated[Decimal | None, BeforeValidator(_optional_money)]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class CPMRange(BaseModel):
    """USD per 1,000 views the campaign aims for: floor (min) and ceiling (max)."""

    model_config = _FROZEN

    min_cpm: Money = Field(gt=0)
    max_cpm: Money = Field(gt=0)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> CPMRange:
        if self.min_cpm > self.max_cpm:
            raise ValueError(f"CPM min {self.min_cpm} is above CPM max {self.max_cpm}")
        return self

    @classmethod
    def from_target(cls, target: Decimal, leniency_pct: Decimal) -> CPMRange:
        """min = target, max = target × (1 + leniency/100)."""
        return cls(min_cpm=target, max_cpm=target * (1 + leniency_pct / 100))


class CampaignGoals(BaseModel):
    model_config = _FROZEN

    optimize_for: OptimizeFor = OptimizeFor.BALANCE


class DeliverableScenarios(BaseModel):
    """Fallback deliverable packages; scenario 1 is the richest and is what we open with."""

    model_config = _FROZEN

    scenario_1: str | None = None
    scenario_2: str | None = None
    scenario_3: str | None = None

    def package(self, number: int) -> str | None:
        return {1: self.scenario_1, 2: self.scenario_2, 3: self.scenario_3}.get(number)


class UsageRights(BaseModel):
    model_config = _FROZEN

    target: UsageRightsDuration = UsageRightsDuration.NOT_REQUIRED
    minimum: UsageRightsDuration = UsageRightsDuration.NOT_REQUIRED

    @model_validator(mode="after")
    def _minimum_not_above_target(self) -> UsageRights:
        if self.minimum.rank > self.target.rank:
            raise ValueError(
                f"usage rights minimum '{self.minimum}' is longer than target '{self.target}'"
            )
        return self


class BudgetConstraints(BaseModel):
    model_config = _FROZEN

    min_cost: OptionalMoney = Field(default=None, ge=0)
    max_cost_without_approval: OptionalMoney = Field(default=None, gt=0)


class ProductLever(BaseModel):
    model_config = _FROZEN

    available: bool = False
    description: str | None = None
    value: OptionalMoney = Field(default=None, ge=0)


class Requirements(BaseModel):
    model_config = _FROZEN

    exclusivity_required: bool = False
    content_approval_required: bool = False
    revision_rounds: int = Field(default=0, ge=0)


class Campaign(BaseModel):
    """One client campaign, keyed by its ClickUp task id."""

    model_config = _FROZEN

    campaign_id: str = Field(min_length=1, description="ClickUp task id (the partition key)")
    client_name: str = Field(min_length=1)
    budget: Money = Field(gt=0)
    platform: Platform
    target_deliverables: tuple[DeliverableType, ...] = ()
    influencers: tuple[str, ...] = Field(
        default=(), description="names, handles or emails; empty = every roster row"
    )
    cpm_range: CPMRange
    timeline: str | None = None
    publish_date: date | None = None
    goals: CampaignGoals = CampaignGoals()
    scenarios: DeliverableScenarios = DeliverableScenarios()
    usage_rights: UsageRights = UsageRights()
    budget_constraints: BudgetConstraints = BudgetConstraints()
    product: ProductLever = ProductLever()
    requirements: Requirements = Requirements()
    roster_url: str | None = None
    # None: the negotiation policy's default mode applies.
    approval_mode: ApprovalMode | None = None

    def opening_package(self) -> str:
        """Deliverables we open with: scenario 1, else the target deliverables."""
        if self.scenarios.scenario_1:
            return self.scenarios.scenario_1
        return ", ".join(d.label for d in self.target_deliverables) or "one sponsored post"
