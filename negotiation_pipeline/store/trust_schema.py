"""Tables that decide who may steer a negotiation, for both backends (step 5 of migrations.py
brings an older store up to them).

- `inbound_messages` is keyed by (Message-ID, sender): two senders' messages that share a
  Message-ID are two messages (a collision or a forgery must never hide a real reply), while
  the same message delivered twice is still one. Its status may be `quarantined`: a message that
  matched a negotiation but whose sender may not steer it.
- `held_messages`: the bytes of each quarantined message (at most HELD_RAW_MAX_BYTES each), so
  it can be processed once an operator allows its sender, also after a crash.
- `allowed_senders`: addresses an operator allowed for one negotiation.

The upgrade step rebuilds `inbound_messages` on SQLite (a primary key and a CHECK cannot be
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
