"""Migration step 11 (migrations.py), as it shipped, per engine: what several runs need to share
one outbox and one mailbox.

Written out for itself, never importing the living schema: a store upgraded later must get
exactly what this step created then. Never edit it; a later change is a later step.
"""

from __future__ import annotations

# Step 11: several deliverers and mail readers at once. A deliverer claims the email it sends
# (owner and lease end); the uids above the mail cursor are noted as fetched (with their sender,
# so one sender's replies keep their order across runs) or handled.
PARALLEL_RUNS_SQLITE: tuple[str, ...] = (
    "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
    "ALTER TABLE outbox ADD COLUMN claimed_until TEXT",
    """CREATE TABLE IF NOT EXISTS mail_uids (
        mailbox TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        sender_key TEXT NOT NULL DEFAULT '',
        handled INTEGER NOT NULL DEFAULT 0 CHECK (handled IN (0, 1)),
        PRIMARY KEY (mailbox, uidvalidity, uid)
    )""",
)
PARALLEL_RUNS_POSTGRES: tuple[str, ...] = (
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_by TEXT",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS claimed_until TIMESTAMPTZ",
    """CREATE TABLE IF NOT EXISTS mail_uids (
        mailbox TEXT NOT NULL,
        uidvalidity BIGINT NOT NULL,
        uid BIGINT NOT NULL,
        sender_key TEXT NOT NULL DEFAULT '',
        handled BOOLEAN NOT NULL DEFAULT false,
        PRIMARY KEY (mailbox, uidvalidity, uid)
    )""",
)
