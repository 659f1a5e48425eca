"""Return dates read from out-of-office notices (domain/auto_reply.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from negotiation_pipeline.domain.reading.auto_reply import (
    Reach,
    add_business_days,
    find_return_date,
    follow_up_not_before,
    looks_like_absence_notice,
)

# A Wednesday.
SENT = date(2026, 12, 2)
DEC = lambda day: date(2026, 12, day)  # noqa: E731

FOUND = [
    # English, many layouts
    ("I'm out of the office and back on Monday 14 December.", DEC(14)),
    ("Thank you for your email. I am returning 12/14 and will reply then.", DEC(14)),
    ("I'll be back on the 3rd.", DEC(3)),
    ("I'll be back on the 1st.", date(2027, 1, 1)),
    ("I am on vacation until January 5th with limited access to email.", date(2027, 1, 5)),
    ("Back on Monday, December 14th, 2026.", DEC(14)),
    ("Returning December 14.", DEC(14)),
    ("I'll be back in the office on Tuesday, Dec. 15", DEC(15)),
    ("Out of office. Back on 2026-12-14.", DEC(14)),
    ("I'm away, back Monday.", DEC(7)),
    ("Back in the office on Monday the 14th.", DEC(14)),  # the weekday only decorates
    ("Zurück am Montag, 14.12.", DEC(14)),
    ("Je serai de retour lundi le 14.", DEC(14)),
    ("Out today, back tomorrow.", DEC(3)),
    ("I won't be back until the 14th.", DEC(14)),
    ("I'm on leave from 1 December to 14 December.", DEC(14)),
    ("I'll be out of office Dec 10 through Dec 18", DEC(18)),
    ("Away Dec 1-14, limited email.", DEC(14)),
    ("Back 12/10.", DEC(10)),  # 10 Dec (month first) is near; 12 Oct is months away
    ("Back 05/12.", DEC(5)),  # 5 Dec (day first) is near; 12 May is months away
    ("I will be back on 14/12/2026.", DEC(14)),
    # Return cues win over until cues; "until Friday, back Monday" agree on Monday.
    (
        "I am out of the office until Friday 11 December and will be back on Monday 14 December.",
        DEC(14),
    ),
    ("I'm out until Monday 14 December, back on the 15th.", DEC(15)),
    # German
    ("Vielen Dank für Ihre Nachricht. Ich bin zurück am 14.12.", DEC(14)),
    (
        "Ich bin bis einschließlich 14.12. nicht im Büro. Ab dem 15.12. bin ich wieder erreichbar.",
        DEC(15),
    ),
    ("Ich bin vom 1. bis 14. Dezember im Urlaub.", DEC(14)),
    ("Zurück am Montag, 14. Dezember 2026", DEC(14)),
    ("Ab morgen bin ich wieder im Büro.", DEC(3)),
    # French
    ("Je suis absente. Je serai de retour le 14 décembre.", DEC(14)),
    ("Je suis en congés du 1er au 14 décembre.", DEC(14)),
    ("Je ne serai pas disponible jusqu'au 14 décembre.", DEC(14)),
    # Spanish, Portuguese, Italian, Dutch, Japanese
    ("Estoy fuera de la oficina. Estaré de vuelta el 14 de diciembre.", DEC(14)),
    ("Estoy de vacaciones del 1 al 14 de diciembre.", DEC(14)),
    ("Estou de férias até 14 de dezembro.", DEC(14)),
    ("Sono fuori ufficio fino al 14 dicembre.", DEC(14)),
    ("Ik ben afwezig tot en met 14 december.", DEC(14)),
    ("12月14日まで不在です。", DEC(14)),
    ("12月15日に戻ります。", DEC(15)),
    # Two languages in one notice, the same date
    ("Ich bin bis 14.12. nicht im Büro. I am out of office until 14 December.", DEC(14)),
]

NOT_FOUND = [
    "I am out of the office.",
    "Back soon!",
    "I'm back next week.",
    "I'm back on 14 December 2024.",  # in the past: an old notice left on
    "I'm back 03/04.",  # 3 April or 4 March: both months away, neither believable
    "I'm out with limited access. For urgent requests call +49 30 1234 5678.",
    # Two different return dates: ambiguous
    "I'm back on Monday 7 December. I return on 14 December.",
    "",
]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_return_date_is_found(text: str, expected: date) -> None:
    found = find_return_date(text, SENT)
    assert found is not None, text
    assert found.back_on == expected


@pytest.mark.parametrize("text", NOT_FOUND)
def test_no_believable_return_date(text: str) -> None:
    found = find_return_date(text, SENT)
    assert found is None, (text, found)


def test_no_year_means_the_next_such_date_on_or_after_the_notice() -> None:
    back = find_return_date("Back on 5 January.", date(2026, 12, 20))
    assert back is not None and back.back_on == date(2027, 1, 5)
    today = find_return_date("Back on 2 December.", SENT)
    assert today is not None and today.back_on == SENT
    # A date that already passed this year would be next year: far too far, an old notice.
    assert find_return_date("Back on 14 December.", date(2026, 12, 20)) is None


def test_a_weekday_is_the_next_one_after_the_notice() -> None:
    monday = date(2026, 12, 7)
    found = find_return_date("Back on Monday.", monday)
    assert found is not None and found.back_on == date(2026, 12, 14)  # not "today"
    friday = find_return_date("I'm back Friday.", SENT)
    assert friday is not None and friday.back_on == date(2026, 12, 4)


def test_the_weekday_picks_the_year_of_a_date_without_one() -> None:
    # 5 January is a Tuesday in 2027; named with its weekday from a notice in late December.
    found = find_return_date("Back on Tuesday 5 January.", date(2026, 12, 28))
    assert found is not None and found.back_on == date(2027, 1, 5)


def test_a_return_date_far_ahead_is_not_believed() -> None:
    assert find_return_date("Back on 1 May 2027.", SENT) is None  # 150 days
    found = find_return_date("Back on 1 May 2027.", SENT, max_days=200)
    assert found is not None and found.back_on == date(2027, 5, 1)


def test_what_the_date_says_and_the_phrase_it_came_from() -> None:
    back = find_return_date("Thanks! I'll be back on Monday 14 December.", SENT)
    until = find_return_date("Out of office until 14.12.", SENT)
    assert back is not None and back.reach is Reach.RETURN
    assert "back on monday 14 december" in back.phrase
    assert until is not None and until.reach is Reach.UNTIL
    assert until.phrase == "until 14.12."


def test_numbers_that_are_not_dates_near_a_cue_are_ignored() -> None:
    assert find_return_date("I'll be back at 14.30 Uhr.", SENT) is None
    assert find_return_date("Available until 5pm for calls.", SENT) is None
    assert find_return_date("Back with 1.5k new followers!", SENT) is None


def test_the_notice_datetime_may_be_passed_directly() -> None:
    moment = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    found = find_return_date("Back on Friday.", moment)
    assert found is not None and found.back_on == date(2026, 12, 4)


def test_business_days_skip_the_weekend() -> None:
    friday = date(2026, 12, 11)
    assert add_business_days(friday, 1) == date(2026, 12, 14)
    assert add_business_days(friday, 0) == friday
    assert add_business_days(date(2026, 12, 12), 1) == date(2026, 12, 14)  # from a Saturday
    assert add_business_days(date(2026, 12, 14), 3) == date(2026, 12, 17)


def test_follow_up_waits_until_the_start_of_the_day_in_the_senders_zone() -> None:
    berlin = timezone(timedelta(hours=1))
    moment = follow_up_not_before(date(2026, 12, 14), 1, berlin)
    assert moment == datetime(2026, 12, 15, 0, 0, tzinfo=berlin)
    assert moment.astimezone(UTC) == datetime(2026, 12, 14, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, I'm currently out of the office until Monday.", True),
        ("Ich bin derzeit abwesend.", True),
        ("Je suis en congés jusqu'au 4 janvier.", True),
        ("Estoy de vacaciones.", True),
        ("Sounds good, $900 works for me.", False),
        ("Could you tell me more about the usage rights?", False),
    ],
)
def test_absence_phrases(text: str, expected: bool) -> None:
    assert looks_like_absence_notice(text) is expected
