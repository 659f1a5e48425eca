"""Secret redaction: URL userinfo, query and fragment values, secret-shaped tokens; idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from negotiation_pipeline.domain.redaction import redact_data, redact_text, redact_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://sheets.example.com/export?format=csv&key=SECRETKEY",
            "https://sheets.example.com/export?format=***&key=***",
        ),
        ("https://user:hunter2@host.example/r.csv", "https://***@host.example/r.csv"),
        ("postgresql://app:pw@db:5432/negotiation", "postgresql://***@db:5432/negotiation"),
        ("https://host/x#access_token=abc123", "https://host/x#access_token=***"),
        ("https://host/x?bare-token-value", "https://host/x?***"),
        ("https://host/plain/path.csv", "https://host/plain/path.csv"),
        (
            "https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/***",
        ),
        ("https://[::1]:8443/a?k=v", "https://[::1]:8443/a?k=***"),
    ],
)
def test_url_parts_are_redacted(text: str, expected: str) -> None:
    assert redact_url(text) == expected


def test_urls_inside_free_text_keep_the_surrounding_words_and_punctuation() -> None:
    message = (
        "Client error '404 Not Found' for url 'https://x.example/r.csv?key=S3CR3T'\n"
        "see (https://a.example/p?sig=abc). Also http://u:p@b.example/q?t=1, done"
    )
    assert redact_text(message) == (
        "Client error '404 Not Found' for url 'https://x.example/r.csv?key=***'\n"
        "see (https://a.example/p?sig=***). Also http://***@b.example/q?t=***, done"
    )


def test_slack_link_syntax_keeps_its_label() -> None:
    assert redact_text("<https://h.example/run?id=7|Open the run>") == (
        "<https://h.example/run?id=***|Open the run>"
    )


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("token pk_81234567_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 refused", "ABCDEFGHIJKLMNOP"),
        ("bot xoxb-1234567890-0987654321-AbCdEfGhIjKl failed", "AbCdEfGhIjKl"),
        ("app xapp-1-A0123-456-abcdef0123 failed", "abcdef0123"),
        ("posting to hooks.slack.com/services/T1/B2/sEcReTpath failed", "sEcReTpath"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("host=db user=app password=hunter2 dbname=n", "hunter2"),
        ("api_key: 0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_secret_shaped_tokens_are_redacted(text: str, secret: str) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert "***" in redacted


def test_ordinary_operator_text_is_left_alone() -> None:
    text = (
        "ClickUp api.clickup.com answered HTTP 401: Token invalid (ECODE OAUTH_025); "
        "SQLite database /var/lib/n.db is locked; reply from jane@example.com"
    )
    assert redact_text(text) == text


def test_data_structures_are_redacted_recursively_and_other_values_kept() -> None:
    data = {
        "error": "GET https://h.example/x?key=K failed",
        "nested": [{"url": "https://u:p@h.example/"}, ("https://h.example/?a=b",)],
        "amount": Decimal("12.50"),
        "count": 3,
        "flag": None,
    }
    assert redact_data(data) == {
        "error": "GET https://h.example/x?key=*** failed",
        "nested": [{"url": "https://***@h.example/"}, ("https://h.example/?a=***",)],
        "amount": Decimal("12.50"),
        "count": 3,
        "flag": None,
    }


@given(st.text(max_size=300))
def test_redaction_is_idempotent_and_never_raises(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


@given(
    st.text(alphabet=st.characters(categories=("L", "N")), min_size=6, max_size=30),
    st.sampled_from(["key", "token", "sig", "x"]),
)
def test_no_query_value_survives(secret: str, name: str) -> None:
    text = f"fetching https://h.example/path?{name}={secret}&other=1 failed"
    assert f"={secret}" not in redact_text(text)
