"""The asset-table repository: replace and read one campaign's partition of an asset table.

A write is one store write transaction (BEGIN IMMEDIATE on SQLite, the store's advisory lock on
PostgreSQL): DELETE of the partition's rows, INSERT of the new ones (the dialect's bulk path),
and the `asset_partitions` bookkeeping row. The tables and value rules are in asset_tables.py;
the tables themselves come with the store's schema, so a write checks that its table has every
column first and names the missing ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from negotiation_pipeline.store import codec
from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.asset_tables import (
    PARTITION_COLUMN,
    PARTITIONS_TABLE,
    AssetPartition,
    AssetPartitionMissingError,
    AssetTable,
    AssetTableError,
    decode_value,
    encode_rows,
)
from negotiation_pipeline.store.dialect import Connection, PostgresDialect, quoted
from negotiation_pipeline.store.sql_repository import SqlRepository


class SqlAssetTables(SqlRepository):
    """Replace and read asset partitions (see the module docstring), on either engine."""

    def replace_partition(
        self,
        table: AssetTable,
        campaign_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        run_id: str | None = None,
    ) -> int:
        """Make `rows` the whole partition `campaign_id` of `table`; returns how many."""
        d = self._dialect
        encoded = encode_rows(table, campaign_id, rows, d)
        names = [column.name for column in table.all_columns]
        with self._scope(True) as conn:
            self._require_columns(conn, table)
            conn.execute(
                f"DELETE FROM {table.name} WHERE {PARTITION_COLUMN} = {d.mark}",  # noqa: S608
                (campaign_id,),
            )
            d.bulk_insert(conn, table.name, names, encoded)
            self._record_partition(conn, table, campaign_id, len(encoded), run_id)
        return len(encoded)

    def read_partition(self, table: AssetTable, campaign_id: str) -> list[dict[str, Any]]:
        """Every row of the partition in its order, as {column: value} (Decimal for decimal
        columns). Raises AssetPartitionMissingError when it was never written."""
        d = self._dialect
        order = ", ".join([*(f'"{name}"' for name in table.order_by), PARTITION_COLUMN])
        with self._scope(False) as conn:
            written = self._partition(conn, table, campaign_id)
            if written is None:
                raise AssetPartitionMissingError(
                    f"table {table.name} holds no partition for campaign {campaign_id!r}: "
                    f"materialize {table.asset} for it first"
                )
            absent = [name for name in table.column_names if name not in written.columns]
            if absent:
                raise AssetTableError(
                    f"partition {campaign_id!r} of {table.name} was written without column(s) "
                    f"{', '.join(absent)}: materialize {table.asset} for it again"
                )
            found = conn.execute(
                f"SELECT {quoted(table.column_names)} FROM {table.name} "  # noqa: S608
                f"WHERE {PARTITION_COLUMN} = {d.mark} ORDER BY {order}",
                (campaign_id,),
            ).fetchall()
        if len(found) != written.row_count:
            raise AssetTableError(
                f"partition {campaign_id!r} of {table.name} holds {len(found)} row(s) but "
                f"{written.row_count} were written: it was changed outside the pipeline"
            )
        return [
            {column.name: decode_value(column, row[column.name]) for column in table.columns}
            for row in found
        ]

    def partition(self, table: AssetTable, campaign_id: str) -> AssetPartition | None:
        with self._scope(False) as conn:
            return self._partition(conn, table, campaign_id)

    def qualified_name(self, table: AssetTable) -> str:
        """`schema.table` on PostgreSQL (the schema the store uses), the bare name on SQLite."""
        if not isinstance(self._dialect, PostgresDialect):
            return table.name
        with self._scope(False) as conn:
            row = conn.execute("SELECT current_schema() AS name").fetchone()
        return table.name if row is None or row["name"] is None else f"{row['name']}.{table.name}"

    # -- internals -----------------------------------------------------------------------------
    def _partition(self, conn: Connection, table: AssetTable, campaign_id: str) -> Any:
        d = self._dialect
        row = conn.execute(
            f"SELECT row_count, columns_json, run_id, materialized_at FROM {PARTITIONS_TABLE} "  # noqa: S608
            f"WHERE table_name = {d.mark} AND {PARTITION_COLUMN} = {d.mark}",
            (table.name, campaign_id),
        ).fetchone()
        if row is None:
            return None
        return AssetPartition(
            table_name=table.name,
            campaign_id=campaign_id,
            row_count=int(row["row_count"]),
            columns=tuple(codec.loads_plain(row["columns_json"])),
            run_id=row["run_id"],
            materialized_at=row_codec.as_datetime(row["materialized_at"]),
        )

    def _record_partition(
        self,
        conn: Connection,
        table: AssetTable,
        campaign_id: str,
        row_count: int,
        run_id: str | None,
    ) -> None:
        d = self._dialect
        conn.execute(
            f"""INSERT INTO {PARTITIONS_TABLE}
                   (table_name, {PARTITION_COLUMN}, row_count, columns_json, run_id,
                    materialized_at)
               VALUES ({d.marks(3)}, {d.mark}{d.json_cast}, {d.marks(2)})
               ON CONFLICT (table_name, {PARTITION_COLUMN}) DO UPDATE SET
                   row_count = excluded.row_count, columns_json = excluded.columns_json,
                   run_id = excluded.run_id, materialized_at = excluded.materialized_at""",  # noqa: S608
            (
                table.name,
                campaign_id,
                row_count,
                codec.dumps_plain(list(table.column_names)),
                run_id,
                d.now(),
            ),
        )

    def _require_columns(self, conn: Connection, table: AssetTable) -> None:
        """The table exists with every column `table` writes, else a clear error: columns are
        only ever added by a migration step, never by a write."""
        present = self._existing_columns(conn, table.name)
        if not present:
            raise AssetTableError(
                f"the business store has no table {table.name}, so asset {table.asset} cannot be "
                "stored: add the table to the store's schema and a migration step"
            )
        absent = [c.name for c in table.all_columns if c.name not in present]
        if absent:
            raise AssetTableError(
                f"table {table.name} has no column(s) {', '.join(absent)} that asset "
                f"{table.asset} declares: add them to the store's schema and a migration step"
            )

    def _existing_columns(self, conn: Connection, table_name: str) -> set[str]:
        if isinstance(self._dialect, PostgresDialect):
            found = conn.execute(
                "SELECT column_name AS name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                (table_name,),
            ).fetchall()
        else:
            found = conn.execute(f'PRAGMA table_info("{table_name}")').fetchall()
        return {row["name"] for row in found}
