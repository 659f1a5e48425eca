"""Threading rules: deterministic ids, subjects, references, reply matching, own/auto mail."""

from __future__ import annotations

import pytest

from negotiation_pipeline.integrations.mail.base import OutgoingEmail
from negotiation_pipeline.integrations.mail.mime import parse_message
from negotiation_pipeline.integrations.mail.thread_headers import (
    MAX_REFERENCES,
    InMemoryThreadIndex,
    ThreadingError,
    auto_reply_reason,
    bare_address,
    is_auto_reply,
    is_own_message,
    make_message_id,
    match_reply,
    normalize_subject,
    references_for,
    reply_subject,
)


def _parsed(headers: str, body: str = "Sounds good, $900 works.") -> bytes:
    return (headers.strip().replace("\n", "\r\n") + "\r\n\r\n" + body + "\r\n").encode()


def test_message_id_is_deterministic_and_distinct() -> None:
    first = make_message_id("cmp-1/inf 7", 2, "Agency.test")
    assert first == make_message_id("cmp-1/inf 7", 2, "Agency.test")
    assert first.startswith("<neg.cmp-1-inf-7.2.") and first.endswith("@agency.test>")
    assert make_message_id("cmp-1/inf 7", 3, "agency.test") != first
    # Two thread ids that sanitise to the same text still get different ids.
    assert make_message_id("a/b", 0, "x.test") != make_message_id("a b", 0, "x.test")
    # Usable in an outgoing email as-is.
    OutgoingEmail(first, "sam@creators.test", "Sam", "s", "b")


@pytest.mark.parametrize(
    ("thread_id", "sequence", "domain"),
    [("", 0, "a.test"), ("t", -1, "a.test"), ("t", 0, "bad domain"), ("t", 0, "a@b")],
)
def test_message_id_rejects_bad_inputs(thread_id: str, sequence: int, domain: str) -> None:
    with pytest.raises(ThreadingError):
        make_message_id(thread_id, sequence, domain)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Collab", "Re: Collab"),
        ("Re: Collab", "Re: Collab"),
        ("RE: Re: re:Collab", "Re: Collab"),
        ("AW: Collab", "Re: Collab"),
        ("Re[2]: Collab", "Re: Collab"),
        ("Fwd: Collab", "Re: Fwd: Collab"),
        ("  Collab\r\n  deal ", "Re: Collab deal"),
    ],
)
def test_reply_subject_has_one_re(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_normalize_subject_strips_all_prefixes() -> None:
    assert normalize_subject("Re: FWD: AW: Fw:  Collaboration  with ACME") == (
        "collaboration with acme"
    )
    assert normalize_subject("Collaboration with Acme") == normalize_subject(
        "RE: collaboration with acme"
    )
    assert normalize_subject("Rebate offer") == "rebate offer"  # "Re" only as a prefix with ":"


def test_references_chain() -> None:
    assert references_for((), "<a@x>") == ("<a@x>",)
    assert references_for(("<a@x>", "<b@x>"), "<c@x>") == ("<a@x>", "<b@x>", "<c@x>")
    assert references_for(("<a@x>", "<b@x>"), "<b@x>") == ("<a@x>", "<b@x>")
    long = tuple(f"<{n}@x>" for n in range(40))
    trimmed = references_for(long, "<last@x>")
    assert len(trimmed) == MAX_REFERENCES
    assert trimmed[0] == "<0@x>" and trimmed[-1] == "<last@x>"


@pytest.fixture
def index() -> InMemoryThreadIndex:
    found = InMemoryThreadIndex()
    found.remember("t-open", "<open@agency.test>", "Sam <Sam@Creators.test>", "Collab with Acme")
    found.remember("t-counter", "<counter@agency.test>")
    return found


def test_match_by_in_reply_to_first(index: InMemoryThreadIndex) -> None:
    parsed = parse_message(
        _parsed(
            "From: sam@creators.test\nSubject: Re: Collab with Acme\n"
            "In-Reply-To: <counter@agency.test>\nReferences: <open@agency.test>"
        )
    )
    assert match_reply(parsed, index) == "t-counter"


def test_match_by_references_newest_first(index: InMemoryThreadIndex) -> None:
    parsed = parse_message(
        _parsed(
            "From: other@x.test\nSubject: something else\nIn-Reply-To: <unknown@x.test>\n"
            "References: <open@agency.test> <counter@agency.test> <unknown@x.test>"
        )
    )
    assert match_reply(parsed, index) == "t-counter"


def test_match_by_sender_and_subject_fallback(index: InMemoryThreadIndex) -> None:
    parsed = parse_message(
        _parsed('From: "Sam C." <SAM@creators.test>\nSubject: RE: Fwd: collab with ACME')
    )
    assert match_reply(parsed, index) == "t-open"
    stranger = parse_message(_parsed("From: eve@x.test\nSubject: Re: Collab with Acme"))
    assert match_reply(stranger, index) is None
    other_subject = parse_message(_parsed("From: sam@creators.test\nSubject: New idea"))
    assert match_reply(other_subject, index) is None


def test_own_message_compares_bare_addresses() -> None:
    ours = parse_message(_parsed('From: "Agency Team" <Agent@Agency.TEST>\nSubject: Re: x'))
    assert is_own_message(ours, ["agent@agency.test"])
    assert is_own_message(ours, ["Someone Else <AGENT@agency.test>"])
    theirs = parse_message(_parsed("From: Agent Fan <agent.fan@agency.test>\nSubject: x"))
    assert not is_own_message(theirs, ["agent@agency.test"])
    # The display name contains our address: still not ours (the reference's string bug).
    spoof = parse_message(_parsed('From: "agent@agency.test" <sam@creators.test>\nSubject: x'))
    assert not is_own_message(spoof, ["agent@agency.test"])
    no_from = parse_message(_parsed("Subject: x"))
    assert not is_own_message(no_from, ["agent@agency.test", ""])
    assert bare_address("Agency <Agent@Agency.Test>") == "agent@agency.test"


@pytest.mark.parametrize(
    "headers",
    [
        "From: sam@creators.test\nSubject: Re: Collab\nAuto-Submitted: auto-replied",
        "From: sam@creators.test\nSubject: Re: Collab\nX-Autoreply: yes",
        "From: sam@creators.test\nSubject: Out of Office: Re: Collab",
        "From: sam@creators.test\nSubject: Automatic reply: Collab",
        "From: sam@creators.test\nSubject: Re: Collab\nPrecedence: bulk",
        "From: MAILER-DAEMON@mx.creators.test\nSubject: Undelivered Mail",
        "From: sam@creators.test\nSubject: Abwesenheitsnotiz: Collab",
    ],
)
def test_auto_replies_are_detected(headers: str) -> None:
    parsed = parse_message(_parsed(headers, "I am away until Monday."))
    assert is_auto_reply(parsed)
    assert auto_reply_reason(parsed)


@pytest.mark.parametrize(
    "headers",
    [
        "From: sam@creators.test\nSubject: Re: Collab\nAuto-Submitted: no",
        "From: sam@creators.test\nSubject: Re: Office chair review collab",
    ],
)
def test_human_replies_are_not_auto(headers: str) -> None:
    assert not is_auto_reply(parse_message(_parsed(headers)))
