"""What each outgoing email must say, built from the negotiation record and the campaign.

Also which questions a reply really asks: only sentences that are questions count ("When I post
Stories my rate is $900" names no question), and each topic such a sentence names gets its own
answer, so a two-part question gets two answers.
"""

from __future__ import annotations

import re
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import CounterpartyType
from negotiation_pipeline.domain.negotiation.emails import (
    EmailDecision,
    EmailKind,
    split_deliverables,
)
from negotiation_pipeline.domain.negotiation.policy import (
    Lever,
    LeverState,
    NegotiationPolicy,
    QuestionTopic,
)
from negotiation_pipeline.domain.negotiation.pricing import scenario_text
from negotiation_pipeline.domain.negotiation.record import Negotiation
from negotiation_pipeline.domain.reading.folding import lowered_for_lookup, may_hold_any

# Kinds that state a new amount of ours (the gate checks it is on the rounding step).
NEW_AMOUNT_KINDS = frozenset({EmailKind.OPENING, EmailKind.COUNTER, EmailKind.LEVER})

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# Without a "?", a sentence asks when it is inverted: "what are the terms", "how long is it",
# "could you send", "is there". "When I post Stories I charge more" is no question.
_QUESTION_START = re.compile(
    r"^\s*(?:(?:and|also|so|but|quick question)[,:]?\s+)?(?:"
    r"(?:what|when|where|who|which|why|how)(?:\s+(?:long|many|much|soon|often|exactly))?"
    r"\s+(?:is|are|was|were|do|does|did|will|would|can|could|should|shall|may|might)\b"
    r"|(?:what|when|how)'s\b"
    r"|(?:can|could|would|will|do|does|did|is|are|should|shall|may|might)\s+"
    r"(?:you|we|i|it|there|the|they|this|that|your)\b)",
    re.IGNORECASE,
)
_QUESTION_PHRASE = re.compile(
    r"\b(?:let me know|tell me|wondering|curious|i'd like to know|i would like to know|"
    r"need to know|clarify|confirm whether|confirm if)\b",
    re.IGNORECASE,
)


# A word each phrase above needs (a match holds it, whatever its case).
_QUESTION_PHRASE_WORDS = ("know", "tell me", "wondering", "curious", "clarify", "confirm")


def question_sentences(text: str) -> list[str]:
    """The sentences of `text` that ask something."""
    found = []
    # A sentence is part of the text, so a phrase that the whole text cannot hold is in none.
    phrases = may_hold_any(lowered_for_lookup(text), _QUESTION_PHRASE_WORDS)
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        if not sentence:
            continue
        if (
            sentence.endswith("?")
            or _QUESTION_START.match(sentence)
            or (phrases and _QUESTION_PHRASE.search(sentence))
        ):
            found.append(sentence)
    return found


def asked_topics(text: str, policy: NegotiationPolicy) -> tuple[QuestionTopic, ...]:
    """Topics named in the reply's questions, in the policy's topic order."""
    found: set[QuestionTopic] = set()
    for sentence in question_sentences(text):
        found.update(policy.topics_in(sentence))
    return tuple(t for t in QuestionTopic if t in found)


def answerable(topic: QuestionTopic, campaign: Campaign, policy: NegotiationPolicy) -> bool:
    """Whether the campaign (or policy) holds the fact that answers `topic`."""
    if topic is QuestionTopic.TIMELINE:
        return campaign.publish_date is not None or bool(campaign.timeline)
    if topic is QuestionTopic.PRODUCT:
        return campaign.product.available
    if topic is QuestionTopic.PAYMENT:
        return bool(policy.payment_terms.strip())
    return True  # usage rights, deliverables, exclusivity and approval always have a form value


def deliverables(campaign: Campaign, scenario: int) -> tuple[str, ...]:
    return split_deliverables(scenario_text(campaign, scenario) or campaign.opening_package())


def product_description(campaign: Campaign) -> str:
    return campaign.product.description or f"{campaign.client_name} product"


def recipient_name(negotiation: Negotiation) -> str:
    """Display name for To:: whoever we answer, as they signed their email, else the roster."""
    if negotiation.recipient_name:
        return negotiation.recipient_name
    if negotiation.counterparty_type is CounterpartyType.TALENT_MANAGER:
        return negotiation.counterparty_name or ""
    return negotiation.terms.name


def email_decision(
    kind: EmailKind,
    negotiation: Negotiation,
    campaign: Campaign,
    policy: NegotiationPolicy,
    *,
    rate: Decimal | None,
    their_ask: Decimal | None = None,
    levers: LeverState | None = None,
    lever: Lever | None = None,
    topics: tuple[QuestionTopic, ...] = (),
    final_offer: bool = False,
    offer_moved: bool = True,
    rounding_step: Decimal | None = None,
) -> EmailDecision:
    levers = levers or negotiation.levers
    terms = negotiation.terms
    manager = negotiation.counterparty_type is CounterpartyType.TALENT_MANAGER
    show_product = levers.product_offered or QuestionTopic.PRODUCT in topics
    earlier: tuple[str, ...] = ()
    if lever in (Lever.SCENARIO_2, Lever.SCENARIO_3):
        earlier = deliverables(campaign, negotiation.levers.scenario)
    step = rounding_step if rounding_step is not None else policy.concession.round_to
    return EmailDecision(
        kind=kind,
        to=negotiation.counterparty_email or terms.email,
        greeting_name=(negotiation.counterparty_name if manager else None) or terms.first_name,
        influencer_name=terms.name,
        client_name=campaign.client_name,
        platform=terms.platform,
        rate=rate,
        their_ask=their_ask,
        deliverables=deliverables(campaign, levers.scenario),
        usage_rights=levers.usage(campaign),
        payment_terms=policy.payment_terms,
        sender_name=policy.sender.name,
        sender_title=policy.sender.title,
        sender_company=policy.sender.company,
        min_length=policy.min_email_length,
        counterparty=negotiation.counterparty_type,
        agency_name=negotiation.agency_name,
        lever=lever,
        product_description=product_description(campaign) if show_product else None,
        product_value=campaign.product.value if show_product else None,
        exclusivity_required=campaign.requirements.exclusivity_required,
        content_approval_required=campaign.requirements.content_approval_required,
        revision_rounds=campaign.requirements.revision_rounds,
        publish_date=campaign.publish_date,
        timeline=campaign.timeline,
        topics=topics,
        final_offer=final_offer,
        to_name=recipient_name(negotiation),
        said=frozenset(negotiation.said),
        rounding_step=step if kind in NEW_AMOUNT_KINDS and rate is not None else None,
        offer_moved=offer_moved,
        door_open=policy.decline.leave_door_open,
        earlier_deliverables=earlier,
    )
