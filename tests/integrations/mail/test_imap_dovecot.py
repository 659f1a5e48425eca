"""ImapReader against a real Dovecot on loopback: cursor, the last+1:* gotcha, PEEK, UIDVALIDITY."""

from __future__ import annotations

import imaplib

import pytest

from negotiation_pipeline.integrations.mail.base import (
    MailCursor,
    MailError,
    UidValidityChangedError,
)
from negotiation_pipeline.integrations.mail.imap import ImapReader
from tests.servers.dovecot import DovecotServer, ImapAccount

pytestmark = pytest.mark.mail


def _message(number: int, subject: str = "Collab") -> bytes:
    return (
        f"From: Influencer {number} <inf{number}@creators.test>\r\n"
        f"To: agent@agency.test\r\nSubject: Re: {subject}\r\n"
        f"Message-ID: <msg-{number}@creators.test>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
        f"Reply number {number}: I could do ${number}00.\r\n"
    ).encode()


def _raw_client(account: ImapAccount) -> imaplib.IMAP4:
    client = imaplib.IMAP4(account.host, account.port, timeout=10)
    client.login(account.user, account.password)
    return client


def test_cursor_returns_each_message_once(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config())
    for number in (1, 2, 3):
        reader.append("INBOX", _message(number))

    first = reader.fetch_new(None)
    assert [m.parsed.message_id for m in first.messages] == [
        "<msg-1@creators.test>",
        "<msg-2@creators.test>",
        "<msg-3@creators.test>",
    ]
    assert first.messages[0].parsed.from_addr == "inf1@creators.test"
    assert first.cursor.last_uid == 3 and not first.rescanned

    again = reader.fetch_new(first.cursor)
    assert again.messages == () and again.cursor == first.cursor

    reader.append("INBOX", _message(4))
    later = reader.fetch_new(MailCursor.from_string(first.cursor.to_string()))
    assert [m.uid for m in later.messages] == [4]
    assert later.cursor == MailCursor(first.cursor.uidvalidity, 4)


def test_last_plus_one_star_gotcha_does_not_redeliver_last_uid(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config())
    for number in (1, 2):
        reader.append("INBOX", _message(number))
    cursor = reader.fetch_new(None).cursor
    assert cursor.last_uid == 2

    # The server really does answer "UID 3:*" with uid 2 (the highest) when nothing is newer...
    client = _raw_client(imap_account)
    try:
        client.select("INBOX", readonly=True)
        _, data = client.uid("SEARCH", "UID", "3:*")
        assert data[0].split() == [b"2"]
    finally:
        client.logout()
    # ...and the reader filters it out.
    assert reader.list_new_ids(cursor).uids == ()
    assert reader.fetch_new(cursor).messages == ()
    assert reader.fetch_new(MailCursor(cursor.uidvalidity, 999)).messages == ()


def test_fetch_uses_peek_and_leaves_messages_unseen(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config())
    reader.append("INBOX", _message(1))
    assert len(reader.fetch_new(None).messages) == 1

    client = _raw_client(imap_account)
    try:
        client.select("INBOX", readonly=True)
        _, flags = client.uid("FETCH", "1", "(FLAGS)")
        assert b"\\Seen" not in flags[0]
        _, unseen = client.uid("SEARCH", "UNSEEN")
        assert unseen[0].split() == [b"1"]
    finally:
        client.logout()


def test_uidvalidity_change_rescans_everything(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config(mailbox="Negotiations"))
    reader.append("Negotiations", _message(1))
    reader.append("Negotiations", _message(2))
    old = reader.fetch_new(None).cursor

    client = _raw_client(imap_account)
    try:
        assert client.delete('"Negotiations"')[0] == "OK"
        assert client.create('"Negotiations"')[0] == "OK"
    finally:
        client.logout()
    reader.append("Negotiations", _message(7))

    listing = reader.list_new_ids(old)
    assert listing.rescanned and listing.uidvalidity != old.uidvalidity
    result = reader.fetch_new(old)
    assert result.rescanned
    assert [m.parsed.message_id for m in result.messages] == ["<msg-7@creators.test>"]
    assert result.cursor == MailCursor(listing.uidvalidity, 1)
    with pytest.raises(UidValidityChangedError):
        reader.fetch([1], uidvalidity=old.uidvalidity)


def test_list_then_fetch_in_limited_batches(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config())
    for number in range(1, 6):
        reader.append("INBOX", _message(number))
    cursor: MailCursor | None = None
    batches: list[tuple[int, ...]] = []
    while True:
        listing = reader.list_new_ids(cursor, limit=2)
        if not listing.uids:
            break
        fetched = reader.fetch(listing.uids, uidvalidity=listing.uidvalidity)
        batches.append(tuple(m.uid for m in fetched.messages))
        cursor = listing.cursor_after(cursor)
    assert batches == [(1, 2), (3, 4), (5,)]


def test_unreadable_message_is_reported_and_passed(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config())
    reader.append("INBOX", b"\x00\x01 not a message at all\r\n")
    reader.append("INBOX", _message(2))
    result = reader.fetch_new(None)
    assert [m.uid for m in result.messages] == [2]
    assert [u.uid for u in result.unreadable] == [1]
    assert "no message headers" in result.unreadable[0].error
    assert result.cursor.last_uid == 2


def test_already_sent_looks_in_sent_folder(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config())
    assert reader.already_sent("<neg.t1.0.abc@agency.test>") is False  # creates Sent
    reader.append("Sent", _message(1).replace(b"msg-1@creators.test", b"neg.t1.0.abc@agency.test"))
    assert reader.already_sent("<neg.t1.0.abc@agency.test>") is True
    assert reader.already_sent("<neg.t1.1.abc@agency.test>") is False
    assert reader.fetch_new(None).messages == ()  # Sent is not the inbox
    with pytest.raises(ValueError, match="not a Message-ID"):
        reader.already_sent('<x@y> "OR ALL')


def test_wrong_password_is_a_clear_mail_error(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config(password="wrong-password-xyz"))
    with pytest.raises(MailError, match="login refused") as caught:
        reader.fetch_new(None)
    assert "wrong-password-xyz" not in str(caught.value)


def test_connected_block_reuses_one_login(
    imap_account: ImapAccount, dovecot_server: DovecotServer
) -> None:
    reader = ImapReader(imap_account.imap_config())
    logins_before = dovecot_server.log_text().count(f"Login: user=<{imap_account.user}>")
    with reader.connected():
        reader.append("INBOX", _message(1))
        reader.append("INBOX", _message(2))
        result = reader.fetch_new(None)
        assert reader.already_sent("<none@agency.test>") is False
        # already_sent SELECTed Sent; the next read must SELECT the inbox again.
        assert reader.list_new_ids(None).uids == (1, 2)
    logins_after = dovecot_server.log_text().count(f"Login: user=<{imap_account.user}>")
    assert [m.uid for m in result.messages] == [1, 2]
    assert logins_after - logins_before == 1
