"""Tables that hold the values of the pipeline's Dagster assets, one table per asset.

Every table has one row per item (a campaign, an influencer, a negotiation...) and the
`campaign_id` partition column first. A partition is replaced as a whole: DELETE of its rows,
INSERT of the new ones and the bookkeeping row in `asset_partitions`, all in one write
transaction of the store, so a reader sees the old partition or the new one, never a mix, and a
failed write leaves the old one as it was (asset_repository.py). Other partitions' rows are
never touched.

Column kinds and how each engine stores them (the same meaning on both):
- `decimal`: exact amounts, TEXT holding the Decimal's digits on SQLite, NUMERIC on PostgreSQL;
  a float is refused, so money is never rounded through binary floating point;
- `integer`: INTEGER (BIGINT on PostgreSQL); `boolean`: 0/1 INTEGER (BOOLEAN);
- `timestamp`: the store's fixed-width UTC text (TIMESTAMPTZ); `date`: ISO text (DATE);
- `json`: JSON text (JSONB); `text`: TEXT.

`asset_partitions` records, per table and campaign, how many rows were written, which columns
they have and which run wrote them, so a partition that was never written is told apart from
an empty one, and a partition written before a column existed is not read as if it had it.

Every table is created by the store's schema (asset_schema.py; older stores get it through
migrations.py), never on write: a column an asset declares that its table lacks is refused by
name until a migration step adds it. The rows of the fixed tables are built by asset_rows.py;
a DataFrame asset's table follows the asset's declared column schema (defs/asset_store.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote

from negotiation_pipeline.domain.redaction import redact_url
from negotiation_pipeline.store import codec
from negotiation_pipeline.store import rows as row_codec
from negotiation_pipeline.store.base import StoreError
from negotiation_pipeline.store.dialect import (
    Dialect,
    PostgresDialect,
)
from negotiation_pipeline.store.paths import is_postgres_url

ColumnKind = Literal["text", "integer", "decimal", "boolean", "timestamp", "date", "json"]

SQLITE_TYPES: Mapping[ColumnKind, str] = {
    "text": "TEXT",
    "integer": "INTEGER",
    "decimal": "TEXT",
    "boolean": "INTEGER",
    "timestamp": "TEXT",
    "date": "TEXT",
    "json": "TEXT",
}
POSTGRES_TYPES: Mapping[ColumnKind, str] = {
    "text": "TEXT",
    "integer": "BIGINT",
    "decimal": "NUMERIC",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "json": "JSONB",
}
PARTITIONS_TABLE = "asset_partitions"
PARTITION_COLUMN = "campaign_id"
POSITION_COLUMN = "position"
# Column names are composed into SQL (quoted), so only plain identifiers.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class AssetTableError(StoreError):
    """An asset value cannot be stored or read back as it is (names table, column and why)."""


class AssetPartitionMissingError(AssetTableError):
    """The asset's table holds nothing for this campaign: it was never materialized there."""


@dataclass(frozen=True)
class AssetColumn:
    name: str
    kind: ColumnKind
    description: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if not _IDENTIFIER.fullmatch(self.name):
            raise AssetTableError(
                f"column name {self.name!r} is not a plain lower-case SQL identifier "
                "(letters, digits, underscores)"
            )
        if self.kind not in SQLITE_TYPES:
            raise AssetTableError(f"column {self.name!r}: unknown kind {self.kind!r}")


CAMPAIGN_ID = AssetColumn(
    PARTITION_COLUMN, "text", "campaign partition: the ClickUp task id", nullable=False
)
POSITION = AssetColumn(
    POSITION_COLUMN, "integer", "0-based order of the row in the asset value", nullable=False
)


@dataclass(frozen=True)
class AssetTable:
    """One asset's table: `columns` are every column after `campaign_id`, in table order."""

    asset: str
    name: str
    columns: tuple[AssetColumn, ...]
    order_by: tuple[str, ...] = ()  # reading order within a partition (none: one row)
    _by_name: dict[str, AssetColumn] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _IDENTIFIER.fullmatch(self.name):
            raise AssetTableError(
                f"table name {self.name!r} (asset {self.asset}) is not a plain lower-case SQL "
                "identifier (letters, digits, underscores)"
            )
        names = [column.name for column in self.columns]
        if PARTITION_COLUMN in names or len(set(names)) != len(names):
            raise AssetTableError(
                f"table {self.name}: column names must be unique and not {PARTITION_COLUMN!r}"
            )
        object.__setattr__(self, "_by_name", {column.name: column for column in self.columns})

    @property
    def all_columns(self) -> tuple[AssetColumn, ...]:
        return (CAMPAIGN_ID, *self.columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def frame_table(asset: str, columns: Sequence[AssetColumn]) -> AssetTable:
    """The table of a DataFrame asset: `position` keeps the row order, then its own columns."""
    if any(column.name == POSITION_COLUMN for column in columns):
        raise AssetTableError(f"asset {asset}: {POSITION_COLUMN!r} is reserved for the row order")
    return AssetTable(
        asset=asset,
        name=f"asset_{asset}",
        columns=(POSITION, *columns),
        order_by=(POSITION_COLUMN,),
    )


@dataclass(frozen=True)
class AssetPartition:
    """The bookkeeping row of one written partition."""

    table_name: str
    campaign_id: str
    row_count: int
    columns: tuple[str, ...]
    run_id: str | None
    materialized_at: datetime


class AssetTableRepository(Protocol):
    """One campaign's partition of an asset table, replaced and read (asset_repository.py)."""

    def replace_partition(
        self,
        table: AssetTable,
        campaign_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        run_id: str | None = None,
    ) -> int: ...

    def read_partition(self, table: AssetTable, campaign_id: str) -> list[dict[str, Any]]: ...

    def partition(self, table: AssetTable, campaign_id: str) -> AssetPartition | None: ...

    def qualified_name(self, table: AssetTable) -> str: ...


# --- values ------------------------------------------------------------------------------------
def _encode(column: AssetColumn, value: Any, d: Dialect) -> Any:
    if value is None:
        if not column.nullable:
            raise ValueError("missing, and this column is required")
        return None
    kind = column.kind
    if kind == "decimal":
        if not isinstance(value, Decimal):
            raise ValueError(f"must be a Decimal, got {type(value).__name__} ({value!r})")
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite amount")
        return d.money(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an int, got {type(value).__name__} ({value!r})")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"must be a bool, got {type(value).__name__} ({value!r})")
        return value if isinstance(d, PostgresDialect) else int(value)
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"must be text, got {type(value).__name__} ({value!r})")
        return value
    if kind == "timestamp":
        if not isinstance(value, datetime):
            raise ValueError(f"must be a datetime, got {type(value).__name__}")
        return d.timestamp(value)
    if kind == "date":
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"must be a date, got {type(value).__name__}")
        return value if isinstance(d, PostgresDialect) else value.isoformat()
    return codec.dumps_plain(value)  # json


def decode_value(column: AssetColumn, value: Any) -> Any:
    """A stored value of `column` as Python (Decimal for decimal columns on both engines)."""
    if value is None:
        return None
    kind = column.kind
    if kind == "decimal":
        return row_codec.as_decimal(value)
    if kind == "integer":
        return int(value)
    if kind == "boolean":
        return bool(value)
    if kind == "timestamp":
        return row_codec.as_datetime(value)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(value)
    if kind == "json":
        return codec.loads_plain(value)
    return value


def encode_rows(
    table: AssetTable, campaign_id: str, rows: Sequence[Mapping[str, Any]], d: Dialect
) -> list[tuple[Any, ...]]:
    """Parameters for every row, checked before anything is written; a bad value raises
    AssetTableError naming the table, the row and the column."""
    if not isinstance(campaign_id, str) or not campaign_id.strip():
        raise AssetTableError(f"table {table.name}: a partition needs a campaign id")
    expected = set(table.column_names)
    encoded: list[tuple[Any, ...]] = []
    for index, row in enumerate(rows):
        unknown = set(row) - expected
        if unknown:
            raise AssetTableError(
                f"table {table.name}, row {index}: no column(s) {', '.join(sorted(unknown))}"
            )
        values: list[Any] = [campaign_id]
        for column in table.columns:
            try:
                values.append(_encode(column, row.get(column.name), d))
            except (ValueError, codec.CodecError) as exc:
                raise AssetTableError(
                    f"table {table.name}, row {index}, column {column.name}: {exc}"
                ) from None
        encoded.append(tuple(values))
    return encoded


def location_uri(location: str | os.PathLike[str]) -> str:
    """The store as a URI for metadata and messages: `sqlite:///absolute/path` for a file, the
    PostgreSQL URL with its password (and every query value) replaced by ***."""
    if is_postgres_url(location):
        return redact_url(str(location).strip())
    path = Path(location).expanduser().resolve()
    return "sqlite://" + quote(path.as_posix())
