"""The fixed asset tables (their columns, documented) and the rows of each asset value.

Each `AssetCodec` turns the value an asset produces into its table's rows and those rows back
into an equal value of the same type: the raw ClickUp task (dict), the validated `Campaign`, the
selected `InfluencerProfile`s, the `SnapshotRow`s of every negotiation, the `CampaignReport`.
Money stays Decimal both ways. The DDL of these tables is in asset_schema.py (and a migration
step) and must list the same columns (tests/store/test_asset_tables.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.report import CampaignReport, Deal, SnapshotRow
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import NegotiationState, Platform
from negotiation_pipeline.domain.negotiation.engine import AgreedPackage
from negotiation_pipeline.store.asset_tables import (
    POSITION,
    AssetColumn,
    AssetTable,
    AssetTableError,
)

Row = dict[str, Any]


def _column(name: str, kind: Any, description: str, *, required: bool = False) -> AssetColumn:
    return AssetColumn(name, kind, description, nullable=not required)


CAMPAIGN_TASK_TABLE = AssetTable(
    asset="campaign_task",
    name="asset_campaign_task",
    columns=(
        _column("task_name", "text", "the task's name", required=True),
        _column("status", "text", "the task's ClickUp status"),
        _column("date_updated", "integer", "ClickUp date_updated, ms since the epoch"),
        _column("task_json", "json", "the task exactly as the API returned it", required=True),
    ),
)
CAMPAIGN_TABLE = AssetTable(
    asset="campaign",
    name="asset_campaign",
    columns=(
        _column("client_name", "text", "the client", required=True),
        _column("platform", "text", "instagram / tiktok / youtube", required=True),
        _column("budget", "decimal", "campaign budget, USD", required=True),
        _column("min_cpm", "decimal", "target CPM floor, USD per 1,000 views", required=True),
        _column("max_cpm", "decimal", "target CPM ceiling, USD per 1,000 views", required=True),
        _column("min_cost", "decimal", "minimum cost per influencer, USD"),
        _column("max_cost_without_approval", "decimal", "most one deal may cost without approval"),
        _column("publish_date", "date", "content publish date"),
        _column("optimize_for", "text", "what the negotiation optimizes for", required=True),
        _column("listed_influencers", "integer", "names on the form's list", required=True),
        _column("campaign_json", "json", "the whole validated campaign", required=True),
    ),
)
INFLUENCERS_TABLE = AssetTable(
    asset="campaign_influencers",
    name="asset_campaign_influencers",
    columns=(
        POSITION,
        _column("name", "text", "influencer name from the roster", required=True),
        _column("email", "text", "where the offers go", required=True),
        _column("platform", "text", "instagram / tiktok / youtube", required=True),
        _column("handle", "text", "handle without the leading @", required=True),
        _column("average_views", "integer", "views per post", required=True),
        _column("engagement_rate", "decimal", "percent units (4.1 = 4.1%); empty when unknown"),
        _column(
            "manager_emails", "json", "others who may answer for the influencer", required=True
        ),
        _column(
            "view_overrides",
            "json",
            "expected views of one deliverable, by kind, where the roster gives them",
            required=True,
        ),
    ),
    order_by=("position",),
)
SNAPSHOTS_TABLE = AssetTable(
    asset="negotiation_snapshots",
    name="asset_negotiation_snapshots",
    columns=(
        POSITION,
        _column("thread_id", "text", "the negotiation's thread", required=True),
        _column("influencer", "text", "who we negotiate with", required=True),
        _column("state", "text", "negotiation state", required=True),
        _column("round", "integer", "rounds so far", required=True),
        _column("our_last_offer", "decimal", "our last offer, USD"),
        _column("their_ask", "decimal", "their last ask, in their_ask_currency"),
        _column("counterparty", "text", "influencer, agency or manager", required=True),
        _column("controlled_by", "text", "agent or human", required=True),
        _column("client_name", "text", "the campaign's client"),
        _column("next_step", "text", "what the thread waits for, and since or until when"),
        _column("escalation_reason", "text", "why a human must decide; empty otherwise"),
        _column("their_ask_currency", "text", "currency of their ask; empty means USD"),
        _column("deliverables", "json", "the deliverables now on the table (JSON list)"),
        _column("usage_rights", "text", "the usage rights now on the table"),
        _column("last_email_in", "text", "time and subject of their last email"),
        _column("last_email_out", "text", "time and subject of our last email"),
    ),
    order_by=("position",),
)
REPORT_TABLE = AssetTable(
    asset="campaign_report",
    name="asset_campaign_report",
    columns=(
        _column("client_name", "text", "the client", required=True),
        _column("negotiations", "integer", "negotiations opened", required=True),
        _column("agreed", "integer", "agreements reached", required=True),
        _column("close_rate", "decimal", "agreed / negotiations; empty with none"),
        _column("average_cpm_achieved", "decimal", "mean agreed CPM; empty with no agreement"),
        _column("target_cpm_min", "decimal", "target CPM floor", required=True),
        _column("target_cpm_max", "decimal", "target CPM ceiling", required=True),
        _column(
            "agreements_within_target",
            "integer",
            "agreements at or under the ceiling",
            required=True,
        ),
        _column("budget", "decimal", "campaign budget, USD", required=True),
        _column("budget_committed", "decimal", "sum of agreed rates, USD", required=True),
        _column("budget_remaining", "decimal", "negative when over budget", required=True),
        _column("by_state", "json", "negotiations per state", required=True),
        _column(
            "deals_json",
            "json",
            "every agreement: influencer, rate and CPM (exact text), the package bought",
            required=True,
        ),
    ),
)


@dataclass(frozen=True)
class AssetCodec:
    """How one asset's value becomes its table's rows, and back. A `many` value is a list with
    one row per item (in order, `position`); otherwise the value is one row."""

    table: AssetTable
    item_type: type
    many: bool
    item_to_row: Callable[[Any], Row]
    row_to_item: Callable[[str, Mapping[str, Any]], Any]

    def to_rows(self, value: Any) -> list[Row]:
        """The table rows of `value`; a value of the wrong type is refused by name."""
        if not self.many:
            self._check(value)
            return [self.item_to_row(value)]
        if not isinstance(value, list):
            raise AssetTableError(
                f"{self.table.name} stores a list of {self.item_type.__name__}, "
                f"got {type(value).__name__}"
            )
        rows = []
        for position, item in enumerate(value):
            self._check(item)
            rows.append({"position": position, **self.item_to_row(item)})
        return rows

    def from_rows(self, campaign_id: str, rows: Sequence[Mapping[str, Any]]) -> Any:
        """The value the rows of one partition hold (equal to the one written)."""
        if self.many:
            return [self.row_to_item(campaign_id, row) for row in rows]
        if len(rows) != 1:
            raise AssetTableError(
                f"{self.table.name} holds {len(rows)} rows for campaign {campaign_id!r}, not 1"
            )
        return self.row_to_item(campaign_id, rows[0])

    def _check(self, item: Any) -> None:
        if not isinstance(item, self.item_type):
            raise AssetTableError(
                f"{self.table.name} stores {self.item_type.__name__}, got {type(item).__name__}"
            )


# --- campaign_task -----------------------------------------------------------------------------
def _task_row(task: Mapping[str, Any]) -> Row:
    status = task.get("status")
    status_text = status.get("status") if isinstance(status, Mapping) else status
    updated = str(task.get("date_updated") or "")
    return {
        "task_name": str(task.get("name") or ""),
        "status": None if status_text is None else str(status_text),
        "date_updated": int(updated) if updated.isdigit() else None,
        "task_json": dict(task),
    }


def _task_from_row(campaign_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    task = row["task_json"]
    if not isinstance(task, dict):
        raise AssetTableError(f"asset_campaign_task of {campaign_id!r} is not a JSON object")
    return task


# --- campaign ----------------------------------------------------------------------------------
def _campaign_row(campaign: Campaign) -> Row:
    return {
        "client_name": campaign.client_name,
        "platform": campaign.platform.value,
        "budget": campaign.budget,
        "min_cpm": campaign.cpm_range.min_cpm,
        "max_cpm": campaign.cpm_range.max_cpm,
        "min_cost": campaign.budget_constraints.min_cost,
        "max_cost_without_approval": campaign.budget_constraints.max_cost_without_approval,
        "publish_date": campaign.publish_date,
        "optimize_for": campaign.goals.optimize_for.value,
        "listed_influencers": len(campaign.influencers),
        # JSON mode writes each Decimal as its exact text, which the model parses back.
        "campaign_json": campaign.model_dump(mode="json"),
    }


def _campaign_from_row(campaign_id: str, row: Mapping[str, Any]) -> Campaign:
    return Campaign.model_validate(row["campaign_json"])


# --- campaign_influencers ----------------------------------------------------------------------
def _influencer_row(person: InfluencerProfile) -> Row:
    return {
        "name": person.name,
        "email": person.email,
        "platform": person.platform.value,
        "handle": person.handle,
        "average_views": person.average_views,
        "engagement_rate": person.engagement_rate,
        "manager_emails": list(person.manager_emails),
        "view_overrides": [[kind, views] for kind, views in person.view_overrides],
    }


def _influencer_from_row(campaign_id: str, row: Mapping[str, Any]) -> InfluencerProfile:
    return InfluencerProfile(
        name=row["name"],
        email=row["email"],
        platform=Platform(row["platform"]),
        handle=row["handle"],
        average_views=row["average_views"],
        engagement_rate=row["engagement_rate"],
        manager_emails=tuple(str(address) for address in row["manager_emails"]),
        view_overrides=tuple((str(kind), int(views)) for kind, views in row["view_overrides"]),
    )


# --- negotiation_snapshots ---------------------------------------------------------------------
def _snapshot_row(row: SnapshotRow) -> Row:
    return {
        "thread_id": row.thread_id,
        "influencer": row.influencer,
        "state": row.state.value,
        "round": row.round,
        "our_last_offer": row.our_last_offer,
        "their_ask": row.their_ask,
        "counterparty": row.counterparty,
        "controlled_by": row.controlled_by,
        "client_name": row.client_name,
        "next_step": row.next_step,
        "escalation_reason": row.escalation_reason,
        "their_ask_currency": row.their_ask_currency,
        "deliverables": list(row.deliverables),
        "usage_rights": row.usage_rights,
        "last_email_in": row.last_email_in,
        "last_email_out": row.last_email_out,
    }


def _snapshot_from_row(campaign_id: str, row: Mapping[str, Any]) -> SnapshotRow:
    return SnapshotRow(
        thread_id=row["thread_id"],
        influencer=row["influencer"],
        state=NegotiationState(row["state"]),
        round=row["round"],
        our_last_offer=row["our_last_offer"],
        their_ask=row["their_ask"],
        counterparty=row["counterparty"],
        controlled_by=row["controlled_by"],
        client_name=row["client_name"] or "",
        next_step=row["next_step"] or "",
        escalation_reason=row["escalation_reason"] or "",
        their_ask_currency=row["their_ask_currency"],
        deliverables=tuple(row["deliverables"] or ()),
        usage_rights=row["usage_rights"] or "",
        last_email_in=row["last_email_in"] or "",
        last_email_out=row["last_email_out"] or "",
    )


# --- campaign_report ---------------------------------------------------------------------------
def _report_row(report: CampaignReport) -> Row:
    return {
        "client_name": report.client_name,
        "negotiations": report.negotiations,
        "agreed": report.agreed,
        "close_rate": report.close_rate,
        "average_cpm_achieved": report.average_cpm_achieved,
        "target_cpm_min": report.target_cpm_min,
        "target_cpm_max": report.target_cpm_max,
        "agreements_within_target": report.agreements_within_target,
        "budget": report.budget,
        "budget_committed": report.budget_committed,
        "budget_remaining": report.budget_remaining,
        "by_state": dict(report.by_state),
        "deals_json": [_deal_data(deal) for deal in report.deals],
    }


def _deal_data(deal: Deal) -> dict[str, Any]:
    # Amounts as their exact text: JSON numbers would be read back as floats.
    return {
        "influencer": deal.influencer,
        "rate": str(deal.rate),
        "cpm": str(deal.cpm),
        "package": None if deal.package is None else deal.package.to_dict(),
    }


def _deal_from_data(campaign_id: str, data: Any) -> Deal:
    try:
        package = data["package"]
        return Deal(
            rate=Decimal(data["rate"]),
            cpm=Decimal(data["cpm"]),
            package=None if package is None else AgreedPackage.from_dict(package),
            influencer=str(data["influencer"]),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise AssetTableError(
            f"asset_campaign_report of {campaign_id!r} holds an unreadable agreement: {exc!r}"
        ) from None


def _report_from_row(campaign_id: str, row: Mapping[str, Any]) -> CampaignReport:
    return CampaignReport(
        campaign_id=campaign_id,
        client_name=row["client_name"],
        negotiations=row["negotiations"],
        by_state=dict(sorted((str(k), int(v)) for k, v in row["by_state"].items())),
        agreed=row["agreed"],
        close_rate=row["close_rate"],
        average_cpm_achieved=row["average_cpm_achieved"],
        target_cpm_min=row["target_cpm_min"],
        target_cpm_max=row["target_cpm_max"],
        agreements_within_target=row["agreements_within_target"],
        budget=row["budget"],
        budget_committed=row["budget_committed"],
        budget_remaining=row["budget_remaining"],
        deals=tuple(_deal_from_data(campaign_id, data) for data in row["deals_json"]),
    )


CAMPAIGN_TASK_CODEC = AssetCodec(CAMPAIGN_TASK_TABLE, dict, False, _task_row, _task_from_row)
CAMPAIGN_CODEC = AssetCodec(CAMPAIGN_TABLE, Campaign, False, _campaign_row, _campaign_from_row)
INFLUENCERS_CODEC = AssetCodec(
    INFLUENCERS_TABLE, InfluencerProfile, True, _influencer_row, _influencer_from_row
)
SNAPSHOTS_CODEC = AssetCodec(SNAPSHOTS_TABLE, SnapshotRow, True, _snapshot_row, _snapshot_from_row)
REPORT_CODEC = AssetCodec(REPORT_TABLE, CampaignReport, False, _report_row, _report_from_row)
# By asset name: the assets whose values these tables hold.
ASSET_CODECS: Mapping[str, AssetCodec] = {
    codec.table.asset: codec
    for codec in (
        CAMPAIGN_TASK_CODEC,
        CAMPAIGN_CODEC,
        INFLUENCERS_CODEC,
        SNAPSHOTS_CODEC,
        REPORT_CODEC,
    )
}
FIXED_TABLES: tuple[AssetTable, ...] = tuple(codec.table for codec in ASSET_CODECS.values())
