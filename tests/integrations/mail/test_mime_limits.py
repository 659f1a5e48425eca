"""Bounded input: a stranger decides how big a reply is, not how much we read or store.

Only the start of a message is fetched (IMAP partial fetch, a bounded Maildir read) and parsed,
at most `max_parts` MIME parts are walked, and the kept text is cut with a visible marker.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from negotiation_pipeline.integrations.mail import (
    ImapReader,
    MaildirMailbox,
    MessageLimits,
    SenderIdentity,
    parse_message,
)
from tests.servers.dovecot import ImapAccount

LIMITS = MessageLimits(max_body_chars=1000, max_parts=10, max_raw_bytes=20_000)
LINE = "All good on my side, happy to go ahead with the post next week. "


def _reply(body: str, *, attachment: bytes | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Jane <jane@gmail.com>"
    message["To"] = "agent@agency.test"
    message["Subject"] = "Re: offer"
    message["Message-ID"] = "<r.1@gmail.com>"
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf")
    return message.as_bytes()


def test_text_above_the_limit_is_cut_with_a_marker() -> None:
    body = "My rate is $1,500.\n" + LINE * 50  # ~3,300 characters, under max_raw_bytes

    parsed = parse_message(_reply(body), LIMITS)

    assert parsed.truncated
    assert parsed.text_body.startswith("My rate is $1,500.")
    assert parsed.text_body.endswith(
        "[message cut: longer than 1,000 of text; the rest was not read]"
    )
    assert len(parsed.text_body) < 1000 + 100
    short = parse_message(_reply("My rate is $1,500."), LIMITS)
    assert not short.truncated and short.text_body.strip() == "My rate is $1,500."


def test_bytes_above_the_limit_are_not_parsed_and_say_so() -> None:
    raw = _reply("Deal, $1,500 works.", attachment=b"\x00" * 200_000)

    parsed = parse_message(raw, LIMITS)

    assert parsed.truncated and parsed.message_id == "<r.1@gmail.com>"
    assert parsed.text_body.startswith("Deal, $1,500 works.")
    assert parsed.text_body.endswith("[message cut: longer than 20,000; the rest was not read]")


def test_only_max_parts_mime_parts_are_walked() -> None:
    early, late = EmailMessage(), EmailMessage()
    for message, text_at in ((early, 1), (late, 30)):
        message["From"] = "jane@gmail.com"
        message["Subject"] = "Re: offer"
        message.make_mixed()
        for n in range(40):
            part = EmailMessage()
            if n == text_at:
                part.set_content("My rate is $1,500.")
            else:
                part.set_content(b"x", maintype="application", subtype="octet-stream")
            message.attach(part)

    assert "$1,500" in parse_message(early.as_bytes(), LIMITS).text_body
    assert "$1,500" not in parse_message(late.as_bytes(), LIMITS).text_body  # never walked


def test_the_maildir_reads_only_the_start_of_a_huge_message(tmp_path: Path) -> None:
    box = MaildirMailbox(tmp_path, SenderIdentity("agent@agency.test"), LIMITS)
    uid = box.append_to_inbox(_reply("My rate is $1,500.\n" + LINE * 100_000))  # ~6.5 MB

    (item,) = box.fetch([uid]).messages

    assert len(item.raw) == LIMITS.max_raw_bytes
    assert item.parsed.truncated and len(item.parsed.text_body) < 1100


@pytest.mark.mail
def test_imap_fetches_only_the_start_of_a_huge_message(imap_account: ImapAccount) -> None:
    reader = ImapReader(imap_account.imap_config(limits=LIMITS))
    big = _reply("My rate is $1,500.\n" + LINE * 50_000)  # ~3.2 MB
    small = _reply("Deal!")
    reader.append("INBOX", big)
    reader.append("INBOX", small)

    fetched = reader.fetch_new(None, 10)

    huge, tiny = fetched.messages
    assert len(huge.raw) == LIMITS.max_raw_bytes  # the rest never crossed the network
    assert huge.parsed.truncated and huge.parsed.text_body.startswith("My rate is $1,500.")
    assert not tiny.parsed.truncated and tiny.parsed.text_body.strip() == "Deal!"
