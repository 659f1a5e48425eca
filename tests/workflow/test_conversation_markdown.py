"""The conversation markdown the Dagster UI shows: an email's lines stay lines."""

from __future__ import annotations

from datetime import UTC, datetime

from negotiation_pipeline.workflow.conversations import (
    Conversation,
    ConversationEmail,
    conversation_markdown,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _conversation(text: str) -> Conversation:
    email = ConversationEmail(AT, "in", "Re: Collab", text, "counter at $900", "processed")
    return Conversation(
        "t-1", "cmp-1", "Lumen", "Maya Chen", "maya@x.test", "counter_sent", (email,)
    )


def test_each_line_of_an_email_ends_in_a_hard_break_inside_the_quote() -> None:
    markdown = conversation_markdown(_conversation("Hi there,\nI can do $900.\n\nBest,\nMaya"))

    quote = markdown[markdown.index("> Hi there") :]
    assert quote.split("\n") == [
        "> Hi there,  ",
        "> I can do $900.  ",
        ">",
        "> Best,  ",
        "> Maya  ",
    ]


def test_markup_at_a_line_start_is_still_shown_as_typed() -> None:
    markdown = conversation_markdown(_conversation("# Not a heading\n| not | a table |"))

    assert "> \\# Not a heading  " in markdown
    assert "> \\| not \\| a table \\|  " in markdown
