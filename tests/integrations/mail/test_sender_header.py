"""From headers a sender check can trust: one address, read the same way by every parser; and the
sent-mail lookup of the sandbox Maildir."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation_pipeline.integrations.mail import MaildirMailbox, OutgoingEmail, SenderIdentity
from negotiation_pipeline.integrations.mail.mime import MalformedMessageError, parse_message
from negotiation_pipeline.integrations.mail.thread_headers import (
    from_header_problem,
    parsed_from_problem,
)


def _raw(*from_values: str) -> bytes:
    headers = "".join(f"From: {value}\r\n" for value in from_values)
    return f"{headers}To: a@agency.test\r\nSubject: Re: x\r\n\r\nhi\r\n".encode()


def _problem(*from_values: str) -> str | None:
    raw = _raw(*from_values)
    return from_header_problem(raw, parse_message(raw).from_addr)


@pytest.mark.parametrize(
    "value",
    [
        "jane@gmail.com",
        "Jane Doe <jane@gmail.com>",
        "Jane <JANE@Gmail.COM>",
        '"Doe, Jane" <jane@gmail.com>',
        '"jane@gmail.com" <evil@x.com>',  # display name says Jane, the address is evil's: evil
        "=?utf-8?q?J=C3=B6rg?= <jorg@bücher.de>",
        "Jörg Müller <jörg@bücher.de>",
        "jane@gmail.com (a comment)",
    ],
)
def test_one_clear_address_is_trusted(value: str) -> None:
    assert _problem(value) is None


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (("jane@gmail.com, evil@x.com",), "does not name exactly one address"),
        (("jane@gmail.com <evil@x.com>",), "does not name exactly one address"),
        (("Evil <evil@x.com> <jane@gmail.com>",), "does not name exactly one address"),
        (("<jane@gmail.com>evil@x.com",), "does not name exactly one address"),
        (("Doe, Jane <jane@gmail.com>",), "does not name exactly one address"),
        (("jane@gmail.com", "evil@x.com"), "2 From headers"),
        (("",), "does not name exactly one address"),
    ],
)
def test_ambiguous_from_headers_are_not_trusted(values: tuple[str, ...], problem: str) -> None:
    found = _problem(*values)
    assert found is not None and problem in found


def test_a_message_without_from_names_nobody() -> None:
    raw = b"To: a@agency.test\r\nSubject: x\r\n\r\nhi\r\n"
    assert from_header_problem(raw, "") == "the message has 0 From headers"


_FROM_PIECES = st.sampled_from(
    ["jane", "@", "gmail.com", " ", "<", ">", ",", '"', "(", ")", "Jane", "Doe", ";", ":",
     "evil@x.com", "=?utf-8?q?J=C3=B6rg?=", "ö", ".", "[", "]", "\\"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FROM_PIECES, min_size=1, max_size=12).map("".join))
def test_the_fast_path_agrees_with_the_full_address_parser(value: str) -> None:
    raw = _raw(value)
    try:
        parsed = parse_message(raw)
    except MalformedMessageError:
        return
    fast = from_header_problem(raw, parsed.from_addr)
    full = parsed_from_problem(value, parsed.from_addr)
    assert (fast is None) == (full is None), (value, fast, full)


def test_maildir_finds_a_colleagues_message_in_sent_and_not_a_stranger_s(tmp_path: Path) -> None:
    agent = SenderIdentity("partnerships@agency.test")
    mailbox = MaildirMailbox(tmp_path, agent)
    mailbox.send(OutgoingEmail("<ours@agency.test>", "jane@gmail.com", "Jane", "Offer", "Hi"))
    mailbox.sent.add(
        b"From: partnerships@agency.test\r\nMessage-ID: <by-hand@agency.test>\r\n\r\nHi Jane\r\n"
    )
    assert mailbox.in_sent_folder("<ours@agency.test>")
    assert mailbox.in_sent_folder("<by-hand@agency.test>")
    assert not mailbox.in_sent_folder("<forged@agency.test>")
    assert not mailbox.in_sent_folder("<by-hand@agency.test.evil>")
