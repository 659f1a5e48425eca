"""Rendering: every template renders from data, influencer text stays literal, headers are
single lines, money is written one way."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from jinja2.exceptions import SecurityError

from negotiation_pipeline.domain.enums import CounterpartyType, Platform, UsageRightsDuration
from negotiation_pipeline.domain.negotiation.emails import (
    EmailDecision,
    EmailKind,
    EmailTemplates,
    TemplateError,
    split_deliverables,
)
from negotiation_pipeline.domain.negotiation.policy import Lever, QuestionTopic
from negotiation_pipeline.settings.files import packaged_config_dir
from tests.domain.negotiation.engine_support import engine_config

TEMPLATES = packaged_config_dir() / "templates"


def sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.j2")}


def decision(kind: EmailKind = EmailKind.COUNTER, **changes: object) -> EmailDecision:
    base = EmailDecision(
        kind=kind,
        to="jane@gmail.com",
        greeting_name="Jane",
        influencer_name="Jane Doe",
        client_name="Glow Labs",
        platform=Platform.TIKTOK,
        rate=Decimal("1250"),
        their_ask=Decimal("1500") if kind in (EmailKind.COUNTER, EmailKind.LEVER) else None,
        deliverables=("1 TikTok video", "1 TikTok story"),
        usage_rights=UsageRightsDuration.DAYS_90,
        payment_terms="Net 30 after the content goes live.",
        sender_name="Alex Morgan",
        sender_title="Partnerships Manager",
        sender_company="Northbeam",
        min_length=120,
        lever=Lever.SCENARIO_2 if kind is EmailKind.LEVER else None,
        topics=(QuestionTopic.PAYMENT,) if kind is EmailKind.ANSWER else (),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(EmailKind))
def test_every_template_renders_with_money_written_one_way(kind: EmailKind) -> None:
    email = engine_config().templates.render(decision(kind))
    assert email.kind is kind
    assert email.subject and "\n" not in email.subject
    assert email.body.startswith("Hi Jane,")
    assert "Jane" in email.body
    if kind not in (EmailKind.EXIT, EmailKind.DECLINE):  # a goodbye names no price
        assert "$1,250.00" in email.body
    assert "1250" not in email.body.replace("$1,250.00", "")


def test_counter_shows_scope_of_work_with_rate_and_their_ask() -> None:
    body = engine_config().templates.render(decision()).body
    assert (
        "Scope of work:\n- 1 TikTok video\n- 1 TikTok story\n- Usage rights: 90 days\n"
        "- Rate: $1,250.00 (your ask: $1,500.00)\n"
    ) in body


@pytest.mark.parametrize(
    "name", ["{{ 7*7 }} Doe", "{name} Doe", "{% raw %}x{% endraw %} Doe", "${rate} Doe"]
)
def test_influencer_text_is_rendered_literally(name: str) -> None:
    first = name.split()[0]
    email = engine_config().templates.render(decision(influencer_name=name, greeting_name=first))
    assert email.body.startswith(f"Hi {first},")
    assert "49" not in email.body
    assert first in email.subject


def test_manager_display_name_and_agency_are_data_too() -> None:
    email = engine_config().templates.render(
        decision(
            greeting_name="{{ config }}",
            counterparty=CounterpartyType.TALENT_MANAGER,
            agency_name="{% for x in range(3) %}X{% endfor %}",
        )
    )
    assert email.body.startswith("Hi {{ config }},")
    assert "Jane" in email.body


def test_header_values_are_stripped_of_cr_lf() -> None:
    email = engine_config().templates.render(
        decision(
            kind=EmailKind.OPENING,
            to="jane@gmail.com\r\nBcc: victim@example.com",
            influencer_name="Jane\r\nBcc: evil@example.com",
            greeting_name="Jane",
        )
    )
    assert "\r" not in email.to and "\n" not in email.to
    assert "\r" not in email.subject and "\n" not in email.subject
    assert email.to == "jane@gmail.com Bcc: victim@example.com"  # one line, harmless


def test_templates_run_sandboxed() -> None:
    bad = sources()
    bad["follow_up.txt.j2"] = "Subject: x\n\n{{ first_name.__class__.__mro__ }}"
    templates = EmailTemplates.from_sources(bad)
    with pytest.raises(SecurityError):
        templates.render(decision(EmailKind.FOLLOW_UP))


def test_missing_or_broken_templates_are_named() -> None:
    missing = sources()
    del missing["polite_exit.txt.j2"]
    with pytest.raises(TemplateError, match=r"polite_exit\.txt\.j2"):
        EmailTemplates.from_sources(missing)
    broken = sources()
    broken["counter_offer.txt.j2"] = "Subject: x\n\n{% if %}"
    with pytest.raises(TemplateError, match=r"counter_offer\.txt\.j2"):
        EmailTemplates.from_sources(broken)
    no_subject = sources()
    no_subject["follow_up.txt.j2"] = "Hello {{ first_name }}"
    with pytest.raises(TemplateError, match=r"follow_up\.txt\.j2.*Subject"):
        EmailTemplates.from_sources(no_subject)


def test_undefined_variables_fail_loudly() -> None:
    typo = sources()
    typo["follow_up.txt.j2"] = "Subject: x\n\n{{ frist_name }}"
    with pytest.raises(Exception, match="frist_name"):
        EmailTemplates.from_sources(typo).render(decision(EmailKind.FOLLOW_UP))


def test_split_deliverables() -> None:
    assert split_deliverables("1 Reel, 2 Stories; 1 Post") == ("1 Reel", "2 Stories", "1 Post")
    assert split_deliverables("- 1 Reel\n- 2 Stories\n") == ("1 Reel", "2 Stories")
