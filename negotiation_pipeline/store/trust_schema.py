"""Tables that decide who may steer a negotiation, and the step that brings a version-1 store
up to them, for both backends.

- `inbound_messages` is keyed by (Message-ID, sender): two senders' messages that share a
  Message-ID are two messages (a collision or a forgery must never hide a real reply), while
  the same message delivered twice is still one. Its status may be `quarantined`: a message that
  matched a negotiation but whose sender may not steer it.
- `held_messages`: the bytes of each quarantined message (at most HELD_RAW_MAX_BYTES each), so
  it can be processed once an operator allows its sender, also after a crash.
- `allowed_senders`: addresses an operator allowed for one negotiation.

The version-1 → 2 step rebuilds `inbound_messages` on SQLite (a primary key and a CHECK cannot be
altered there) and alters it in place on PostgreSQL; existing rows keep their sender
(`from_addr`, already stored lower-case) as the second key part.
"""

from __future__ import annotations

# A held message is kept up to this size; a longer one keeps its first bytes (its headers and
# text part come first in practice) and is marked truncated.
HELD_RAW_MAX_BYTES = 1_048_576

INBOUND_STATUSES = "'processed', 'unmatched', 'skipped', 'own', 'quarantined'"


def _inbound_table(name: str, received_type: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {name} (
        message_id TEXT NOT NULL,
        sender_key TEXT NOT NULL DEFAULT '',
        thread_id TEXT,
        campaign_id TEXT,
        from_addr TEXT,
        subject TEXT,
        received_at {received_type} NOT NULL,
        status TEXT NOT NULL,
        detail TEXT,
        PRIMARY KEY (message_id, sender_key),
        CONSTRAINT inbound_messages_status_check CHECK (status IN ({INBOUND_STATUSES}))
    )"""


def _trust_tables(time_type: str, bytes_type: str) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE IF NOT EXISTS held_messages (
            message_id TEXT NOT NULL,
            sender_key TEXT NOT NULL,
            thread_id TEXT,
            raw {bytes_type} NOT NULL,
            raw_size BIGINT NOT NULL,
            truncated BOOLEAN NOT NULL,
            held_at {time_type} NOT NULL,
            PRIMARY KEY (message_id, sender_key)
        )""",
        f"""CREATE TABLE IF NOT EXISTS allowed_senders (
            thread_id TEXT NOT NULL,
            address_key TEXT NOT NULL,
            address TEXT NOT NULL,
            allowed_by TEXT NOT NULL,
            allowed_at {time_type} NOT NULL,
            PRIMARY KEY (thread_id, address_key)
        )""",
        # Held messages are few; this finds a thread's (or every) held message without a scan.
        "CREATE INDEX IF NOT EXISTS idx_inbound_quarantined ON inbound_messages "
        "(thread_id, received_at) WHERE status = 'quarantined'",
    )


SQLITE_INBOUND_TABLE = _inbound_table("inbound_messages", "TEXT")
POSTGRES_INBOUND_TABLE = _inbound_table("inbound_messages", "TIMESTAMPTZ")
SQLITE_TRUST_TABLES = _trust_tables("TEXT", "BLOB")
POSTGRES_TRUST_TABLES = _trust_tables("TIMESTAMPTZ", "BYTEA")

_COPIED_COLUMNS = "thread_id, campaign_id, from_addr, subject, received_at, status, detail"

# Statements that bring a store of version N-1 to version N, run before the CREATE ... IF NOT
# EXISTS statements (which then add what is new).
SQLITE_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        _inbound_table("inbound_messages_v2", "TEXT"),
        f"INSERT INTO inbound_messages_v2 (message_id, sender_key, {_COPIED_COLUMNS}) "  # noqa: S608
        f"SELECT message_id, lower(trim(COALESCE(from_addr, ''))), {_COPIED_COLUMNS} "
        "FROM inbound_messages",
        "DROP TABLE inbound_messages",
        "ALTER TABLE inbound_messages_v2 RENAME TO inbound_messages",
    ),
}
POSTGRES_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE inbound_messages ADD COLUMN IF NOT EXISTS sender_key TEXT NOT NULL DEFAULT ''",
        "UPDATE inbound_messages SET sender_key = lower(btrim(COALESCE(from_addr, '')))",
        "ALTER TABLE inbound_messages DROP CONSTRAINT IF EXISTS inbound_messages_pkey",
        "ALTER TABLE inbound_messages ADD PRIMARY KEY (message_id, sender_key)",
        "ALTER TABLE inbound_messages DROP CONSTRAINT IF EXISTS inbound_messages_status_check",
        "ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_status_check "
        f"CHECK (status IN ({INBOUND_STATUSES}))",
    ),
}


def migration_steps(
    migrations: dict[int, tuple[str, ...]], found: int, target: int
) -> list[tuple[int, tuple[str, ...]]]:
    """(version, statements) for every step from `found` up to `target`, in order."""
    return [(version, migrations.get(version, ())) for version in range(found + 1, target + 1)]
