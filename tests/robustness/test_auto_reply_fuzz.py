"""Fuzzing the out-of-office return-date parser: any text, any notice date.

Claims:
- `find_return_date` never raises; a date it returns lies between the notice's date and
  `max_days` after it, with a non-empty phrase.
- Long adversarial bodies (thousands of date-like fragments, cues without dates) are read in
  one pass: the text scanned is capped, and no pattern backtracks across it.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation_pipeline.domain.reading.auto_reply import (
    find_return_date,
    looks_like_absence_notice,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PIECES = [
    "back on", "returning", "until", "bis", "zurück am", "de retour le", "de vuelta el", "hasta",
    "jusqu'au", "fino al", "tot en met", "まで", "に戻ります", "from", "to", "-", "–", " ", ",",
    ".", "\n", "!", "?", "not", "won't be", "Monday", "lundi", "Montag", "tomorrow", "morgen",
    "14", "3", "31", "12", "0", "99", "2026", "1999", "14.12.", "12/14", "03/04", "2026-12-14",
    "2026-02-30", "31.02.", "13/13", "December", "Dez", "déc.", "de diciembre", "the 3rd", "1er",
    "12月14日", "2月30日", "1-14", "Dec 1-14", "1.-14.12.", "14:30", "5pm", "$1,500", "1.5k",
    "\u00a0", "\u200b", "İ", "ß", "１４", "\x00",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=40).map("".join)
notice_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@FUZZ
@given(text=texts, sent=notice_days, max_days=st.integers(min_value=1, max_value=366))
def test_any_text_gives_none_or_a_date_inside_the_window(
    text: str, sent: date, max_days: int
) -> None:
    found = find_return_date(text, sent, max_days=max_days)
    if found is not None:
        assert sent <= found.back_on <= sent + timedelta(days=max_days)
        assert found.phrase.strip()
    assert looks_like_absence_notice(text) in (True, False)


def test_long_adversarial_bodies_are_read() -> None:
    sent = date(2026, 12, 2)
    bodies = [
        "1" * 50_000,
        "1-" * 25_000,
        "back on " * 10_000,
        "14.12." * 8_000,
        "12/" * 20_000,
        "until the " * 8_000 + "14th",
        "Monday " * 10_000,
        ("de " * 5_000) + "14 de diciembre",
        "\n" * 50_000 + "back on Monday",
    ]
    for body in bodies:
        found = find_return_date(body, sent)
        assert found is None or sent <= found.back_on
