"""MaildirMailbox (the sandbox): cursor, foreign deliveries, uidvalidity reset, sent index."""

from __future__ import annotations

import mailbox
import shutil
from pathlib import Path

import pytest

from negotiation_pipeline.integrations.mail.base import (
    MailCursor,
    OutgoingEmail,
    SenderIdentity,
    UidValidityChangedError,
)
from negotiation_pipeline.integrations.mail.maildir import MaildirMailbox
from negotiation_pipeline.integrations.mail.mime import parse_message

AGENT = SenderIdentity("agent@agency.test", "Agency Team")


def _raw(number: int) -> bytes:
    return (
        f"From: inf{number}@creators.test\r\nSubject: Re: Collab\r\n"
        f"Message-ID: <m{number}@creators.test>\r\n\r\nReply {number}\r\n"
    ).encode()


def test_cursor_returns_each_message_once(tmp_path: Path) -> None:
    box = MaildirMailbox(tmp_path, AGENT)
    assert [box.append_to_inbox(_raw(n)) for n in (1, 2, 3)] == [1, 2, 3]
    first = box.fetch_new(None, limit=2)
    assert [m.parsed.message_id for m in first.messages] == [
        "<m1@creators.test>",
        "<m2@creators.test>",
    ]
    second = box.fetch_new(MailCursor.from_string(first.cursor.to_string()))
    assert [m.uid for m in second.messages] == [3]
    assert box.fetch_new(second.cursor).messages == ()
    # A second instance on the same root (another process) sees the same uids.
    again = MaildirMailbox(tmp_path, AGENT)
    assert again.list_new_ids(first.cursor).uids == (3,)


def test_foreign_maildir_deliveries_get_uids(tmp_path: Path) -> None:
    box = MaildirMailbox(tmp_path, AGENT)
    box.append_to_inbox(_raw(1))
    mailbox.Maildir(tmp_path / "inbox").add(_raw(2))  # another program delivers directly
    result = box.fetch_new(None)
    assert [(m.uid, m.parsed.message_id) for m in result.messages] == [
        (1, "<m1@creators.test>"),
        (2, "<m2@creators.test>"),
    ]
    assert box.append_to_inbox(_raw(3)) == 3


def test_deleted_state_is_a_uidvalidity_change(tmp_path: Path) -> None:
    box = MaildirMailbox(tmp_path, AGENT)
    box.append_to_inbox(_raw(1))
    old = box.fetch_new(None).cursor
    shutil.rmtree(tmp_path / "state")
    fresh = MaildirMailbox(tmp_path, AGENT)
    result = fresh.fetch_new(old)
    assert result.rescanned and result.cursor.uidvalidity != old.uidvalidity
    assert [m.parsed.message_id for m in result.messages] == ["<m1@creators.test>"]
    with pytest.raises(UidValidityChangedError):
        fresh.fetch([1], uidvalidity=old.uidvalidity)


def test_unreadable_message_is_reported(tmp_path: Path) -> None:
    box = MaildirMailbox(tmp_path, AGENT)
    box.append_to_inbox(b"\x00garbage")
    result = box.fetch_new(None)
    assert result.messages == () and [u.uid for u in result.unreadable] == [1]
    assert result.cursor.last_uid == 1


def test_send_files_in_sent_and_already_sent_is_indexed(tmp_path: Path) -> None:
    box = MaildirMailbox(tmp_path, AGENT)
    email_ = OutgoingEmail(
        "<neg.t.0.abc@agency.test>",
        "sam@creators.test",
        "Sam",
        "Collab",
        "Offer: $1,000.00",
        in_reply_to="<m1@creators.test>",
        references=("<m1@creators.test>",),
    )
    assert not box.already_sent(email_.message_id)
    assert box.send_once(email_) is True
    assert box.send_once(email_) is False
    assert MaildirMailbox(tmp_path, AGENT).already_sent(email_.message_id)  # survives restart
    sent = [parse_message(raw) for raw in box.sent_messages()]
    assert len(sent) == 1
    assert sent[0].message_id == email_.message_id
    assert sent[0].in_reply_to == "<m1@creators.test>"
    assert sent[0].from_addr == "agent@agency.test"
    assert box.fetch_new(None).messages == ()  # sent mail never shows up as a reply
    with pytest.raises(ValueError, match="not a Message-ID"):
        box.already_sent("../../etc/passwd")
