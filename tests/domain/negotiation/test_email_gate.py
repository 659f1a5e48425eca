"""Validation gate: valid emails from every template pass; tampered ones fail with a reason."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from negotiation_pipeline.domain.enums import CounterpartyType, UsageRightsDuration
from negotiation_pipeline.domain.negotiation.email_gate import money_mentions, validate_email
from negotiation_pipeline.domain.negotiation.emails import EmailKind, OutgoingEmail
from negotiation_pipeline.domain.negotiation.policy import Lever, QuestionTopic
from tests.domain.negotiation.engine_support import engine_config
from tests.domain.negotiation.test_emails import decision

ALL_TOPICS = tuple(QuestionTopic)


def _render(kind: EmailKind, **changes: object) -> tuple[OutgoingEmail, object]:
    d = decision(kind, **changes)
    return engine_config().templates.render(d), d


VALID_CASES = [
    *[(kind, {}) for kind in EmailKind],
    *[
        (kind, {"counterparty": CounterpartyType.TALENT_MANAGER, "greeting_name": "Jordan"})
        for kind in EmailKind
    ],
    (
        EmailKind.LEVER,
        {
            "lever": Lever.PRODUCT,
            "product_description": "the serum set",
            "product_value": Decimal("120"),
        },
    ),
    (EmailKind.LEVER, {"lever": Lever.USAGE_RIGHTS, "usage_rights": UsageRightsDuration.DAYS_30}),
    (
        EmailKind.ANSWER,
        {"topics": ALL_TOPICS, "product_description": "a kit", "product_value": Decimal("60")},
    ),
    (EmailKind.ANSWER, {"topics": ALL_TOPICS, "exclusivity_required": True}),
    (EmailKind.AGREEMENT, {"usage_rights": UsageRightsDuration.NOT_REQUIRED}),
    (EmailKind.OPENING, {"usage_rights": UsageRightsDuration.PERPETUAL}),
]


@pytest.mark.parametrize(("kind", "changes"), VALID_CASES)
def test_valid_emails_from_every_template_pass(kind: EmailKind, changes: dict[str, object]) -> None:
    email, d = _render(kind, **changes)
    result = validate_email(email, d)  # type: ignore[arg-type]
    assert result.passed, result.failures


def _tampered(body_change: tuple[str, str], kind: EmailKind = EmailKind.COUNTER) -> list[str]:
    email, d = _render(kind)
    old, new = body_change
    assert old in email.body, "tampering target missing: the test would prove nothing"
    forged = replace(email, body=email.body.replace(old, new, 1))
    result = validate_email(forged, d)  # type: ignore[arg-type]
    assert not result.passed
    return list(result.failures)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("$1,250.00 (your", "$1,350.00 (your"), "amount $1,350.00"),
        (("moved up to $1,250.00", "moved up to 1,400 dollars"), "amount $1,400.00"),
        (("moved up to $1,250.00", "moved up to €1,250"), "other than USD"),
        (("Hi Jane,", "Hi Janet,"), "greeting"),
        (("Hi Jane,", "Hi Bob,"), "greeting"),
        (("Let me know", "This is an exclusive deal. Let me know"), "exclusivity"),
        (("Let me know", "We'd love future campaigns together. Let me know"), "future"),
        (("Let me know", "We guarantee more work. Let me know"), "guarantee"),
        (("Usage rights: 90 days", "Usage rights: 1 year"), "usage rights beyond"),
        (("Usage rights: 90 days", "Usage rights: in perpetuity"), "perpetu"),
        (("- 1 TikTok story\n", ""), "deliverable '1 TikTok story'"),
    ],
)
def test_tampering_fails(change: tuple[str, str], expected: str) -> None:
    failures = _tampered(change)
    assert any(expected in failure for failure in failures), failures


def test_our_rate_must_appear_and_body_must_not_be_trivial() -> None:
    email, d = _render(EmailKind.FOLLOW_UP)
    stub = replace(email, body="Hi Jane,\nFollowing up.\n")
    failures = validate_email(stub, d).failures  # type: ignore[arg-type]
    assert any("shorter than" in f for f in failures)
    assert any("$1,250.00 is missing" in f for f in failures)


def test_their_ask_is_allowed_only_where_templates_show_it() -> None:
    email, d = _render(EmailKind.FOLLOW_UP)
    forged = replace(email, body=email.body + "\nYour ask was $1,500.00.\n")
    assert not validate_email(forged, d).passed  # type: ignore[arg-type]


def test_exclusivity_is_fine_when_the_campaign_requires_it() -> None:
    email, d = _render(EmailKind.COUNTER, exclusivity_required=True)
    forged = replace(email, body=email.body + "\nExclusivity applies for 30 days.\n")
    assert validate_email(forged, d).passed  # type: ignore[arg-type]


def test_subject_injection_fails() -> None:
    email, d = _render(EmailKind.COUNTER)
    assert not validate_email(replace(email, subject="Hi\nBcc: x@y.z"), d).passed  # type: ignore[arg-type]


def test_money_mentions_reads_every_written_form() -> None:
    text = "$1,500.00, 1.5k USD, USD 3,250, 1500 dollars, €900, £700, May 1, 2026, $2k"
    assert money_mentions(text) == [
        (Decimal("1500.00"), True),
        (Decimal("1500.00"), True),
        (Decimal("3250.00"), True),
        (Decimal("1500.00"), True),
        (Decimal("900.00"), False),
        (Decimal("700.00"), False),
        (Decimal("2000.00"), True),
    ]


# re.IGNORECASE also equates "ſ" with "s", "ı"/"İ" with "i" and the Kelvin sign with "k": the
# cheap substring tests that skip a pattern must never skip one of these spellings.
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("moved up to $1,250.00", "moved up to 1,300 Uſd"), "amount $1,300.00"),
        (("moved up to $1,250.00", "moved up to $1,250.00 or $2K"), "amount $2,000.00"),
        (("Let me know", "This is an EXCLUſIVE deal. Let me know"), "exclusivity"),
        (("Let me know", "I promıse more. Let me know"), "future"),
        (("Usage rights: 90 days", "Uſage rights: 1 year"), "usage rights beyond"),
        (("Usage rights: 90 days", "Usage rights: forever"), "perpetual"),
    ],
)
def test_case_folded_spellings_are_caught(change: tuple[str, str], expected: str) -> None:
    failures = _tampered(change)
    assert any(expected in failure for failure in failures), failures


def test_money_mentions_reads_folded_currency_words() -> None:
    assert money_mentions("uſd 1,200 and 300 ſomething, 2 doLLarſ") == [
        (Decimal("1200.00"), True),
        (Decimal("2.00"), True),
    ]


_ONE_PATTERN = re.compile(  # every currency form in one pattern: slow, obviously complete
    r"(?P<cur>US\$|\$|€|£|\b(?:USD|EUR|GBP))[ \t]?(?P<num>\d[\d,]*(?:\.\d+)?)"
    r"(?P<k>[ \t]?[kK](?![a-zA-Z]))?",
    re.IGNORECASE,
)
_AFTER = re.compile(
    r"(?P<num>\d[\d,]*(?:\.\d+)?)(?P<k>[ \t]?[kK])?[ \t]?"
    r"(?P<cur>USD|EUR|GBP|dollars?|euros?|pounds?|bucks)\b",
    re.IGNORECASE,
)


def _reference_mentions(text: str) -> list[tuple[Decimal, bool]]:
    found: dict[int, tuple[Decimal, bool]] = {}
    for pattern in (_ONE_PATTERN, _AFTER):
        for m in pattern.finditer(text):
            number = Decimal(m.group("num").replace(",", "")) if m.group("num") else None
            if number is None or m.start("num") in found:
                continue
            if m.group("k") and m.group("k").strip():
                number *= 1000
            usd = m.group("cur").lower() not in {"€", "£", "eur", "gbp", "euro", "euros"} | {
                "pound",
                "pounds",
            }
            # Money rounds half up to cents ("$3.525" is $3.53), not to the even cent.
            found[m.start("num")] = (number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), usd)
    return [found[start] for start in sorted(found)]


_PIECES = st.sampled_from(
    [
        "$", "US$", "€", "£", "USD", "usd", "Eur", "GBP", "uſd", "dollars", "euro", "pounds",
        "bucks", "k", "K", "K", " ", "\t", "\n", "1", "25", "1,500", "3.5", ".", ",", "x", "Jane",
        "ı", "İ", "ſ", "day", "—", "é",
    ]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=14).map("".join))
@example("$3.525")  # half a cent: rounds up
def test_money_mentions_agree_with_one_plain_pattern(text: str) -> None:
    try:
        expected = _reference_mentions(text)
    except InvalidOperation:
        return  # not a number the gate could read either
    assert money_mentions(text) == expected
