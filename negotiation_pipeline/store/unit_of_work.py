"""Every repository over one connection scope (`Repositories`), the unit of work that binds them
to one open transaction (`BoundUnitOfWork`), and `open_unit_of_work`, which the SQLite and
PostgreSQL stores use to begin, commit or roll back that transaction around a block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TypeVar

from negotiation_pipeline.store.asset_repository import SqlAssetTables
from negotiation_pipeline.store.base import Lockable, StoreError
from negotiation_pipeline.store.dialect import Connection, ConnectionScope, Dialect
from negotiation_pipeline.store.inbound import SqlAllowedSenders, SqlInbound
from negotiation_pipeline.store.installation import SqlInstallation
from negotiation_pipeline.store.mail_cursors import SqlMailCursors
from negotiation_pipeline.store.notifications import SqlNotifications
from negotiation_pipeline.store.outbox import SqlOutbox
from negotiation_pipeline.store.repositories import (
    SqlAgreements,
    SqlAuditLog,
    SqlCampaigns,
    SqlStates,
)
from negotiation_pipeline.store.view_refresh import SqlViewRefresh


class Repositories:
    """Every repository bound to one dialect and connection scope."""

    def __init__(
        self, dialect: Dialect, scope: ConnectionScope, message_id_key: bytes | None = None
    ) -> None:
        self._audit = SqlAuditLog(dialect, scope)
        self._states = SqlStates(dialect, scope)
        self._campaigns = SqlCampaigns(dialect, scope)
        self._inbound = SqlInbound(dialect, scope)
        self._outbox = SqlOutbox(dialect, scope)
        self._agreements = SqlAgreements(dialect, scope)
        self._mail_cursors = SqlMailCursors(dialect, scope)
        self._notifications = SqlNotifications(dialect, scope)
        self._allowed_senders = SqlAllowedSenders(dialect, scope)
        self._installation = SqlInstallation(dialect, scope, message_id_key)
        self._asset_tables = SqlAssetTables(dialect, scope)
        self._view_refresh = SqlViewRefresh(dialect, scope)

    @property
    def audit(self) -> SqlAuditLog:
        return self._audit

    @property
    def states(self) -> SqlStates:
        return self._states

    @property
    def campaigns(self) -> SqlCampaigns:
        return self._campaigns

    @property
    def inbound(self) -> SqlInbound:
        return self._inbound

    @property
    def outbox(self) -> SqlOutbox:
        return self._outbox

    @property
    def agreements(self) -> SqlAgreements:
        return self._agreements

    @property
    def mail_cursors(self) -> SqlMailCursors:
        return self._mail_cursors

    @property
    def notifications(self) -> SqlNotifications:
        return self._notifications

    @property
    def allowed_senders(self) -> SqlAllowedSenders:
        return self._allowed_senders

    @property
    def installation(self) -> SqlInstallation:
        return self._installation

    @property
    def asset_tables(self) -> SqlAssetTables:
        return self._asset_tables

    @property
    def view_refresh(self) -> SqlViewRefresh:
        return self._view_refresh

    def lock(self, kind: Lockable, name: str) -> None:
        """Nothing to hold: on the store each call is its own transaction, and in a SQLite unit
        of work every write transaction excludes the others already (PostgreSQL overrides)."""


class BoundUnitOfWork(Repositories):
    """Repositories that all run in one transaction the store has already opened."""

    def __init__(
        self, dialect: Dialect, conn: Connection, message_id_key: bytes | None = None
    ) -> None:
        self._conn: Connection | None = conn
        super().__init__(dialect, self._bound_scope, message_id_key)

    def _bound_scope(self, write: bool) -> AbstractContextManager[Connection]:
        if self._conn is None:
            raise StoreError("this unit of work's transaction has ended; open a new one")
        return nullcontext(self._conn)

    def _end(self) -> None:
        self._conn = None


ConnT = TypeVar("ConnT")
UnitT = TypeVar("UnitT", bound=BoundUnitOfWork)


@contextmanager
def open_unit_of_work(
    scope: Callable[[bool], AbstractContextManager[ConnT]], make_unit: Callable[[ConnT], UnitT]
) -> Iterator[UnitT]:
    """A store's `transaction()`: the write scope, with a unit of work that dies with it (a
    repository kept past the block must fail loudly, not run outside the transaction)."""
    with scope(True) as conn:
        unit = make_unit(conn)
        try:
            yield unit
        finally:
            unit._end()
