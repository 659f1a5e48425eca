"""`MailCursor`: how far one mailbox's replies have been handled.

Message ids ("uids") are positive integers that only grow inside one `uidvalidity`: IMAP UIDs for
the real mailbox, index numbers for the Maildir sandbox. The cursor remembers the newest one
handled. The store keeps it per mailbox; a Dagster sensor cursor keeps it as `to_string()`.
"""

from __future__ import annotations

from dataclasses import dataclass

_CURSOR_PREFIX = "v1"


@dataclass(frozen=True, order=True)
class MailCursor:
    uidvalidity: int
    last_uid: int

    def __post_init__(self) -> None:
        if self.uidvalidity < 0 or self.last_uid < 0:
            raise ValueError(f"cursor values must be >= 0, got {self.uidvalidity}/{self.last_uid}")

    def to_string(self) -> str:
        return f"{_CURSOR_PREFIX}:{self.uidvalidity}:{self.last_uid}"

    @classmethod
    def from_string(cls, text: str) -> MailCursor:
        parts = text.strip().split(":")
        if len(parts) != 3 or parts[0] != _CURSOR_PREFIX:
            raise ValueError(f"not a mail cursor (want 'v1:UIDVALIDITY:LAST_UID'): {text!r}")
        try:
            return cls(int(parts[1]), int(parts[2]))
        except ValueError as exc:
            raise ValueError(f"not a mail cursor (non-numeric part): {text!r}") from exc
