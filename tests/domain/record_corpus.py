"""A corpus of domain records as the engine and the workflow produce them, for the stored-format
tests of the record codec (tests/domain/test_record_formats.py).

Each case is a record and the function that writes it (`to_dict`, or `decision_to_dict` for an
`EmailDecision`). The records come from the real engine through the shared test builders (opened,
countered, levers used, agreed, paused, escalated with a held draft, held for approval, a talent
manager's thread, a human's acceptance) plus a few built directly for the corners the engine
rarely reaches (an empty lever state, a tracker with an agreement without engagement data, a
draft without email, a decision with topics and a publish date).

`tests/domain/fixtures/stored_records.json` holds, for every case, the dict the code wrote before
the record codec existed (also as the JSON text the store writes) and the record itself
(pickled), so the tests compare what the codec
writes for the very same record with what was written then. Regenerate it only when the stored
format changes on purpose:

    uv run python -m tests.domain.record_corpus tests/domain/fixtures/stored_records.json
"""

from __future__ import annotations

import base64
import json
import pickle
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import (
    CounterpartyType,
    Intent,
    NegotiationEvent,
    Platform,
    UsageRightsDuration,
)
from negotiation_pipeline.domain.negotiation import human
from negotiation_pipeline.domain.negotiation.approval import hold_for_approval
from negotiation_pipeline.domain.negotiation.emails import EmailDecision, EmailKind
from negotiation_pipeline.domain.negotiation.engine import (
    AgreedPackage,
    InfluencerTerms,
    Negotiation,
    apply_event,
    open_negotiation,
)
from negotiation_pipeline.domain.negotiation.held import (
    DraftPurpose,
    EscalationNote,
    HeldDraft,
    ReplyThreading,
    decision_to_dict,
)
from negotiation_pipeline.domain.negotiation.policy import Lever, LeverState, QuestionTopic
from negotiation_pipeline.domain.negotiation.pricing import ScenarioPrice
from negotiation_pipeline.workflow.resolution import ResolutionResult, ResolveAction
from tests.domain.negotiation.engine_support import (
    NOW,
    engine_config,
    make_campaign,
    make_terms,
    opened,
    reading,
    reply,
)

FIXTURE = Path(__file__).parent / "fixtures" / "stored_records.json"
D = Decimal
NO_LIMITS = {"min_cost": None, "max_cost_without_approval": None}
MANAGER = "Jordan Miles <jordan@brightlinetalent.com>"
MANAGER_TEXT = (
    "Hi Alex,\n\nJordan here, I manage Jane's partnerships. Her rate for this is $1,900.\n\n"
    "Best,\nJordan Miles\nTalent Manager | Brightline Talent\n"
)

Case = tuple[object, Callable[[Any], dict[str, Any]]]


def _write(record: Any) -> dict[str, Any]:
    result: dict[str, Any] = record.to_dict()
    return result


def _scenario_terms() -> InfluencerTerms:
    """Terms from a real cpm_flexibility row: three scenarios priced, a manager on the roster."""
    campaign = make_campaign(budget_constraints=NO_LIMITS)
    tracker = CampaignCPMTracker("cmp-1", D(20), D(30), 3)
    person = InfluencerProfile(
        "Jane Doe",
        "jane@gmail.com",
        Platform.INSTAGRAM,
        "jane",
        40_000,
        D("4.2"),
        manager_emails=("jordan@brightlinetalent.com",),
    )
    [row] = build_flexibility_rows(
        campaign, [person], tracker, engine_config().policy.package_value
    )
    return InfluencerTerms.from_flexibility_row(row)


def _conversation(campaign: Campaign, asks: tuple[str, ...]) -> Negotiation:
    """A negotiation on the scenario-priced terms after their `asks`, one a day."""
    scoped = open_negotiation("t-levers", campaign, _scenario_terms(), engine_config(), NOW)
    negotiation = scoped.negotiation
    for day, ask in enumerate(asks, start=1):
        outcome = reply(negotiation, reading(Intent.COUNTER, ask), campaign, day=day)
        negotiation = outcome.negotiation
    return negotiation


def _negotiations() -> dict[str, Negotiation]:
    campaign = make_campaign(budget_constraints=NO_LIMITS)
    start = opened().negotiation
    countered = reply(start, reading(Intent.COUNTER, "2500")).negotiation
    levered = _conversation(campaign, ("3500", "3500", "3500", "2400", "1300"))
    agreed = reply(levered, reading(Intent.ACCEPT), campaign, day=6).negotiation
    shorter_rights = _conversation(campaign, ("2450", "2450", "2450"))
    escalated = reply(start, reading(Intent.COUNTER, "6000")).negotiation
    question = reply(
        start, reading(Intent.QUESTION, text="Do you need my tax ID and an NDA signed?")
    ).negotiation
    manager = reply(
        start, reading(Intent.COUNTER, "1900"), sender=MANAGER, text=MANAGER_TEXT
    ).negotiation
    approval_sent = reply(start, reading(Intent.COUNTER, "1400"))
    threading = ReplyThreading("<r1@gmail.com>", "<neg.a@agency.com> <r1@gmail.com>", "Re: Hi")
    held = hold_for_approval(start, approval_sent, NOW, threading).negotiation
    held_opening = hold_for_approval(None, opened(), NOW).negotiation
    accepted = human.accept(escalated, make_campaign(), engine_config(), D("1500.00"), NOW)
    return {
        "opened": start,
        "countered": countered,
        "levers_used": levered,
        "usage_rights_lever": shorter_rights,
        "agreed_with_package": agreed,
        "paused": apply_event(countered, NegotiationEvent.PAUSE, NOW + timedelta(days=2)),
        "stopped": apply_event(countered, NegotiationEvent.STOP, NOW + timedelta(days=2)),
        "escalated_with_draft": escalated,
        "escalated_question": question,
        "talent_manager": manager,
        "held_for_approval": held,
        "held_opening": held_opening,
        "accepted_by_a_human": replace(accepted.negotiation, resolutions=("res:1", "res:2")),
        "no_engagement_data": Negotiation("t-2", "cmp-1", make_terms(engagement_rate=None)),
    }


def _drafts() -> dict[str, HeldDraft]:
    note = EscalationNote(
        reason="currency",
        detail="asked in EUR",
        suggested_action="reply in USD",
        their_ask=D("1500"),
        ask_currency="EUR",
        our_offer=D("1000.00"),
    )
    bare = EscalationNote("legal_language", "", "", None, None, None)
    moment = datetime(2026, 3, 4, 17, 5, 9, 123456, tzinfo=UTC)
    return {
        "draft_note_only": HeldDraft(
            DraftPurpose.ESCALATION, None, None, None, None, "asked in EUR", moment, None, note
        ),
        "draft_bare_note": HeldDraft(
            DraftPurpose.ESCALATION,
            "escalate",
            None,
            None,
            None,
            "",
            NOW,
            ReplyThreading(None, None, None),
            bare,
        ),
    }


def _decision() -> EmailDecision:
    return EmailDecision(
        kind=EmailKind.ANSWER,
        to="jane@gmail.com",
        greeting_name="Jane",
        influencer_name="Jane Doe",
        client_name="Glow Labs",
        platform=Platform.TIKTOK,
        rate=None,
        their_ask=D("1E+3"),
        deliverables=("1 TikTok video",),
        usage_rights=UsageRightsDuration.NOT_REQUIRED,
        payment_terms="Net 30",
        sender_name="Alex Morgan",
        sender_title="Partnerships",
        sender_company="Northwind",
        min_length=40,
        counterparty=CounterpartyType.TALENT_MANAGER,
        agency_name="Brightline",
        lever=Lever.PRODUCT,
        product_description="the Glow serum set",
        product_value=D("120"),
        publish_date=date(2026, 4, 20),
        timeline="two weeks",
        topics=(QuestionTopic.PAYMENT, QuestionTopic.TIMELINE),
        said=frozenset({"v:b:1", "p:ff00", "v:a:0"}),
        rounding_step=D("5"),
        offer_moved=False,
        door_open=False,
        earlier_deliverables=("1 Reel", "3 Stories"),
    )


def _tracker() -> CampaignCPMTracker:
    tracker = CampaignCPMTracker("cmp-9", D("18.125"), D("26.00"), 7)
    tracker.record_agreement(D("19.333333333333333333"), D("4.10"))
    tracker.record_agreement(D("21.50"))
    return tracker


def _resolution() -> ResolutionResult:
    return ResolutionResult(
        key="res:t-1:esc:accept:1500.00",
        thread_id="t-1",
        campaign_id="cmp-1",
        influencer_name="Jane Doe",
        action=ResolveAction.ACCEPT,
        state_before="escalated",
        state_after="agreed",
        message_id="<neg.abc@agency.com>",
        amount="1500.00",
        decided_by="ops@agency.com",
        note="fine by the client",
        override=None,
        repeated=False,
    )


def corpus() -> dict[str, Case]:
    """Every case: the record and the function that writes it."""
    negotiations = _negotiations()
    cases: dict[str, Case] = {f"negotiation_{k}": (v, _write) for k, v in negotiations.items()}
    cases.update({k: (v, _write) for k, v in _drafts().items()})
    held = negotiations["held_for_approval"].held
    assert held is not None and held.decision is not None and held.after is not None
    agreed = negotiations["agreed_with_package"]
    cases.update(
        {
            "held_approval_draft": (held, _write),
            "decision_counter": (held.decision, decision_to_dict),
            "decision_answer": (_decision(), decision_to_dict),
            "terms_with_scenarios": (_scenario_terms(), _write),
            "terms_plain": (make_terms(), _write),
            "scenario_price": (ScenarioPrice(2, 31_250, D("625.00"), D("1012.50")), _write),
            "agreed_package": (agreed.agreed_package, _write),
            "agreed_package_plain": (
                AgreedPackage(1, ("1 Reel",), UsageRightsDuration.PERPETUAL, False, 1),
                _write,
            ),
            "lever_state_default": (LeverState(), _write),
            "lever_state_used": (agreed.levers, _write),
            "reply_threading": (held.threading, _write),
            "cpm_tracker": (_tracker(), _write),
            "cpm_tracker_empty": (CampaignCPMTracker("cmp-0", D(20), D(30), 0), _write),
            "resolution_result": (_resolution(), _write),
            "resolution_result_repeated": (
                replace(
                    _resolution(), message_id=None, amount=None, override="above", repeated=True
                ),
                _write,
            ),
        }
    )
    return cases


def _kind(record: object) -> str:
    return f"{type(record).__module__}.{type(record).__qualname__}"


def write_fixture(path: Path) -> None:
    """The stored dict and the pickled record of every case, as this checkout writes them."""
    out = {}
    for name, (record, write) in corpus().items():
        stored = write(record)
        out[name] = {
            "kind": _kind(record),
            "stored": stored,
            # The JSON text as the store writes it (key order kept), to compare byte for byte.
            "text": json.dumps(stored, ensure_ascii=False),
            "record": base64.b64encode(pickle.dumps(record)).decode("ascii"),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write_fixture(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURE)
