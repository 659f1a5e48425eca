"""Emails a good negotiator would send: no paragraph twice in a thread, one natural Payment line,
true budget wording, possessives, the display name for To:, only the questions asked (each
answered), and amounts on the rounding step (the gate refuses anything else)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from negotiation_pipeline.domain.enums import CounterpartyType, Intent
from negotiation_pipeline.domain.negotiation.decisions import asked_topics, question_sentences
from negotiation_pipeline.domain.negotiation.email_gate import validate_email
from negotiation_pipeline.domain.negotiation.emails import (
    EmailKind,
    paragraph_fingerprints,
    possessive,
)
from negotiation_pipeline.domain.negotiation.policy import Lever, QuestionTopic
from tests.domain.negotiation.engine_support import (
    engine_config,
    make_campaign,
    opened,
    reading,
    reply,
)
from tests.domain.negotiation.test_emails import decision

T = QuestionTopic
MANAGER = {"counterparty": CounterpartyType.TALENT_MANAGER, "greeting_name": "Jordan"}


@pytest.mark.parametrize("who", [{}, MANAGER], ids=["direct", "manager"])
@pytest.mark.parametrize("kind", [EmailKind.COUNTER, EmailKind.LEVER, EmailKind.ANSWER])
def test_a_thread_of_emails_never_repeats_a_paragraph_and_every_one_passes_the_gate(
    kind: EmailKind, who: dict[str, object]
) -> None:
    said: frozenset[str] = frozenset()
    seen: set[str] = set()
    for number in range(5):  # at most max_rounds emails of one kind
        d = decision(
            kind,
            rate=Decimal(1250 + 5 * number),
            said=said,
            topics=(T.PAYMENT,) if kind is EmailKind.ANSWER else (),
            **who,
        )
        if kind is EmailKind.LEVER:
            d = replace(d, lever=(Lever.SCENARIO_2, Lever.USAGE_RIGHTS, Lever.PRODUCT)[number % 3])
        email = engine_config().templates.render(d)
        result = validate_email(email, d)
        assert result.passed, (number, result.failures)
        paragraphs = set(paragraph_fingerprints(email.body))
        assert not paragraphs & seen, f"email {number} repeats a paragraph"
        seen |= paragraphs
        said = said | frozenset(email.said)


def test_the_gate_refuses_a_paragraph_said_before() -> None:
    first = engine_config().templates.render(decision(EmailKind.ANSWER, topics=(T.PAYMENT,)))
    again = decision(
        EmailKind.ANSWER,
        topics=(T.PAYMENT,),
        said=frozenset(first.said) - {s for s in first.said if s.startswith("v:")},
    )  # the variants are forgotten, the paragraphs are not: the same text comes out
    email = engine_config().templates.render(again)
    result = validate_email(email, again)
    assert not result.passed
    assert any("repeat an earlier email" in f for f in result.failures)


def test_an_unrounded_rate_of_ours_fails_the_gate() -> None:
    d = decision(EmailKind.COUNTER, rate=Decimal("1209.60"), rounding_step=Decimal(5))
    result = validate_email(engine_config().templates.render(d), d)
    assert any("not rounded to the $5.00 step" in f for f in result.failures)
    ok = replace(d, rate=Decimal("1205.00"))
    assert validate_email(engine_config().templates.render(ok), ok).passed


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Tidewater Outfitters", "Tidewater Outfitters'"),
        ("Glow Labs", "Glow Labs'"),
        ("Jane", "Jane's"),
        ("Oat & Honey", "Oat & Honey's"),
    ],
)
def test_possessives(name: str, expected: str) -> None:
    assert possessive(name) == expected


def test_agreement_uses_the_right_possessive_and_one_payment_line() -> None:
    d = decision(EmailKind.AGREEMENT, client_name="Tidewater Outfitters")
    body = engine_config().templates.render(d).body
    assert "Tidewater Outfitters' brand guidelines" in body and "Outfitters's" not in body
    assert body.count("Payment:") == 1


@pytest.mark.parametrize("kind", [EmailKind.OPENING, EmailKind.COUNTER, EmailKind.ANSWER])
def test_payment_is_stated_at_most_once_and_reads_naturally(kind: EmailKind) -> None:
    config = engine_config()
    d = decision(kind, topics=(T.PAYMENT,), payment_terms=config.policy.payment_terms)
    body = config.templates.render(d).body
    assert body.count("Payment:") == 1
    assert "Payment: by bank transfer within 30 days" in body
    assert "Payment: Net 30:" not in body


def test_budget_wording_is_per_creator_never_the_campaign_total() -> None:
    for kind, extra in (
        (EmailKind.COUNTER, {"final_offer": True}),
        (EmailKind.LEVER, {}),
        (EmailKind.EXIT, {}),
    ):
        body = engine_config().templates.render(decision(kind, **extra)).body
        assert "campaign budget" not in body
        assert "set aside per creator" in body


def test_to_display_name_is_the_influencer_then_whoever_signed_the_reply() -> None:
    first = opened()
    assert first.email is not None and first.email.to_name == "Jane Doe"
    manager = reply(
        first.negotiation,
        reading(Intent.COUNTER, "1500"),
        sender="Jordan Miles <jordan@brightlinetalent.com>",
        text="We would need $1,500.\n\nBest,\nJordan Miles\nTalent Manager | Brightline Talent",
    )
    assert manager.email is not None
    assert (manager.email.to, manager.email.to_name) == (
        "jordan@brightlinetalent.com",
        "Jordan Miles",
    )
    bare = reply(first.negotiation, reading(Intent.COUNTER, "1500"), sender="jane@gmail.com")
    assert bare.email is not None and bare.email.to_name == "Jane Doe"  # the roster name


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        # a statement that mentions posts and "when" is not a question
        ("When I post Stories I usually charge $900. I'd need $1,500 here.", ()),
        ("What are the payment terms and when does it go live?", (T.TIMELINE, T.PAYMENT)),
        (
            "Love it! How long are the usage rights? Also, can I work with other brands?",
            (T.USAGE_RIGHTS, T.EXCLUSIVITY),
        ),
        ("Could you let me know how many revisions there are", (T.APPROVAL,)),
    ],
)
def test_only_questions_asked_are_answered(text: str, topics: tuple[QuestionTopic, ...]) -> None:
    assert asked_topics(text, engine_config().policy) == topics


def test_a_two_part_question_gets_two_full_answers_in_a_counter() -> None:
    text = "I'd need $1,500. What are the payment terms, and when would it go live?"
    outcome = reply(opened().negotiation, reading(Intent.COUNTER, "1500", text=text))
    assert outcome.action.value == "send_counter" and outcome.email is not None
    body = outcome.email.body
    assert "- Payment: by bank transfer within 30 days" in body
    assert "- Timing: the content goes live on April 20, 2026." in body
    assert "Usage rights: Glow Labs may reuse" not in body  # not asked


def test_a_counter_with_no_question_has_no_answers_section() -> None:
    text = "When I post for brands my rate is higher, but I could do $1,500 for you."
    outcome = reply(opened().negotiation, reading(Intent.COUNTER, "1500", text=text))
    assert outcome.email is not None
    assert "question" not in outcome.email.body.lower()
    assert question_sentences(text) == []


def test_follow_up_restates_the_offer_in_one_sentence() -> None:
    from datetime import timedelta

    from negotiation_pipeline.domain.negotiation.follow_up import follow_up_due
    from tests.domain.negotiation.engine_support import NOW

    n = opened().negotiation
    nudge = follow_up_due(n, NOW + timedelta(days=3), make_campaign(), engine_config())
    assert nudge is not None and nudge.email is not None
    assert (
        "Our offer of $1,000.00 for 1 Instagram Reel, 3 Instagram Stories, with 90 days of usage "
        "rights, still stands." in nudge.email.body
    )
    assert nudge.gate is not None and nudge.gate.passed
