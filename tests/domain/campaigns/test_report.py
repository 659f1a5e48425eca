"""Campaign report numbers and snapshot rows (pure)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.report import (
    SNAPSHOT_COLUMNS,
    Deal,
    SnapshotRow,
    build_campaign_report,
)
from negotiation_pipeline.domain.enums import CounterpartyType, NegotiationState
from tests.domain.negotiation.engine_support import make_campaign, opened


def test_report_counts_close_rate_cpm_and_budget() -> None:
    campaign = make_campaign(budget="5000")  # target CPM 20-30
    states = [
        NegotiationState.AGREED,
        NegotiationState.AGREED,
        NegotiationState.AGREED,
        NegotiationState.COUNTER_SENT,
        NegotiationState.REJECTED,
        NegotiationState.ESCALATED,
    ]
    deals = [
        Deal(rate=Decimal("1000.00"), cpm=Decimal("20.00")),
        Deal(rate=Decimal("1500.50"), cpm=Decimal("25.01")),
        Deal(rate=Decimal("2100.00"), cpm=Decimal("31.00")),  # above the target max
    ]

    report = build_campaign_report(campaign, states, deals)

    assert report.negotiations == 6 and report.agreed == 3
    assert report.close_rate == Decimal("0.500")
    assert report.average_cpm_achieved == Decimal("25.34")  # 76.01 / 3 = 25.336..
    assert report.agreements_within_target == 2
    assert report.budget_committed == Decimal("4600.50")
    assert report.budget_remaining == Decimal("399.50")
    assert not report.over_budget
    assert report.by_state == {"agreed": 3, "counter_sent": 1, "escalated": 1, "rejected": 1}
    text = report.as_text()
    assert text["budget_committed"] == "$4,600.50"
    assert text["average_cpm_achieved"] == "$25.34"
    assert text["target_cpm"] == "$20.00-$30.00"
    assert text["close_rate"] == "0.500"


def test_report_without_agreements_or_negotiations_has_no_averages() -> None:
    campaign = make_campaign(budget="1000")
    empty = build_campaign_report(campaign, [], [])
    assert empty.close_rate is None and empty.average_cpm_achieved is None
    assert empty.as_text()["average_cpm_achieved"] == "" and empty.as_text()["close_rate"] == ""
    waiting = build_campaign_report(campaign, [NegotiationState.AWAITING_REPLY] * 3, [])
    assert waiting.close_rate == Decimal("0.000") and waiting.budget_remaining == Decimal("1000")


def test_over_budget_is_negative_remaining() -> None:
    report = build_campaign_report(
        make_campaign(budget="1000"),
        [NegotiationState.AGREED],
        [Deal(Decimal("1250"), Decimal("25"))],
    )
    assert report.over_budget
    assert report.as_text()["budget_remaining"] == "-$250.00"


def test_snapshot_row_from_a_negotiation() -> None:
    negotiation = opened().negotiation
    negotiation = replace(
        negotiation,
        their_last_ask=Decimal("1800"),
        counterparty_type=CounterpartyType.TALENT_MANAGER,
        round_count=2,
    )
    row = SnapshotRow.from_negotiation(negotiation, controlled_by="agent")
    cells = row.as_text()
    assert list(cells) == list(SNAPSHOT_COLUMNS)
    assert cells["influencer"] == "Jane Doe"
    assert cells["state"] == negotiation.state.value
    assert cells["our_last_offer"] == "$1,000.00"  # opened at the floor rate
    assert cells["their_ask"] == "$1,800.00"
    assert cells["counterparty"] == "talent_manager"
    assert cells["round"] == "2" and cells["thread_id"] == "thread-1"


def test_report_lists_the_agreed_packages() -> None:
    from negotiation_pipeline.domain.enums import UsageRightsDuration
    from negotiation_pipeline.domain.negotiation.engine import AgreedPackage

    reel = AgreedPackage(3, ("1 Instagram Reel",), UsageRightsDuration.DAYS_30, False, 40_000)
    full = AgreedPackage(1, ("1 Reel", "3 Stories"), UsageRightsDuration.DAYS_90, True, 70_000)
    deals = [
        Deal(Decimal("1295.00"), Decimal("32.38"), reel, "Jane"),
        Deal(Decimal("1800.00"), Decimal("25.71"), full, "Maya"),
        Deal(Decimal("900.00"), Decimal("18.00")),  # recorded before packages were stored
    ]
    report = build_campaign_report(
        make_campaign(budget="9000"), [NegotiationState.AGREED] * 3, deals
    )
    assert report.as_text()["agreed_packages"] == "scenario 1: 1, scenario 3: 1"
    assert deals[0].package_text() == "1 Instagram Reel; usage 30 days"
    assert deals[1].package_text() == "1 Reel, 3 Stories; usage 90 days + product"
    assert deals[2].package_text() == ""
    assert report.average_cpm_achieved == Decimal("25.36")  # each CPM on its own package
