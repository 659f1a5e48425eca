"""A database's schema as plain, comparable data, read from the engine's own catalog.

Two stores have the same schema when these describe them equally: every table, its columns
(type, NOT NULL, default, primary key, collation), its CHECK/UNIQUE/PRIMARY KEY constraints and
its indexes (columns, order, collation, uniqueness, partial WHERE). Column order is left out:
SQLite's ALTER TABLE ADD COLUMN can only append, and the store reads columns by name.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

# --- SQLite -----------------------------------------------------------------------------------


def _normalized(sql: str) -> str:
    """SQL text with whitespace collapsed and without the IF NOT EXISTS a step may carry."""
    text = re.sub(r"\s+", " ", sql).strip()
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    return re.sub(r"(?i)\bIF NOT EXISTS\s+", "", text)


def _top_level_items(create_table: str) -> list[str]:
    """The comma-separated items between a CREATE TABLE's outer parentheses."""
    body = create_table[create_table.index("(") + 1 : create_table.rindex(")")]
    items: list[str] = []
    depth = 0
    current: list[str] = []
    quote: str | None = None
    for char in body:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _balanced_after(text: str, start: int) -> str:
    """The parenthesised expression starting at text[start] == '('."""
    depth = 0
    for position in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[position], 0)
        if depth == 0:
            return text[start : position + 1]
    raise ValueError(f"unbalanced parentheses in {text!r}")


def _checks_and_collations(create_table: str) -> tuple[list[str], dict[str, str]]:
    """CHECK expressions (inline or table-level) and per-column COLLATE, from the table's SQL:
    PRAGMA table_info reports neither."""
    checks: list[str] = []
    collations: dict[str, str] = {}
    for item in _top_level_items(create_table):
        for match in re.finditer(r"(?i)\bCHECK\s*\(", item):
            checks.append(_normalized(_balanced_after(item, match.end() - 1)))
        first = item.split()[0].strip('"').lower()
        if first in {"check", "constraint", "primary", "unique", "foreign"}:
            continue
        collate = re.search(r"(?i)\bCOLLATE\s+(\w+)", item)
        if collate:
            collations[first] = collate.group(1).upper()
    return sorted(checks), collations


def sqlite_schema(conn: sqlite3.Connection) -> dict[str, Any]:
    """Tables (columns, checks, collations) and indexes of a SQLite database."""
    tables: dict[str, Any] = {}
    indexes: dict[str, Any] = {}
    others = []
    for kind, name, table, sql in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    ):
        if kind == "table":
            checks, collations = _checks_and_collations(sql)
            columns = {
                row[1]: {"type": row[2].upper(), "not_null": bool(row[3]),
                         "default": row[4], "pk": row[5], "hidden": row[6]}
                for row in conn.execute(f'PRAGMA table_xinfo("{name}")')
            }  # fmt: skip
            tables[name] = {"columns": columns, "checks": checks, "collations": collations}
        elif kind == "index":
            indexes[name] = _sqlite_index(conn, name, table, sql)
        else:
            others.append((kind, name, _normalized(sql or "")))
    for table in tables:  # the indexes SQLite makes for PRIMARY KEY / UNIQUE have no SQL
        for row in conn.execute(f'PRAGMA index_list("{table}")'):
            if row[3] != "c":
                indexes[row[1]] = _sqlite_index(conn, row[1], table, None)
    return {"tables": tables, "indexes": indexes, "others": others}


def _sqlite_index(conn: sqlite3.Connection, name: str, table: str, sql: str | None) -> Any:
    keys = [
        (row[2], row[3], row[4])  # column (None = expression), descending, collation
        for row in conn.execute(f'PRAGMA index_xinfo("{name}")')
        if row[5]  # key columns only (not the trailing rowid)
    ]
    unique = {row[1]: bool(row[2]) for row in conn.execute(f'PRAGMA index_list("{table}")')}
    where = None
    if sql is not None and re.search(r"(?i)\bWHERE\b", sql):
        where = _normalized(re.split(r"(?i)\bWHERE\b", sql, maxsplit=1)[1])
    expression = None if all(column for column, _, _ in keys) else _normalized(sql or "")
    return {"table": table, "keys": keys, "unique": unique[name], "where": where,
            "expression": expression}  # fmt: skip


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_schema(conn: Any, schema: str) -> dict[str, Any]:
    """Tables (columns, constraints), indexes and sequences of one PostgreSQL schema."""
    columns: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity, "
        "identity_generation, collation_name, numeric_precision, numeric_scale, "
        "character_maximum_length FROM information_schema.columns WHERE table_schema = %s",
        (schema,),
    ):
        table, column, *described = row
        columns.setdefault(table, {})[column] = tuple(described)
    constraints: dict[str, list[tuple[str, str]]] = {}
    for table, kind, definition in conn.execute(
        "SELECT c.relname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s",
        (schema,),
    ):
        constraints.setdefault(table, []).append((kind, definition))
    indexes = {
        name: (table, definition.replace(f"{schema}.", "").replace(f'"{schema}".', ""))
        for name, table, definition in conn.execute(
            "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = %s",
            (schema,),
        )
    }
    sequences = sorted(
        tuple(row)
        for row in conn.execute(
            "SELECT sequence_name, data_type FROM information_schema.sequences "
            "WHERE sequence_schema = %s",
            (schema,),
        )
    )
    views = sorted(
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = %s", (schema,)
        )
    )
    return {
        "columns": columns,
        "constraints": {table: sorted(found) for table, found in constraints.items()},
        "indexes": indexes,
        "sequences": sequences,
        "views": views,
    }
