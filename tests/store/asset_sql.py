"""Plain SQL around a store, for the asset-table tests: sqlite3 on the file, psycopg on the
store's schema, never the store's own code, so what they read is what the tables hold."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, Any

from negotiation_pipeline.store import PostgresStore, SQLiteStore

if TYPE_CHECKING:
    import psycopg

Store = SQLiteStore | PostgresStore

# information_schema's names of the PostgreSQL types asset_tables.POSTGRES_TYPES uses.
PG_TYPE_NAMES = {
    "TEXT": "text",
    "BIGINT": "bigint",
    "NUMERIC": "numeric",
    "JSONB": "jsonb",
    "TIMESTAMPTZ": "timestamp with time zone",
    "DATE": "date",
    "BOOLEAN": "boolean",
}


@contextmanager
def _postgres_connection(store: PostgresStore) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """A connection on the store's tables: its schema when it has one, else the connection's
    current schema, the same place the store itself reads and writes."""
    import psycopg
    from psycopg import sql as pgsql

    with psycopg.connect(store.url) as conn:
        if store.schema is not None:
            search_path = pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(store.schema))
            conn.execute(search_path)
        yield conn


def plain_sql(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query (`%s` placeholders on both engines)."""
    if isinstance(store, SQLiteStore):
        with closing(sqlite3.connect(store.path)) as conn:
            return [tuple(row) for row in conn.execute(sql.replace("%s", "?"), params)]
    with _postgres_connection(store) as pg_conn:
        return [tuple(row) for row in pg_conn.execute(sql, params).fetchall()]


def columns_in_database(store: Store, table: str) -> list[tuple[str, str, bool]]:
    """(name, declared type, nullable) of each column, in table order, from the catalog."""
    if isinstance(store, SQLiteStore):
        found = plain_sql(
            store, 'SELECT name, type, "notnull" FROM pragma_table_info(%s)', (table,)
        )
        return [(name, kind, not notnull) for name, kind, notnull in found]
    found = plain_sql(
        store,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,),
    )
    return [(name, kind, nullable == "YES") for name, kind, nullable in found]


def execute(store: Store, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Run statements in one transaction outside the store's code (to age or damage a store)."""
    if isinstance(store, SQLiteStore):
        with closing(sqlite3.connect(store.path)) as conn, conn:
            for sql, params in statements:
                conn.execute(sql.replace("%s", "?"), params)
        return
    with _postgres_connection(store) as pg_conn:
        for sql, params in statements:
            pg_conn.execute(sql, params)
