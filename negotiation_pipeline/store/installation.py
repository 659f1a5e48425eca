"""Values that belong to one installation of the pipeline, kept in the business store.

The Message-ID key: our Message-IDs are an HMAC of each email's outbox key, so nobody outside
can compute the id of an email sent to someone else (and forge a reply "in" that thread). The
key is either configured (NEGOTIATION_MESSAGE_ID_SECRET, for installations that share one
identity across stores) or created on first use with `secrets.token_bytes` and stored in the
`installation` table, inside the caller's transaction, so two processes racing to create it
agree on one value. The key never leaves this module except as HMAC input: it is not logged,
audited or shown in any repr.
"""

from __future__ import annotations

import secrets

from negotiation_pipeline.store.base import StoreError
from negotiation_pipeline.store.dialect import ConnectionScope, Dialect
from negotiation_pipeline.store.sql_repository import SqlRepository

MESSAGE_ID_SECRET_ENV = "NEGOTIATION_MESSAGE_ID_SECRET"
MIN_CONFIGURED_SECRET_CHARS = 32
_MESSAGE_ID_KEY = "message_id_secret"
_GENERATED_KEY_BYTES = 32


def configured_secret_key(value: str | None) -> bytes | None:
    """The HMAC key of a configured secret (None when unset); too short a value is refused
    with a message that never repeats it."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) < MIN_CONFIGURED_SECRET_CHARS:
        raise StoreError(
            f"{MESSAGE_ID_SECRET_ENV} is too short ({len(text)} characters): use at least "
            f"{MIN_CONFIGURED_SECRET_CHARS}, for example the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    return text.encode("utf-8")


class SqlInstallation(SqlRepository):
    def __init__(
        self, dialect: Dialect, scope: ConnectionScope, configured_key: bytes | None = None
    ) -> None:
        super().__init__(dialect, scope)
        self._configured_key = configured_key

    def __repr__(self) -> str:
        return f"{type(self).__name__}(configured={self._configured_key is not None})"

    def message_id_secret(self) -> bytes:
        """The key our Message-IDs are computed with: the configured one, else the stored one
        (created now if this installation has none yet)."""
        if self._configured_key is not None:
            return self._configured_key
        d = self._dialect
        with self._scope(True) as conn:
            conn.execute(
                f"INSERT INTO installation (name, value, created_at) VALUES ({d.marks(3)}) "  # noqa: S608
                "ON CONFLICT (name) DO NOTHING",
                (_MESSAGE_ID_KEY, secrets.token_bytes(_GENERATED_KEY_BYTES).hex(), d.now()),
            )
            row = conn.execute(
                f"SELECT value FROM installation WHERE name = {d.mark}",  # noqa: S608
                (_MESSAGE_ID_KEY,),
            ).fetchone()
        if row is None:  # pragma: no cover - the insert above guarantees a row
            raise StoreError("the installation's Message-ID key could not be stored")
        return bytes.fromhex(row["value"])
