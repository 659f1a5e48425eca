"""Asset tables on both engines: the schema creates each table with exactly the documented (or,
for `cpm_flexibility`, declared) columns, and every asset value comes back equal, Decimals with
their digits. Rows are read back with plain SQL to prove they are real tables."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel

from negotiation_pipeline.defs.campaigns.cpm_assets import cpm_flexibility, flexibility_frame
from negotiation_pipeline.defs.shared.asset_store import FrameCodec, codec_for
from negotiation_pipeline.domain.campaigns.campaign import BudgetConstraints, Campaign, CPMRange
from negotiation_pipeline.domain.campaigns.cpm import FLEXIBILITY_COLUMNS
from negotiation_pipeline.domain.campaigns.report import CampaignReport, Deal, SnapshotRow
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import NegotiationState, Platform, UsageRightsDuration
from negotiation_pipeline.domain.negotiation.engine import AgreedPackage
from negotiation_pipeline.store import SQLiteStore
from negotiation_pipeline.store.asset_rows import (
    CAMPAIGN_CODEC,
    CAMPAIGN_TASK_CODEC,
    FIXED_TABLES,
    INFLUENCERS_CODEC,
    REPORT_CODEC,
    SNAPSHOTS_CODEC,
    AssetCodec,
)
from negotiation_pipeline.store.asset_tables import (
    POSTGRES_TYPES,
    SQLITE_TYPES,
    AssetColumn,
    AssetTable,
    AssetTableError,
    location_uri,
)
from tests.store.asset_sql import PG_TYPE_NAMES, Store, columns_in_database, plain_sql


def expected_columns(store: Store, table: AssetTable) -> list[tuple[str, str, bool]]:
    if isinstance(store, SQLiteStore):
        return [(c.name, SQLITE_TYPES[c.kind], c.nullable) for c in table.all_columns]
    return [(c.name, PG_TYPE_NAMES[POSTGRES_TYPES[c.kind]], c.nullable) for c in table.all_columns]


@pytest.mark.parametrize("table", FIXED_TABLES, ids=lambda t: t.name)
def test_the_schema_creates_each_fixed_table_with_its_documented_columns(
    store: Store, table: AssetTable
) -> None:
    assert columns_in_database(store, table.name) == expected_columns(store, table)


def cpm_codec() -> FrameCodec:
    codec = codec_for(cpm_flexibility.key, cpm_flexibility.metadata_by_key[cpm_flexibility.key])
    assert isinstance(codec, FrameCodec)
    return codec


def test_the_cpm_table_has_exactly_the_columns_the_asset_declares(store: Store) -> None:
    """The asset's declared column schema (kind and nullability) is its table's: a column
    declared there without a migration step fails here."""
    table = cpm_codec().table
    assert [c.name for c in table.all_columns] == ["campaign_id", "position", *FLEXIBILITY_COLUMNS]
    assert columns_in_database(store, table.name) == expected_columns(store, table)


def test_the_partition_book_exists_from_the_start(store: Store) -> None:
    book = [name for name, _, _ in columns_in_database(store, "asset_partitions")]
    assert book == [
        "table_name", "campaign_id", "row_count", "columns_json", "run_id", "materialized_at",
    ]  # fmt: skip


def lumen_campaign(campaign_id: str = "camp-1") -> Campaign:
    return Campaign(
        campaign_id=campaign_id,
        client_name="Lumen Skincare",
        budget=Decimal("12500.5000"),
        platform=Platform.INSTAGRAM,
        cpm_range=CPMRange(min_cpm=Decimal("18"), max_cpm=Decimal("26.40")),
        publish_date=date(2026, 12, 14),
        influencers=("Maya Chen", "@theo"),
        budget_constraints=BudgetConstraints(min_cost=Decimal("300.00")),
        roster_url="https://docs.example.test/roster.csv",
    )


INFLUENCERS = [
    InfluencerProfile("Maya Chen", "maya@example.test", Platform.INSTAGRAM, "maya", 42_000, None),
    InfluencerProfile(
        "Theo",
        "team@agency.test",
        Platform.INSTAGRAM,
        "theo",
        9_000_000_000,
        Decimal("4.10"),
        manager_emails=("boss@agency.test", "assistant@agency.test"),
        view_overrides=(("reel", 51_000), ("story", 7_500)),
    ),
    InfluencerProfile("Twin", "team@agency.test", Platform.INSTAGRAM, "twin", 5, Decimal("0.001")),
]
SNAPSHOTS = [
    SnapshotRow(
        thread_id="t-1",
        influencer="Maya Chen",
        state=NegotiationState.AGREED,
        round=2,
        our_last_offer=Decimal("756.00"),
        their_ask=None,
        counterparty="influencer",
        controlled_by="agent",
    ),
    SnapshotRow(
        thread_id="t-2",
        influencer="Theo",
        state=NegotiationState.ESCALATED,
        round=3,
        our_last_offer=Decimal("1500.10"),
        their_ask=Decimal("2000"),
        counterparty="agency",
        controlled_by="human",
    ),
]
PACKAGE = AgreedPackage(
    scenario=2,
    deliverables=("1 Reel", "3 Stories"),
    usage_rights=UsageRightsDuration.DAYS_30,
    product=True,
    expected_views=73_500,
)
REPORT = CampaignReport(
    campaign_id="camp-1",
    client_name="Lumen Skincare",
    negotiations=2,
    by_state={"agreed": 1, "escalated": 1},
    agreed=2,
    close_rate=Decimal("0.500"),
    average_cpm_achieved=Decimal("17.35"),
    target_cpm_min=Decimal("18"),
    target_cpm_max=Decimal("26.40"),
    agreements_within_target=2,
    budget=Decimal("12500.5000"),
    budget_committed=Decimal("1512.00"),
    budget_remaining=Decimal("-11744.50"),
    deals=(
        Deal(Decimal("756.00"), Decimal("18.0000"), PACKAGE, "Maya Chen"),
        Deal(Decimal("756.00"), Decimal("16.70"), None, "Théo «agency»"),
    ),
)
TASK = {
    "id": "camp-1",
    "name": "Lumen",
    "date_updated": "1764600000000",
    "status": {"status": "open"},
    "custom_fields": [{"id": "f1", "value": 12.5, "label": "Ünïcode"}],
}

ROUND_TRIPS = [
    pytest.param(CAMPAIGN_TASK_CODEC, TASK, id="campaign_task"),
    pytest.param(CAMPAIGN_CODEC, lumen_campaign(), id="campaign"),
    pytest.param(INFLUENCERS_CODEC, INFLUENCERS, id="campaign_influencers"),
    pytest.param(INFLUENCERS_CODEC, [], id="no_influencers"),
    pytest.param(SNAPSHOTS_CODEC, SNAPSHOTS, id="negotiation_snapshots"),
    pytest.param(REPORT_CODEC, REPORT, id="campaign_report"),
]


def decimals_as_text(value: Any) -> Any:
    """Every Decimal as its exact text (Decimal('1.50') == Decimal('1.5'), the digits differ)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [decimals_as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: decimals_as_text(item) for key, item in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {name: decimals_as_text(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, BaseModel):
        return decimals_as_text(value.model_dump(mode="python"))
    return value


@pytest.mark.parametrize(("codec", "value"), ROUND_TRIPS)
def test_every_asset_value_comes_back_equal_with_its_decimal_digits(
    store: Store, codec: AssetCodec, value: Any
) -> None:
    written = store.asset_tables.replace_partition(
        codec.table, "camp-1", codec.to_rows(value), run_id="run-1"
    )

    loaded = codec.from_rows("camp-1", store.asset_tables.read_partition(codec.table, "camp-1"))
    assert loaded == value
    assert type(loaded) is type(value)
    assert decimals_as_text(loaded) == decimals_as_text(value)
    [(count,)] = plain_sql(
        store, f"SELECT COUNT(*) FROM {codec.table.name} WHERE campaign_id = %s", ("camp-1",)
    )
    assert count == written == (len(value) if isinstance(value, list) else 1)
    book = store.asset_tables.partition(codec.table, "camp-1")
    assert book is not None and book.row_count == written and book.run_id == "run-1"


def flexibility_records() -> list[dict[str, Any]]:
    """Two influencers of a campaign with scenarios 1 and 3 only: scenario 2 stays empty."""
    base = {
        "platform": "instagram",
        "floor_cpm": Decimal("18"),
        "max_allowed_cpm": Decimal("26.40"),
        "reason": "target ceiling; scenario 1: 1 Reel",
        "manager_emails": "",
        **{f"scenario_2_{c}": None for c in ("expected_views", "opening_rate", "ceiling_rate")},
    }
    return [
        {
            **base,
            "name": "Maya Chen",
            "email": "maya@example.test",
            "average_views": 42_000,
            "engagement_rate": None,
            "opening_rate": Decimal("1323.00"),
            "ceiling_rate": Decimal("1940.40"),
            "scenario_1_expected_views": 73_500,
            "scenario_1_opening_rate": Decimal("1323.00"),
            "scenario_1_ceiling_rate": Decimal("1940.40"),
            "scenario_3_expected_views": 31_500,
            "scenario_3_opening_rate": Decimal("567.00"),
            "scenario_3_ceiling_rate": Decimal("831.60"),
        },
        {
            **base,
            "name": "Theo",
            "email": "team@agency.test",
            "average_views": 9_000_000_000,
            "engagement_rate": Decimal("4.10"),
            "opening_rate": Decimal("162000000.00"),
            "ceiling_rate": Decimal("237600000.00"),
            "manager_emails": "boss@agency.test; assistant@agency.test",
            "scenario_1_expected_views": None,  # views unknown for this scenario
            "scenario_1_opening_rate": None,
            "scenario_1_ceiling_rate": None,
            "scenario_3_expected_views": 1,
            "scenario_3_opening_rate": Decimal("0.02"),
            "scenario_3_ceiling_rate": Decimal("0.03"),
        },
    ]


@pytest.mark.parametrize("records", [flexibility_records(), []], ids=["rows", "empty"])
def test_the_cpm_frame_comes_back_equal_dtypes_and_digits_included(
    store: Store, records: list[dict[str, Any]]
) -> None:
    codec = cpm_codec()
    frame = flexibility_frame(records)

    store.asset_tables.replace_partition(codec.table, "camp-1", codec.to_rows(frame))

    loaded = codec.from_rows("camp-1", store.asset_tables.read_partition(codec.table, "camp-1"))
    pd.testing.assert_frame_equal(loaded, frame)
    for column, kind in ((c.name, c.kind) for c in codec.data_columns):
        assert decimals_as_text(list(loaded[column])) == decimals_as_text(list(frame[column]))
        if kind == "decimal":
            assert all(v is None or isinstance(v, Decimal) for v in loaded[column]), column
    if records:
        rows = plain_sql(
            store,
            'SELECT scenario_2_opening_rate, scenario_3_opening_rate, opening_rate, "position" '
            'FROM asset_cpm_flexibility ORDER BY "position"',
        )
        as_text = [tuple(None if v is None else str(v) for v in row) for row in rows]
        assert as_text == [(None, "567.00", "1323.00", "0"), (None, "0.02", "162000000.00", "1")]


def test_money_is_exact_text_on_sqlite_and_numeric_on_postgres(store: Store) -> None:
    store.asset_tables.replace_partition(
        CAMPAIGN_CODEC.table, "camp-1", CAMPAIGN_CODEC.to_rows(lumen_campaign())
    )
    store.asset_tables.replace_partition(
        INFLUENCERS_CODEC.table, "camp-1", INFLUENCERS_CODEC.to_rows(INFLUENCERS)
    )
    views = 'SELECT average_views FROM asset_campaign_influencers ORDER BY "position"'
    if isinstance(store, SQLiteStore):
        rows = plain_sql(
            store, "SELECT budget, typeof(budget), typeof(min_cpm) FROM asset_campaign"
        )
        assert rows == [("12500.5000", "text", "text")]
        typed = plain_sql(store, views.replace("average_views", "typeof(average_views)"))
        assert typed[1] == ("integer",)
    else:
        rows = plain_sql(store, "SELECT budget, pg_typeof(budget)::text FROM asset_campaign")
        assert rows == [(Decimal("12500.5000"), "numeric")]
        assert str(rows[0][0]) == "12500.5000"
    assert plain_sql(store, views)[1] == (9_000_000_000,)


def test_a_value_of_the_wrong_type_is_refused_by_name() -> None:
    with pytest.raises(AssetTableError, match=r"asset_campaign stores Campaign, got dict"):
        CAMPAIGN_CODEC.to_rows({"campaign_id": "x"})
    with pytest.raises(AssetTableError, match=r"list of InfluencerProfile, got tuple"):
        INFLUENCERS_CODEC.to_rows(tuple(INFLUENCERS))


def test_names_that_are_not_plain_identifiers_are_refused() -> None:
    with pytest.raises(AssetTableError, match="not a plain lower-case SQL identifier"):
        AssetColumn('x"; DROP TABLE audit_log; --', "text", "")
    with pytest.raises(AssetTableError, match="not a plain lower-case SQL identifier"):
        AssetTable(asset="x", name="asset_x; DROP TABLE audit_log", columns=())


def test_the_uri_names_the_store_without_its_password(tmp_path: Path) -> None:
    assert location_uri(tmp_path / "a b.db") == "sqlite://" + str(tmp_path / "a%20b.db")
    uri = location_uri("postgresql://agent:s3cret-pw@db.internal:5432/negotiation?sslmode=require")
    assert "s3cret-pw" not in uri
    assert uri.startswith("postgresql://") and "db.internal:5432/negotiation" in uri


def documented_tables() -> dict[str, list[str]]:
    """README's "Asset tables" table: each table name and the columns listed after campaign_id
    (explanations in parentheses left out)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Asset tables", 1)[1].split("\n## ", 1)[0]
    tables = {}
    for line in section.splitlines():
        if line.startswith("| `asset_"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            columns = re.sub(r"\s*\([^)]*\)", "", cells[-1])
            tables[cells[0].strip("`")] = re.findall(r"`([a-z0-9_]+)`", columns)
    return tables


def test_the_readme_documents_every_asset_table_and_its_columns(sqlite_store: Store) -> None:
    documented = documented_tables()
    tables = [*FIXED_TABLES, cpm_codec().table]
    assert set(documented) == {t.name for t in tables} | {"asset_partitions"}
    for table in tables:
        assert documented[table.name] == list(table.column_names), table.name
    book = [name for name, _, _ in columns_in_database(sqlite_store, "asset_partitions")]
    assert [name for name in book if name != "campaign_id"] == documented["asset_partitions"]
