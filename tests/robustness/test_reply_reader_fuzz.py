"""Fuzzing the reply reader: arbitrary unicode, huge bodies, deeply nested quoting.

Claims:
- `read_reply` on any text, with any threshold and any `our_offer`, returns a well-formed
  `ReplyReading`: an Intent, a confidence in [0, 1], a Decimal rate (rounding to cents) with its
  currency or neither, new text that is a stripped piece of the body; below the threshold the
  intent is UNCLEAR.
- Amounts that only appear in quoted history are never the proposed rate.
- What the reader returns never crashes the engine: `handle_reply` decides on every fuzzed
  reply (sent, escalated, agreed or rejected), with money still Decimal.
- Huge bodies are read (regressions, both quadratic: 8,000 blank lines took 3 s in the quote
  detector; 50,000 "1k"s took over two minutes in the amount overlap check).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.domain.money import format_usd
from negotiation_pipeline.domain.negotiation.engine import Outcome
from negotiation_pipeline.domain.reading.reader import ReplyReading
from tests.domain.negotiation.engine_support import opened, reply
from tests.support.reading import read_reply

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PIECES = [
    "Sounds good", "$1,500", "1.5k", "€900", "£700", "USD 3,250", "could you do", "how about",
    "not interested", "but", "?", "!", ".", "\n", "\r\n", "\n\n", ">", "> > >", "On Mon, Mar 2, "
    "2026 at 10:12 AM Jordan <j@x.test> wrote:", "wrote:", "From: Jordan", "Sent: Monday",
    "-- ", "—", "-----Original Message-----", "Sent from my iPhone", "Best,", "Thanks!",
    "(310) 555-0147", "120k followers", "March 3", "50%", "👍", "👎", "🎉", "\u200b", "\ufeff",
    "\x00", "\u202e", "ǅ", "İ", "ß", "ﬃ", "١٢٣", "１２００", "let me think", "deal", "no",
    "where do I send my invoice?", "what are the next steps?", "usage rights", "if", "not",
]  # fmt: skip
body_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=40).map(" ".join),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
)
offers = st.one_of(st.none(), st.decimals(min_value=1, max_value=10**7, places=2))


def assert_well_formed(body: str, reading: ReplyReading, threshold: float) -> None:
    assert isinstance(reading, ReplyReading)
    assert isinstance(reading.intent, Intent)
    assert isinstance(reading.confidence, float) and 0.0 <= reading.confidence <= 1.0
    if reading.confidence < threshold:
        assert reading.intent is Intent.UNCLEAR
    if reading.proposed_rate is None:
        assert reading.currency is None
    else:
        assert type(reading.proposed_rate) is Decimal and reading.proposed_rate > 0
        assert format_usd(reading.proposed_rate).startswith("$")
        assert reading.currency in {"USD", "EUR", "GBP", "CAD", "AUD"}
    assert reading.new_text == reading.new_text.strip()
    assert len(reading.new_text) <= len(body)


@FUZZ
@given(body_text, st.floats(0.0, 1.0), offers)
def test_any_body_gives_a_well_formed_reading(
    body: str, threshold: float, our_offer: Decimal | None
) -> None:
    reading = read_reply(body, confidence_threshold=threshold, our_offer=our_offer)
    assert_well_formed(body, reading, threshold)


@st.composite
def nested_quotes(draw: st.DrawFn) -> tuple[str, str]:
    """New text, then history quoted `depth` times with an amount in every level."""
    new = draw(st.sampled_from(["Sounds good!", "Not interested.", "What are the usage rights?"]))
    depth = draw(st.integers(1, 60))
    marker = draw(st.sampled_from([">", "> ", ">>", "| "]))
    history = "\n".join(f"{marker * level} we offer ${level * 111:,}" for level in range(depth))
    header = draw(
        st.sampled_from(
            ["On Mon, Mar 2, 2026 at 9:00 AM Alex <a@x.test> wrote:", "-----Original Message-----"]
        )
    )
    return new, f"{new}\n\n{header}\n{history}\n"


@FUZZ
@given(nested_quotes())
def test_nested_quoted_history_never_supplies_the_rate(case: tuple[str, str]) -> None:
    new, body = case
    reading = read_reply(body)
    assert_well_formed(body, reading, 0.7)
    assert reading.new_text == new
    assert reading.proposed_rate is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body_text)
def test_the_engine_decides_on_every_fuzzed_reply(body: str) -> None:
    negotiation = opened().negotiation
    reading = read_reply(body, our_offer=negotiation.our_last_offer)
    outcome = reply(negotiation, reading, text=body)
    assert isinstance(outcome, Outcome)
    assert outcome.negotiation.replies_received == 1
    for amount in (outcome.negotiation.our_last_offer, outcome.negotiation.agreed_rate):
        assert amount is None or type(amount) is Decimal


# --- huge inputs -------------------------------------------------------------------------------
HUGE = {
    "blank-lines": "\n" * 200_000,
    "k-amounts": "1k " * 25_000,
    "dollar-amounts": "$1,500 " * 15_000,
    "digits": "1" * 200_000,
    "spaces": " " * 200_000,
    "quote-markers": ">" * 200_000 + " hi",
    "attribution-lookalikes": "On Mon, Mar 2, 2026 at 10:12 AM x <y@z>\n" * 5_000,
    "from-lines": "From: a\n" * 20_000,
    "questions": "what are the usage rights? " * 8_000,
    "one-line-mix": " ".join(PIECES) * 400,
}


@pytest.mark.parametrize("body", HUGE.values(), ids=HUGE.keys())
def test_huge_bodies_are_read(body: str) -> None:
    """No timed assert (speed is measured in bench/), but sized so that the quadratic
    regressions would take minutes here and show at the top of `pytest --durations`."""
    assert_well_formed(body, read_reply(body), 0.7)
