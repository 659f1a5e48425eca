"""One MailCursor: what the store keeps for a mailbox is the cursor the mailbox reads from, and
the string a sensor keeps decodes back to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from negotiation_pipeline.domain.mail_cursor import MailCursor
from negotiation_pipeline.integrations.mail import MailCursor as MailboxCursor
from negotiation_pipeline.integrations.mail.base import NewIds
from negotiation_pipeline.store import MailCursor as StoreCursor
from negotiation_pipeline.store.sqlite import SQLiteStore


def test_the_store_the_mailbox_and_the_domain_share_one_class() -> None:
    assert MailboxCursor is MailCursor and StoreCursor is MailCursor


def test_a_stored_cursor_is_the_cursor_a_listing_continues_from(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "negotiation.db")
    try:
        store.mail_cursors.set("imap://agent@mail:993/INBOX", 7, 41)
        stored = store.mail_cursors.get("imap://agent@mail:993/INBOX")
        assert stored == MailCursor(7, 41)
        assert store.mail_cursors.get("another-mailbox") is None
        assert NewIds(7, (42, 45)).cursor_after(stored) == MailCursor(7, 45)
        assert NewIds(8, (3,)).cursor_after(stored) == MailCursor(8, 3)  # new UIDVALIDITY
    finally:
        store.close()


def test_the_sensor_string_round_trips_and_bad_strings_say_what_is_wrong() -> None:
    cursor = MailCursor(7, 41)
    assert cursor.to_string() == "v1:7:41"
    assert MailCursor.from_string(" v1:7:41 ") == cursor
    with pytest.raises(ValueError, match="want 'v1:UIDVALIDITY:LAST_UID'"):
        MailCursor.from_string("7:41")
    with pytest.raises(ValueError, match="non-numeric"):
        MailCursor.from_string("v1:7:x")
    with pytest.raises(ValueError, match=">= 0"):
        MailCursor(-1, 0)
