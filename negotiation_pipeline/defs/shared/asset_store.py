"""`BusinessStoreIOManager`: every asset value lives in a table of the business store.

Each asset has its own table (store/asset_rows.py for the fixed ones, README "Asset tables"),
one row per item and the campaign partition in `campaign_id`. Writing a partition replaces it
in one store transaction; reading it gives back a value equal to the one written, of the same
type (a `Campaign`, a list of `InfluencerProfile`, a DataFrame whose money columns hold Decimal).
It works the same on SQLite and PostgreSQL: it opens the store through the store resource, like
every other step.

A DataFrame asset needs no code here: its table's columns are its declared
`dagster/column_schema` (definition metadata), each column's kind and nullability included. The
table itself comes with the store's schema; a declared column the table lacks is refused by name
until a migration step adds it. Only exact types are stored: a float column is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from negotiation_pipeline.defs.shared.resources import NegotiationStoreResource
from negotiation_pipeline.store.asset_rows import ASSET_CODECS
from negotiation_pipeline.store.asset_tables import (
    POSITION_COLUMN,
    AssetColumn,
    AssetTable,
    AssetTableError,
    ColumnKind,
    frame_table,
    location_uri,
)
from negotiation_pipeline.store.base import NegotiationStore

COLUMN_SCHEMA_KEY = "dagster/column_schema"
# Column types a DataFrame asset may declare, and how its table stores each.
FRAME_COLUMN_KINDS: Mapping[str, ColumnKind] = {
    "string": "text",
    "str": "text",
    "text": "text",
    "int": "integer",
    "integer": "integer",
    "decimal": "decimal",
    "bool": "boolean",
    "boolean": "boolean",
    "datetime": "timestamp",
    "timestamp": "timestamp",
    "date": "date",
    "json": "json",
}


class TableCodec(Protocol):
    """An asset value ↔ its table's rows (AssetCodec for the fixed tables, FrameCodec)."""

    @property
    def table(self) -> AssetTable: ...

    def to_rows(self, value: Any) -> list[dict[str, Any]]: ...

    def from_rows(self, campaign_id: str, rows: Sequence[Mapping[str, Any]]) -> Any: ...


@dataclass(frozen=True)
class FrameCodec:
    """A DataFrame with exactly the declared columns, one row per DataFrame row (`position`)."""

    table: AssetTable

    @property
    def data_columns(self) -> tuple[AssetColumn, ...]:
        return tuple(c for c in self.table.columns if c.name != POSITION_COLUMN)

    def to_rows(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, pd.DataFrame):
            raise AssetTableError(
                f"{self.table.name} stores a DataFrame, got {type(value).__name__}"
            )
        declared = [column.name for column in self.data_columns]
        produced = [str(name) for name in value.columns]
        if sorted(produced) != sorted(declared):
            extra = sorted(set(produced) - set(declared))
            missing = sorted(set(declared) - set(produced))
            raise AssetTableError(
                f"{self.table.asset} produced columns that differ from its {COLUMN_SCHEMA_KEY}: "
                f"undeclared {extra or 'none'}, missing {missing or 'none'}"
            )
        integers = {column.name for column in self.data_columns if column.kind == "integer"}
        records = [{str(k): v for k, v in r.items()} for r in value[declared].to_dict("records")]
        return [
            {
                POSITION_COLUMN: position,
                **{name: _plain(cell, whole=name in integers) for name, cell in record.items()},
            }
            for position, record in enumerate(records)
        ]

    def from_rows(self, campaign_id: str, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        names = [column.name for column in self.data_columns]
        records = [{name: row[name] for name in names} for row in rows]
        frame = pd.DataFrame.from_records(records, columns=names)
        # pandas' own inference, except for decimal and nullable columns, which are object
        # columns of the stored values themselves: a column of Decimals must never become
        # float64, nor a whole-number column with a gap float64 with NaN.
        for column in self.data_columns:
            if column.kind == "decimal" or column.nullable:
                frame[column.name] = pd.Series(
                    [record[column.name] for record in records], index=frame.index, dtype=object
                )
        return frame


def _plain(cell: Any, *, whole: bool) -> Any:
    """A DataFrame cell as a plain Python value: numpy scalars unwrapped, missing → None, and
    in a whole-number column (`whole`) an integral float back to int (pandas makes an int
    column with a gap float64). Any other float stays a float, which the store refuses."""
    if cell is None or cell is pd.NaT or cell is pd.NA:
        return None
    if isinstance(cell, float) and cell != cell:  # NaN: pandas' empty cell
        return None
    if isinstance(cell, pd.Timestamp):
        return cell.to_pydatetime()
    value = cell.item() if isinstance(cell, np.generic) else cell  # numpy int64, bool_...
    if whole and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def frame_columns(asset: str, schema: dg.TableSchema) -> tuple[AssetColumn, ...]:
    columns = []
    for column in schema.columns:
        kind = FRAME_COLUMN_KINDS.get(column.type.lower())
        if kind is None:
            raise AssetTableError(
                f"asset {asset}, column {column.name}: type {column.type!r} cannot be stored "
                f"exactly; declare one of {', '.join(sorted(FRAME_COLUMN_KINDS))} (money: decimal)"
            )
        nullable = column.constraints.nullable if column.constraints else True
        columns.append(AssetColumn(column.name, kind, column.description or "", nullable))
    return tuple(columns)


def codec_for(asset_key: dg.AssetKey, definition_metadata: Mapping[str, Any]) -> TableCodec:
    """The table codec of an asset: a fixed table, else its declared DataFrame columns."""
    asset = "__".join(asset_key.path)
    fixed = ASSET_CODECS.get(asset)
    if fixed is not None:
        return fixed
    schema = definition_metadata.get(COLUMN_SCHEMA_KEY)
    if isinstance(schema, dg.TableSchemaMetadataValue):
        schema = schema.schema
    if not isinstance(schema, dg.TableSchema):
        raise AssetTableError(
            f"asset {asset} has no table in the business store: give it a fixed table "
            f"(store/asset_rows.py) or, for a DataFrame, a {COLUMN_SCHEMA_KEY} in its metadata"
        )
    return FrameCodec(frame_table(asset, frame_columns(asset, schema)))


def table_metadata(table: AssetTable, qualified_name: str, location: str) -> dict[str, Any]:
    """What the UI shows of an asset's table: its name, the store (no password), its columns."""
    return {
        "dagster/table_name": qualified_name,
        "dagster/uri": location_uri(location),
        COLUMN_SCHEMA_KEY: dg.TableSchema(
            columns=[
                dg.TableColumn(
                    column.name,
                    column.kind,
                    description=column.description,
                    constraints=dg.TableColumnConstraints(nullable=column.nullable),
                )
                for column in table.all_columns
            ]
        ),
    }


def store_value(
    db: NegotiationStore,
    codec: TableCodec,
    campaign_id: str,
    value: Any,
    *,
    run_id: str | None,
    location: str,
) -> dict[str, Any]:
    """Replace the campaign's partition of the codec's table with `value`; returns the table
    metadata for the materialization."""
    db.asset_tables.replace_partition(codec.table, campaign_id, codec.to_rows(value), run_id=run_id)
    return table_metadata(codec.table, db.asset_tables.qualified_name(codec.table), location)


class BusinessStoreIOManager(dg.ConfigurableIOManager):
    """Stores each asset partition as rows of the asset's table in the business store (SQLite
    file or PostgreSQL), and loads downstream inputs from there."""

    store: NegotiationStoreResource = Field(description="the business store the tables live in")

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if not context.has_asset_key:
            # An op's result (the negotiation jobs' counts): the run's metadata shows it and no
            # step reads it, so it is not kept anywhere (load_input says so if one ever does).
            return
        codec = codec_for(context.asset_key, context.definition_metadata or {})
        keys = _partition_keys(context, codec.table)
        if len(keys) != 1:
            raise AssetTableError(
                f"{codec.table.name}: one output holds one campaign partition, got {len(keys)}"
            )
        with self.store.open() as db:
            metadata = store_value(
                db, codec, keys[0], obj, run_id=context.run_id, location=self.store.db_path
            )
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> Any:
        if not context.has_asset_key:
            raise AssetTableError(
                f"input {context.name!r} comes from an op output, which the business store does "
                "not keep: only asset values have tables"
            )
        upstream = context.upstream_output
        definition_metadata = {} if upstream is None else upstream.definition_metadata or {}
        codec = codec_for(context.asset_key, definition_metadata)
        keys = _partition_keys(context, codec.table)
        with self.store.open() as db:
            values = {
                key: codec.from_rows(key, db.asset_tables.read_partition(codec.table, key))
                for key in keys
            }
        # One partition (the usual case): its value; several (an unpartitioned reader): by key.
        return values[keys[0]] if len(keys) == 1 else values


def _partition_keys(context: dg.OutputContext | dg.InputContext, table: AssetTable) -> list[str]:
    if not context.has_asset_partitions:
        raise AssetTableError(
            f"{table.name} is partitioned by campaign: {table.asset} needs a campaign partition"
        )
    return list(context.asset_partition_keys)
