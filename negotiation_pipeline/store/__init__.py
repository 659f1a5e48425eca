"""Business state in one SQLite file, behind the `NegotiationStore` interface (base.py)."""

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
    MailCursor,
    NegotiationStore,
    OutboxEmail,
    OutboxStatus,
    StoredNegotiation,
    StoreError,
    StoreNotFoundError,
    UnitOfWork,
)
from negotiation_pipeline.store.paths import DB_ENV_VAR, default_db_path
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
    "MailCursor",
    "NegotiationStateStore",
    "NegotiationStore",
    "OutboxEmail",
    "OutboxStatus",
    "SQLiteStore",
    "SQLiteUnitOfWork",
    "SchemaVersionError",
    "StoreError",
    "StoreNotFoundError",
    "StoredNegotiation",
    "UnitOfWork",
    "build_audit_query",
    "default_db_path",
    "open_store",
    "parse_day",
    "parse_event_type",
    "parse_last",
]
