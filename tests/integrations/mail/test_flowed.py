"""format=flowed (RFC 3676) re-joined by mime decoding, with and without DelSp."""

from __future__ import annotations

from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.integrations.mail.flowed import unflow
from negotiation_pipeline.integrations.mail.mime import html_to_text, parse_message
from tests.support.reading import read_reply


def _message(body: str, params: str) -> bytes:
    head = (
        "From: Jo <jo@creator.example.test>\r\nTo: a@northbeam.test\r\nSubject: Re: Offer\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8{params}\r\n\r\n"
    )
    return (head + body.replace("\n", "\r\n")).encode("utf-8")


def test_soft_breaks_are_joined_and_the_space_kept() -> None:
    assert unflow("I would need \nabout $900 \nfor it.\nNew line.") == (
        "I would need about $900 for it.\nNew line."
    )


def test_delsp_removes_the_space_the_client_added() -> None:
    assert unflow("wonder \nful $1,2 \n00 deal", delete_space=True) == "wonderful $1,200 deal"


def test_quote_depths_flow_separately_and_stuffing_is_removed() -> None:
    text = "> our offer \n> is $700\n>> older \n>> text\n From the top\n"
    assert unflow(text) == "> our offer is $700\n>> older text\nFrom the top\n"


def test_the_signature_separator_never_flows() -> None:
    assert unflow("Deal.\n-- \nJess") == "Deal.\n-- \nJess"


def test_parse_message_unflows_only_when_the_part_says_so() -> None:
    body = "Could you do \n$1,400 for the \nreel?\n\nOn Mon, Alex <a@x.test> wrote:\n> $700\n"
    flowed = parse_message(_message(body, "; format=flowed")).text_body
    fixed = parse_message(_message(body, "")).text_body
    assert flowed.startswith("Could you do $1,400 for the reel?\n")
    assert fixed.startswith("Could you do \n$1,400 for the \nreel?")
    assert read_reply(flowed).proposed_rate == read_reply(fixed).proposed_rate


def test_delsp_yes_through_parse_message_joins_a_split_amount() -> None:
    body = "Happy to go ahead at $1,2 \n00 for the package.\n"
    text = parse_message(_message(body, "; format=flowed; delsp=yes")).text_body
    assert text.startswith("Happy to go ahead at $1,200 for the package.")
    assert str(read_reply(text).proposed_rate) == "1200"


def test_html_blockquote_becomes_quoted_lines() -> None:
    text = html_to_text(
        "<p>Sounds good!</p><blockquote>We offer $700<blockquote>x</blockquote></blockquote>"
    )
    assert text.splitlines() == ["Sounds good!", "", "> We offer $700", ">> x"]
    assert read_reply(text).intent is Intent.ACCEPT and read_reply(text).proposed_rate is None


def test_the_private_quote_marker_in_hostile_html_is_dropped() -> None:
    assert html_to_text("<p>\ue000\ue000Deal</p>") == "Deal"
