"""Reproduction: a lever that trades scope down must never raise the money we offer.

Seen in the sandbox: $756 for Reel + 3 Stories, then $970 for Reel + Story, then an agreement at
$1,075 for the smallest package. Each lever email here answers an ask above the ceiling."""

from __future__ import annotations

from negotiation_pipeline.domain.types import Intent
from tests.domain.engine_support import opened, reading, reply


def test_scope_levers_never_raise_the_money_offered() -> None:
    n = opened().negotiation
    offers = [(n.levers.scenario, n.our_last_offer)]
    for day, ask in enumerate(["2500", "2400", "2300"], start=1):
        outcome = reply(n, reading(Intent.COUNTER, ask), day=day)
        n = outcome.negotiation
        offers.append((n.levers.scenario, n.our_last_offer))
    for (scenario_before, money_before), (scenario_after, money_after) in zip(
        offers, offers[1:], strict=False
    ):
        if scenario_after > scenario_before:  # less work
            assert money_after is not None and money_before is not None
            assert money_after <= money_before, offers


def test_a_decline_gets_a_short_courteous_close() -> None:
    outcome = reply(opened().negotiation, reading(Intent.REJECT, text="Thanks, but I'll pass."))
    assert outcome.email is not None
    assert "reply" in outcome.email.body.lower()  # the door is left open


def test_possessive_of_a_name_ending_in_s() -> None:
    from tests.domain.engine_support import make_campaign

    campaign = make_campaign(client_name="Tidewater Outfitters")
    n = opened(campaign).negotiation
    done = reply(n, reading(Intent.ACCEPT), campaign)
    assert done.email is not None
    assert "Outfitters's" not in done.email.body


def test_best_and_final_offer_is_a_rounded_amount() -> None:
    from decimal import Decimal

    from negotiation_pipeline.domain.campaign import DeliverableScenarios, ProductLever, UsageRights
    from tests.domain.engine_support import make_campaign, make_terms

    campaign = make_campaign(
        scenarios=DeliverableScenarios(scenario_1="1 Instagram Reel"),
        usage_rights=UsageRights(target="30 days", minimum="30 days"),
        product=ProductLever(available=False),
    )
    terms = make_terms(ceiling_rate=Decimal("1209.60"))
    final = reply(opened(campaign, terms).negotiation, reading(Intent.COUNTER, "2000"), campaign)
    assert final.email is not None
    assert "$1,209.60" not in final.email.body
    assert "campaign budget" not in final.email.body
