"""The base of every SQL repository: a dialect and a connection scope (see repositories.py)."""

from __future__ import annotations

from negotiation_pipeline.store.dialect import ConnectionScope, Dialect


class SqlRepository:
    def __init__(self, dialect: Dialect, scope: ConnectionScope) -> None:
        self._dialect = dialect
        self._scope = scope
