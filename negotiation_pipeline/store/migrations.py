"""Schema versions of the business store, and the steps that bring an older store forward.

A new store gets the latest schema at once (schema.py for SQLite, postgres_schema.py for
PostgreSQL) and records SCHEMA_VERSION. A store written by older code records an older version;
on open it gets every step newer than that, in order, each recorded in `schema_version`, all in
the store's opening write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: the store's advisory
lock). So a failing step leaves the store as it was, and two processes opening the same old store
migrate it once: the second finds the new version and does nothing. A store newer than this code
is refused (SchemaVersionError), never written to.

How to change the schema (a column, a table, an index):
1. change the CREATE statements in schema.py AND postgres_schema.py, so a new store is right;
2. append ONE `Step` to STEPS with the next version number and, per engine, the statements that
   turn the previous version into this one: `ALTER TABLE t ADD COLUMN ...` (in SQLite a NOT NULL
   column needs a constant DEFAULT), `CREATE TABLE ...`, `CREATE INDEX ...`, `UPDATE ...` to
   fill a new column from old ones. Write the statements out in full: a step must keep doing
   what it did when it shipped, so it never reuses the living schema's constants (a step too
   long for this file keeps its statements in a module of its own, as steps 2-11 do).
SCHEMA_VERSION follows from STEPS. tests/store/test_migrations.py upgrades a store written at
version 1 on both engines and compares every table, column, index and constraint with a new
store's, so a forgotten or mismatched step fails there. Never edit, renumber or reorder a step
that has shipped (stores in use already ran it); fix a mistake with a new step.
SQLite cannot change an existing column with ALTER TABLE: such a step rebuilds the table
(CREATE TABLE new_t ...; INSERT INTO new_t SELECT ... FROM t; DROP TABLE t; ALTER TABLE new_t
RENAME TO t; then its indexes), which is safe inside the transaction because the store declares
no foreign keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from negotiation_pipeline.store.base import StoreError
from negotiation_pipeline.store.dialect import Connection
from negotiation_pipeline.store.migration_asset_tables import (
    ASSET_TABLES_POSTGRES,
    ASSET_TABLES_SQLITE,
)
from negotiation_pipeline.store.migration_early_steps import (
    FOLLOWUP_NOT_BEFORE_POSTGRES,
    FOLLOWUP_NOT_BEFORE_SQLITE,
    INBOUND_BY_SENDER_POSTGRES,
    INBOUND_BY_SENDER_SQLITE,
    LIVE_STATE_INDEX_POSTGRES,
    LIVE_STATE_INDEX_SQLITE,
    NOTIFICATION_OUTBOX_POSTGRES,
    NOTIFICATION_OUTBOX_SQLITE,
    OUTBOX_DELIVERY_POSTGRES,
    OUTBOX_DELIVERY_SQLITE,
    RECIPIENT_AND_PACKAGE_POSTGRES,
    RECIPIENT_AND_PACKAGE_SQLITE,
)
from negotiation_pipeline.store.migration_parallel_runs import (
    PARALLEL_RUNS_POSTGRES,
    PARALLEL_RUNS_SQLITE,
)
from negotiation_pipeline.store.migration_views import (
    SNAPSHOT_COLUMNS_POSTGRES,
    SNAPSHOT_COLUMNS_SQLITE,
    VIEW_REFRESH_POSTGRES,
    VIEW_REFRESH_SQLITE,
)


class SchemaVersionError(RuntimeError):
    """The store's schema cannot be used by this code (written by a newer version, or unknown)."""


class MigrationError(StoreError):
    """A step failed; the transaction is rolled back, so the store keeps its old version."""


class Engine(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@dataclass(frozen=True)
class Step:
    """What turns schema `version - 1` into `version`, per engine."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, engine: Engine) -> tuple[str, ...]:
        return self.sqlite if engine is Engine.SQLITE else self.postgres


# The first recorded schema: what every store written before the first step holds.
FIRST_VERSION = 1

STEPS: tuple[Step, ...] = (
    Step(
        2,
        "index the live (non-terminal) negotiations, so listing them reads only them; drop the "
        "plain state index, which no query can use (NOT IN) and every save maintains",
        sqlite=LIVE_STATE_INDEX_SQLITE,
        postgres=LIVE_STATE_INDEX_POSTGRES,
    ),
    Step(
        3,
        "the follow-up of a negotiation may wait until an instant (an out-of-office return date)",
        sqlite=FOLLOWUP_NOT_BEFORE_SQLITE,
        postgres=FOLLOWUP_NOT_BEFORE_POSTGRES,
    ),
    Step(
        4,
        "chat alerts wait in a durable notification outbox until Slack accepted them",
        sqlite=NOTIFICATION_OUTBOX_SQLITE,
        postgres=NOTIFICATION_OUTBOX_POSTGRES,
    ),
    Step(
        5,
        "replies keyed by Message-ID and sender; held (quarantined) replies and the senders an "
        "operator allowed per negotiation",
        sqlite=INBOUND_BY_SENDER_SQLITE,
        postgres=INBOUND_BY_SENDER_POSTGRES,
    ),
    Step(
        6,
        "outbox delivery: a `failed` status, attempts and the next attempt of temporary "
        "failures, the last error, the Sent-copy filing step; the installation's Message-ID key",
        sqlite=OUTBOX_DELIVERY_SQLITE,
        postgres=OUTBOX_DELIVERY_POSTGRES,
    ),
    Step(
        7,
        "the display name of each queued email's recipient; the package an agreement bought",
        sqlite=RECIPIENT_AND_PACKAGE_SQLITE,
        postgres=RECIPIENT_AND_PACKAGE_POSTGRES,
    ),
    Step(
        8,
        "every Dagster asset value in a table of its own, one row per item and campaign, and the "
        "book of written partitions (`asset_partitions`)",
        sqlite=ASSET_TABLES_SQLITE,
        postgres=ASSET_TABLES_POSTGRES,
    ),
    Step(
        9,
        "campaigns whose negotiation snapshots and report wait for a refresh by the next run",
        sqlite=VIEW_REFRESH_SQLITE,
        postgres=VIEW_REFRESH_POSTGRES,
    ),
    Step(
        10,
        "negotiation snapshot rows say what each thread waits for: client, next step, "
        "escalation reason, the ask's currency, deliverables, usage rights, last emails",
        sqlite=SNAPSHOT_COLUMNS_SQLITE,
        postgres=SNAPSHOT_COLUMNS_POSTGRES,
    ),
    Step(
        11,
        "several deliverers and mail readers at once: a deliverer's claim (owner, lease end) "
        "on the email it is sending; the uids above the mail cursor fetched (with their "
        "sender) or handled",
        sqlite=PARALLEL_RUNS_SQLITE,
        postgres=PARALLEL_RUNS_POSTGRES,
    ),
    Step(
        12,
        "audit metadata on PostgreSQL is stored as written (json, not jsonb), so its keys come "
        "back in the order the decision wrote them; SQLite's TEXT already does",
        sqlite=(),
        postgres=("ALTER TABLE audit_log ALTER COLUMN metadata TYPE JSON USING metadata::json",),
    ),
    # Next: Step(13, "...", sqlite=("ALTER TABLE ...",), postgres=("ALTER TABLE ...",)),
)

SCHEMA_VERSION = STEPS[-1].version if STEPS else FIRST_VERSION

# A table every store has; present without `schema_version`, the database is not one we know.
_CORE_TABLE = "negotiation_state"


def check_steps(steps: Sequence[Step]) -> None:
    """Steps are numbered FIRST_VERSION + 1, + 2, ... and each changes something on some engine."""
    for expected, step in enumerate(steps, start=FIRST_VERSION + 1):
        if step.version != expected:
            raise SchemaVersionError(
                f"migration step {step.version} ({step.description!r}) should be {expected}: "
                "steps are numbered consecutively, in order"
            )
        if not (step.sqlite or step.postgres):
            raise SchemaVersionError(f"migration step {step.version} has no statements")


check_steps(STEPS)


def prepare_schema(
    conn: Connection, engine: Engine, fresh_schema: Sequence[str], now: Any, *, create: bool = True
) -> int | None:
    """Create a new store or bring an older one up to SCHEMA_VERSION; returns the version.

    Call inside the store's write transaction. `fresh_schema` is the engine's latest CREATE
    statements; `now` the current instant as the engine stores timestamps. With create=False
    and no store found, nothing is written and None is returned (the caller reports it).
    """
    found = recorded_version(conn, engine)
    if found is None:
        if _table_exists(conn, engine, _CORE_TABLE):
            raise SchemaVersionError(
                f"the database has a {_CORE_TABLE} table but no schema_version: it was not "
                "written by this program, or was damaged; refusing to guess its layout"
            )
        if not create:
            return None
        for statement in fresh_schema:
            conn.execute(statement)
        _record(conn, engine, SCHEMA_VERSION, now)
        return SCHEMA_VERSION
    if found < FIRST_VERSION:
        raise SchemaVersionError(
            f"database schema version {found} is older than any this code knows ({FIRST_VERSION})"
        )
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"database schema version {found} is newer than this code ({SCHEMA_VERSION}): "
            "upgrade negotiation_pipeline before using this store"
        )
    for step in STEPS:
        if step.version > found:
            _run_step(conn, engine, step, found)
            _record(conn, engine, step.version, now)
    return SCHEMA_VERSION


def _run_step(conn: Connection, engine: Engine, step: Step, found: int) -> None:
    for statement in step.statements(engine):
        try:
            conn.execute(statement)
        except Exception as exc:
            raise MigrationError(
                f"upgrading the store from schema version {found} to {SCHEMA_VERSION} failed at "
                f"step {step.version} ({step.description}): {exc}; nothing was changed"
            ) from exc


def recorded_version(conn: Connection, engine: Engine) -> int | None:
    """The newest version in `schema_version`; None when the table is missing or empty."""
    if not _table_exists(conn, engine, "schema_version"):
        return None
    row = conn.execute("SELECT MAX(version) AS version FROM schema_version").fetchone()
    version = None if row is None else row["version"]
    return None if version is None else int(version)


def _table_exists(conn: Connection, engine: Engine, table: str) -> bool:
    if engine is Engine.SQLITE:
        sql = "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        # The connection's search_path decides the schema, as it does for every other query.
        sql = "SELECT 1 AS present WHERE to_regclass(%s::text) IS NOT NULL"
    return conn.execute(sql, (table,)).fetchone() is not None


def _record(conn: Connection, engine: Engine, version: int, now: Any) -> None:
    mark = "?" if engine is Engine.SQLITE else "%s"
    conn.execute(
        f"INSERT INTO schema_version (version, applied_at) VALUES ({mark}, {mark})",  # noqa: S608
        (version, now),
    )
