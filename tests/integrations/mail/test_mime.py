"""parse_message: real MIME shapes in, the negotiation's fields out; garbage never escapes as
anything but MalformedMessageError."""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_pipeline.integrations.mail.mime import (
    MalformedMessageError,
    html_to_text,
    parse_message,
)


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


SIMPLE = _crlf(
    'From: "Sam Creator" <Sam.Creator@Example.COM>\n'
    "To: Agent <agent@agency.test>, other@agency.test\n"
    "Subject: Re: Collaboration with Acme\n"
    "Date: Mon, 23 Nov 2026 10:15:00 +0100\n"
    "Message-ID: <reply-1@example.com>\n"
    "In-Reply-To: <neg-abc-0001@agency.test>\n"
    "References: <neg-abc-0000@agency.test>\n <neg-abc-0001@agency.test>\n"
    "Auto-Submitted: no\n"
    "\n"
    "I could do $1,900 for the reel.\n"
)


def test_simple_message_fields() -> None:
    parsed = parse_message(SIMPLE)
    assert parsed.message_id == "<reply-1@example.com>"
    assert parsed.in_reply_to == "<neg-abc-0001@agency.test>"
    assert parsed.references == ("<neg-abc-0000@agency.test>", "<neg-abc-0001@agency.test>")
    assert parsed.from_addr == "sam.creator@example.com"
    assert parsed.from_name == "Sam Creator"
    assert parsed.to_addrs == ("agent@agency.test", "other@agency.test")
    assert parsed.subject == "Re: Collaboration with Acme"
    assert parsed.date == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert parsed.date is not None and parsed.date.utcoffset() == timedelta(hours=1)
    assert parsed.text_body.strip() == "I could do $1,900 for the reel."
    assert parsed.header("Auto-Submitted") == "no"
    assert parsed.header("X-Autoreply") is None


def test_multipart_alternative_prefers_plain() -> None:
    raw = _crlf(
        "From: a@b.test\nSubject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="BOUND"\n\n'
        "--BOUND\nContent-Type: text/plain; charset=utf-8\n\nPlain offer: $800\n"
        "--BOUND\nContent-Type: text/html; charset=utf-8\n\n<p>HTML offer: <b>$800</b></p>\n"
        "--BOUND--\n"
    )
    assert parse_message(raw).text_body.strip() == "Plain offer: $800"


def test_html_only_is_converted_to_text() -> None:
    raw = _crlf(
        "From: a@b.test\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Hi&nbsp;there,</p><div>I&#39;d do <b>$1,200</b> &amp; 2 stories.</div>"
        "<script>alert(1)</script></body></html>\n"
    )
    body = parse_message(raw).text_body
    assert body.splitlines() == ["Hi there,", "", "I'd do $1,200 & 2 stories."]
    assert "color" not in body and "alert" not in body


def test_quoted_printable_utf8() -> None:
    encoded = quopri.encodestring("Preis: 900 € – passt?\n".encode()).decode("ascii")
    raw = _crlf(
        "From: a@b.test\nSubject: x\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        + encoded
    )
    assert parse_message(raw).text_body.strip() == "Preis: 900 € – passt?"


def test_base64_body_and_encoded_subject_and_name() -> None:
    body = base64.b64encode("Ça marche pour 700 £".encode()).decode("ascii")
    raw = _crlf(
        "From: =?utf-8?q?Ren=C3=A9e?= <renee@b.test>\n"
        "Subject: =?utf-8?b?UmU6IENvbGxhYm9yYXRpb24g4pyT?=\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n\n" + body + "\n"
    )
    parsed = parse_message(raw)
    assert parsed.text_body == "Ça marche pour 700 £"
    assert parsed.subject == "Re: Collaboration ✓"
    assert parsed.from_name == "Renée"


@pytest.mark.parametrize(
    ("charset", "payload", "expected"),
    [
        ("iso-8859-1", "Déjà vu: 500 EUR".encode("latin-1"), "Déjà vu: 500 EUR"),
        # cp1252 bytes labelled latin-1: curly quotes and the euro sign must survive.
        ("iso-8859-1", "“Deal” for 900 €".encode("cp1252"), "“Deal” for 900 €"),
        ("windows-1252", "Price – 1.5k €".encode("cp1252"), "Price – 1.5k €"),
        ("x-unknown-charset", b"plain ascii 42", "plain ascii 42"),
        ("utf-8", b"bad \xff\xfe bytes", "bad \ufffd\ufffd bytes"),
    ],
)
def test_non_utf8_charsets(charset: str, payload: bytes, expected: str) -> None:
    raw = (
        b"From: a@b.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: text/plain; charset={charset}\r\n".encode("ascii")
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + payload
    )
    assert parse_message(raw).text_body == expected


def test_attachment_text_is_not_the_body() -> None:
    raw = _crlf(
        "From: a@b.test\nSubject: x\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\nContent-Disposition: attachment; filename=rates.txt\n\n"
        "attachment says $99999\n"
        "--B\nContent-Type: text/plain\n\nThe real reply: $500\n--B--\n"
    )
    assert parse_message(raw).text_body.strip() == "The real reply: $500"


def test_missing_headers_parse_gracefully() -> None:
    parsed = parse_message(b"Subject: only a subject\r\n\r\nbody\r\n")
    assert parsed.message_id is None
    assert parsed.in_reply_to is None
    assert parsed.references == ()
    assert parsed.from_addr == "" and parsed.from_name == ""
    assert parsed.to_addrs == ()
    assert parsed.date is None
    assert parsed.text_body.strip() == "body"


def test_bad_header_values_degrade_not_crash() -> None:
    raw = _crlf(
        "From: <<<not an address\nTo: ,,,\nDate: yesterday-ish\n"
        "Message-ID: bare-id@host.test\nSubject: =?bogus-charset?q?x?=\n\nhello\n"
    )
    parsed = parse_message(raw)
    assert parsed.date is None
    assert parsed.message_id == "<bare-id@host.test>"  # brackets restored for comparison
    assert parsed.text_body.strip() == "hello"


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n", b"\x00\x01\x02garbage\xff\xfe", b"just some words without headers\n"],
)
def test_garbage_raises_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        parse_message(raw)


def test_non_bytes_raises_malformed() -> None:
    with pytest.raises(MalformedMessageError, match="expected message bytes"):
        parse_message("From: a@b\n\nx")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_only_ever_raise_malformed(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except MalformedMessageError as exc:
        assert str(exc)  # a message that says what is wrong
        return
    assert isinstance(parsed.text_body, str) and parsed.from_addr == parsed.from_addr.lower()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_header_text_only_ever_raises_malformed(junk: str) -> None:
    raw = (
        "From: " + junk + "\r\nSubject: " + junk + "\r\nDate: " + junk + "\r\n"
        "References: " + junk + "\r\n\r\n" + junk
    ).encode("utf-8", errors="surrogateescape")
    try:
        parsed = parse_message(raw)
    except MalformedMessageError:
        return
    assert isinstance(parsed.text_body, str)


def test_html_to_text_keeps_block_structure() -> None:
    assert html_to_text("<div>a</div><div>b<br>c</div>") == "a\n\nb\nc"
