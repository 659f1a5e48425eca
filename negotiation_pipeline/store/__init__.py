"""Business state behind the `NegotiationStore` interface (base.py): one SQLite file by default,
or PostgreSQL when $NEGOTIATION_DB or open_store() gets a postgresql:// URL (lazy psycopg)."""

from negotiation_pipeline.store.audit_filters import (
    AuditFilterError,
    build_audit_query,
    parse_day,
    parse_event_type,
    parse_last,
)
from negotiation_pipeline.store.base import (
    Agreement,
    AuditLog,
    AuditQuery,
    CampaignRecord,
    Controller,
    InboundMessage,
    InboundStatus,
    InstallationRepository,
    MailCursor,
    NegotiationStore,
    OutboxEmail,
    OutboxStatus,
    StoredNegotiation,
    StoreError,
    StoreNotFoundError,
    UnitOfWork,
)
from negotiation_pipeline.store.paths import (
    DB_ENV_VAR,
    default_db_location,
    default_db_path,
    is_postgres_url,
)
from negotiation_pipeline.store.postgres import PostgresStore, PostgresUnitOfWork
from negotiation_pipeline.store.schema import SCHEMA_VERSION, SchemaVersionError
from negotiation_pipeline.store.sqlite import (
    NegotiationStateStore,
    SQLiteStore,
    SQLiteUnitOfWork,
    open_store,
)

__all__ = [
    "DB_ENV_VAR",
    "SCHEMA_VERSION",
    "Agreement",
    "AuditFilterError",
    "AuditLog",
    "AuditQuery",
    "CampaignRecord",
    "Controller",
    "InboundMessage",
    "InboundStatus",
    "InstallationRepository",
    "MailCursor",
    "NegotiationStateStore",
    "NegotiationStore",
    "OutboxEmail",
    "OutboxStatus",
    "PostgresStore",
    "PostgresUnitOfWork",
    "SQLiteStore",
    "SQLiteUnitOfWork",
    "SchemaVersionError",
    "StoreError",
    "StoreNotFoundError",
    "StoredNegotiation",
    "UnitOfWork",
    "build_audit_query",
    "default_db_location",
    "default_db_path",
    "is_postgres_url",
    "open_store",
    "parse_day",
    "parse_event_type",
    "parse_last",
]
