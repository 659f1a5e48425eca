"""Writing asset partitions on both engines: a partition is replaced whole in one transaction,
no other partition is touched, a bad value or a column the table lacks is refused before
anything changes, and a store from before the asset tables gains them through its migration."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from negotiation_pipeline.store import SCHEMA_VERSION, SQLiteStore
from negotiation_pipeline.store.asset_rows import INFLUENCERS_CODEC, REPORT_CODEC, SNAPSHOTS_CODEC
from negotiation_pipeline.store.asset_tables import (
    AssetColumn,
    AssetPartitionMissingError,
    AssetTableError,
    frame_table,
)
from negotiation_pipeline.store.migrations import STEPS
from tests.store.asset_sql import Store, columns_in_database, execute, plain_sql
from tests.store.conftest import StoreLocation
from tests.store.test_asset_tables import INFLUENCERS, REPORT, SNAPSHOTS

INFLUENCER_ROWS = (
    "SELECT * FROM asset_campaign_influencers WHERE campaign_id <> %s "
    'ORDER BY campaign_id, "position"'
)
BOOK_ROWS = "SELECT * FROM asset_partitions WHERE campaign_id <> %s ORDER BY campaign_id"


def test_replacing_a_partition_leaves_every_other_partition_byte_for_byte(store: Store) -> None:
    table = INFLUENCERS_CODEC.table
    for campaign_id in ("camp-a", "camp-b", "camp-c"):
        store.asset_tables.replace_partition(
            table, campaign_id, INFLUENCERS_CODEC.to_rows(INFLUENCERS), run_id=f"run-{campaign_id}"
        )
    before = plain_sql(store, INFLUENCER_ROWS, ("camp-b",))
    book_before = plain_sql(store, BOOK_ROWS, ("camp-b",))

    store.asset_tables.replace_partition(
        table, "camp-b", INFLUENCERS_CODEC.to_rows(INFLUENCERS[:1]), run_id="run-2"
    )

    assert plain_sql(store, INFLUENCER_ROWS, ("camp-b",)) == before
    assert plain_sql(store, BOOK_ROWS, ("camp-b",)) == book_before
    assert (
        INFLUENCERS_CODEC.from_rows("camp-b", store.asset_tables.read_partition(table, "camp-b"))
        == INFLUENCERS[:1]
    )
    book = store.asset_tables.partition(table, "camp-b")
    assert book is not None and (book.row_count, book.run_id) == (1, "run-2")


def test_a_float_amount_is_refused_by_name_and_the_old_partition_stays(store: Store) -> None:
    table = INFLUENCERS_CODEC.table
    store.asset_tables.replace_partition(table, "camp-1", INFLUENCERS_CODEC.to_rows(INFLUENCERS))
    rows = INFLUENCERS_CODEC.to_rows(INFLUENCERS)
    rows[2]["engagement_rate"] = 4.1  # float: would be rounded through binary

    with pytest.raises(AssetTableError, match=r"row 2, column engagement_rate: must be a Decimal"):
        store.asset_tables.replace_partition(table, "camp-1", rows)

    loaded = INFLUENCERS_CODEC.from_rows(
        "camp-1", store.asset_tables.read_partition(table, "camp-1")
    )
    assert loaded == INFLUENCERS


def test_a_failing_insert_rolls_back_the_delete_too(store: Store) -> None:
    """The DELETE and the INSERTs are one transaction: a constraint failing in the INSERT (two
    snapshots of one thread) leaves the partition as it was."""
    table = SNAPSHOTS_CODEC.table
    store.asset_tables.replace_partition(table, "camp-1", SNAPSHOTS_CODEC.to_rows(SNAPSHOTS))
    duplicate_thread = [SNAPSHOTS[0], SNAPSHOTS[0]]

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.asset_tables.replace_partition(
            table, "camp-1", SNAPSHOTS_CODEC.to_rows(duplicate_thread)
        )

    loaded = SNAPSHOTS_CODEC.from_rows("camp-1", store.asset_tables.read_partition(table, "camp-1"))
    assert loaded == SNAPSHOTS
    book = store.asset_tables.partition(table, "camp-1")
    assert book is not None and book.row_count == len(SNAPSHOTS)


def test_a_partition_never_written_differs_from_an_empty_one(store: Store) -> None:
    table = INFLUENCERS_CODEC.table
    with pytest.raises(AssetPartitionMissingError, match=r"materialize campaign_influencers"):
        store.asset_tables.read_partition(table, "camp-never")
    store.asset_tables.replace_partition(table, "camp-empty", [])
    assert store.asset_tables.read_partition(table, "camp-empty") == []


def test_a_column_the_table_lacks_is_refused_by_name_and_nothing_changes(store: Store) -> None:
    """Columns come only from migration steps: a write never alters a table."""
    table = INFLUENCERS_CODEC.table
    store.asset_tables.replace_partition(table, "camp-1", INFLUENCERS_CODEC.to_rows(INFLUENCERS))
    before = plain_sql(store, INFLUENCER_ROWS, ("none",))
    wider = replace(table, columns=(*table.columns, AssetColumn("bonus", "decimal", "a bonus")))
    rows = [{**row, "bonus": Decimal("1.00")} for row in INFLUENCERS_CODEC.to_rows(INFLUENCERS)]

    with pytest.raises(
        AssetTableError, match=r"asset_campaign_influencers has no column\(s\) bonus"
    ):
        store.asset_tables.replace_partition(wider, "camp-1", rows)

    assert plain_sql(store, INFLUENCER_ROWS, ("none",)) == before
    assert "bonus" not in [name for name, _, _ in columns_in_database(store, table.name)]
    unknown = frame_table("toy_table", [AssetColumn("rate", "decimal", "a rate")])
    with pytest.raises(AssetTableError, match=r"no table asset_toy_table, so asset toy_table"):
        store.asset_tables.replace_partition(unknown, "camp-1", [])
    assert columns_in_database(store, "asset_toy_table") == []


def test_a_partition_written_without_a_column_is_not_read_as_if_it_had_it(store: Store) -> None:
    """A partition written before a migration added a column (its book lists the columns it was
    written with) is refused, naming the asset to materialize again."""
    table = REPORT_CODEC.table
    store.asset_tables.replace_partition(table, "camp-1", REPORT_CODEC.to_rows(REPORT))
    older = [name for name in table.column_names if name != "deals_json"]
    cast = "%s" if isinstance(store, SQLiteStore) else "CAST(%s AS jsonb)"
    execute(store, [(f"UPDATE asset_partitions SET columns_json = {cast}", (json.dumps(older),))])

    with pytest.raises(AssetTableError, match=r"without column\(s\) deals_json: materialize"):
        store.asset_tables.read_partition(table, "camp-1")


def test_rows_changed_outside_the_pipeline_are_refused(store: Store) -> None:
    table = SNAPSHOTS_CODEC.table
    store.asset_tables.replace_partition(table, "camp-1", SNAPSHOTS_CODEC.to_rows(SNAPSHOTS))
    execute(
        store,
        [('DELETE FROM asset_negotiation_snapshots WHERE "position" = %s', (1,))],
    )
    with pytest.raises(AssetTableError, match=r"holds 1 row\(s\) but 2 were written"):
        store.asset_tables.read_partition(table, "camp-1")


ASSET_TABLE_NAMES = [
    "asset_partitions",
    "asset_campaign_task",
    "asset_campaign",
    "asset_campaign_influencers",
    "asset_cpm_flexibility",
    "asset_negotiation_snapshots",
    "asset_campaign_report",
]


def test_a_store_from_before_the_asset_tables_gains_them_on_open(
    store_location: StoreLocation, store: Store
) -> None:
    """A store at the version before step 8 (no asset tables, nor what later steps added) gets
    every one of them, and only through the steps, when this code opens it; its other rows are
    kept."""
    (step,) = [s for s in STEPS if s.version == 8]
    assert SCHEMA_VERSION >= 8
    store.mail_cursors.set("INBOX", 7, 42)
    store.close()
    execute(
        store,
        [
            *((f"DROP TABLE {name}", ()) for name in ASSET_TABLE_NAMES),
            # What steps after 8 added outside the asset tables.
            ("DROP TABLE view_refresh", ()),
            ("DROP TABLE mail_uids", ()),
            ("ALTER TABLE outbox DROP COLUMN claimed_by", ()),
            ("ALTER TABLE outbox DROP COLUMN claimed_until", ()),
            ("DELETE FROM schema_version", ()),
            (
                "INSERT INTO schema_version (version, applied_at) "
                "VALUES (%s, '2026-01-01T00:00:00.000000Z')",
                (step.version - 1,),
            ),
        ],
    )
    assert all(columns_in_database(store, name) == [] for name in ASSET_TABLE_NAMES)

    reopened = store_location.open()
    try:
        assert reopened.schema_version == SCHEMA_VERSION
        for name in ASSET_TABLE_NAMES:
            assert columns_in_database(reopened, name), name
        cursor = reopened.mail_cursors.get("INBOX")
        assert cursor is not None and cursor.last_uid == 42
        reopened.asset_tables.replace_partition(
            REPORT_CODEC.table, "camp-1", REPORT_CODEC.to_rows(REPORT)
        )
        assert (
            REPORT_CODEC.from_rows(
                "camp-1", reopened.asset_tables.read_partition(REPORT_CODEC.table, "camp-1")
            )
            == REPORT
        )
    finally:
        reopened.close()
    versions = [v for (v,) in plain_sql(reopened, "SELECT version FROM schema_version")]
    assert sorted(versions) == list(range(step.version - 1, SCHEMA_VERSION + 1))
