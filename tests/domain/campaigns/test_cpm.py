"""CampaignCPMTracker rules and the cpm_flexibility rows."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.campaigns.cpm import (
    FLEXIBILITY_COLUMNS,
    CampaignCPMTracker,
    CPMFlexibility,
    build_flexibility_rows,
)
from negotiation_pipeline.domain.campaigns.roster import InfluencerProfile
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.domain.money import MoneyError
from tests.domain.negotiation.engine_support import engine_config

D = Decimal
VALUE = engine_config().policy.package_value


def tracker(total: int = 10) -> CampaignCPMTracker:
    return CampaignCPMTracker("c1", D("20"), D("30"), total)


@pytest.mark.parametrize(
    ("engagement", "expected_max", "phrase"),
    [
        (None, D("30.00"), "no engagement data"),
        (D("2.9"), D("30.00"), "low engagement (2.9%)"),
        (D("3"), D("30.00"), "low engagement (3%)"),  # exactly 3 gets nothing
        (D("3.01"), D("32.40"), "moderate engagement"),  # +8% of 30
        (D("5"), D("32.40"), "moderate engagement"),  # exactly 5 is moderate
        (D("5.01"), D("34.50"), "high engagement"),  # +15% of 30
    ],
)
def test_engagement_thresholds_are_strict(
    engagement: Decimal | None, expected_max: Decimal, phrase: str
) -> None:
    flex = tracker().get_flexibility(engagement)
    assert flex == CPMFlexibility(D("30"), expected_max, flex.reason)
    assert phrase in flex.reason
    assert f"max allowed: ${expected_max}" in flex.reason


def test_no_agreements_base_is_target_max() -> None:
    t = tracker()
    assert t.running_average_cpm is None
    assert t.agreement_count == 0
    assert t.get_flexibility(None).max_allowed_cpm == D("30.00")


def test_budget_premium_spreads_savings_over_remaining() -> None:
    t = tracker(total=4)
    t.record_agreement(D("20"))
    t.record_agreement(D("24"), D("4.0"))
    assert t.running_average_cpm == D("22")
    assert t.agreement_count == 2
    # (30 − 22) × 2 / 2 remaining = 8 → 38, capped at 36 (120% of 30)
    flex = t.get_flexibility(None)
    assert flex.max_allowed_cpm == D("36.00")
    assert "budget savings: +$8.00" in flex.reason
    assert "capped at 120% of target max ($36.00)" in flex.reason


def test_budget_premium_below_cap_is_exact() -> None:
    t = tracker(total=10)
    t.record_agreement(D("27"))
    # (30 − 27) × 1 / 9 = 0.333… → 30.33
    flex = t.get_flexibility(D("1"))
    assert flex.max_allowed_cpm == D("30.33")
    assert "capped" not in flex.reason


def test_budget_and_engagement_premiums_add_up() -> None:
    t = tracker(total=10)
    t.record_agreement(D("25"))
    # 30 + (5 × 1 / 9 = 0.5555…) + 2.40 = 32.9555… → 32.96
    assert t.get_flexibility(D("4")).max_allowed_cpm == D("32.96")


def test_no_budget_premium_when_average_at_or_above_target_max() -> None:
    t = tracker(total=5)
    t.record_agreement(D("31"))
    flex = t.get_flexibility(None)
    assert flex.max_allowed_cpm == D("30.00")
    assert "not below target max" in flex.reason


def test_no_budget_premium_when_nobody_remains() -> None:
    t = tracker(total=1)
    t.record_agreement(D("10"))
    assert t.get_flexibility(None).max_allowed_cpm == D("30.00")


def test_hard_cap_is_120_percent_of_target_max() -> None:
    t = tracker(total=2)
    t.record_agreement(D("1"))
    flex = t.get_flexibility(D("9.9"))
    assert flex.max_allowed_cpm == D("36.00")


def test_floats_are_rejected_everywhere_money_enters() -> None:
    with pytest.raises(MoneyError, match="float"):
        CampaignCPMTracker("c", 20.0, D("30"), 3)  # type: ignore[arg-type]
    t = tracker()
    with pytest.raises(MoneyError, match="float"):
        t.record_agreement(25.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="float"):
        t.get_flexibility(4.2)  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="float"):
        CampaignCPMTracker.from_dict(
            {
                "campaign_id": "c",
                "target_min_cpm": "1",
                "target_max_cpm": 2.5,
                "total_influencers": 1,
            }
        )


def test_invalid_construction() -> None:
    with pytest.raises(ValueError, match="above"):
        CampaignCPMTracker("c", D("31"), D("30"), 3)
    with pytest.raises(ValueError, match="negative"):
        CampaignCPMTracker("c", D("20"), D("30"), -1)


def test_to_dict_round_trip_is_lossless_through_json() -> None:
    t = CampaignCPMTracker("c9", D("18.125"), D("26.00"), 7)
    t.record_agreement(D("19.333333333333333333"), D("4.10"))
    t.record_agreement(D("21.50"))
    data = json.loads(json.dumps(t.to_dict()))
    assert data["agreements"][0] == {"cpm": "19.333333333333333333", "engagement_rate": "4.10"}
    back = CampaignCPMTracker.from_dict(data)
    assert back.to_dict() == t.to_dict()
    assert back.target_min_cpm == D("18.125") and str(back.target_max_cpm) == "26.00"
    assert back.agreements == t.agreements
    assert back.running_average_cpm == t.running_average_cpm
    assert back.get_flexibility(D("6")) == t.get_flexibility(D("6"))


def test_from_dict_names_missing_key() -> None:
    with pytest.raises(ValueError, match="target_max_cpm"):
        CampaignCPMTracker.from_dict({"campaign_id": "c", "target_min_cpm": "1"})


# --- flexibility rows --------------------------------------------------------------------------
def campaign(min_cost: str | None = "500") -> Campaign:
    return Campaign.model_validate(
        {
            "campaign_id": "t1",
            "client_name": "Lumen",
            "budget": "25000",
            "platform": "instagram",
            "cpm_range": {"min_cpm": "18", "max_cpm": "26"},
            "budget_constraints": {"min_cost": min_cost},
        }
    )


def person(views: int, engagement: str | None, name: str = "Maya") -> InfluencerProfile:
    return InfluencerProfile(
        name=name,
        email=f"{name.lower()}@example.test",
        platform=Platform.INSTAGRAM,
        handle=name.lower(),
        average_views=views,
        engagement_rate=None if engagement is None else D(engagement),
    )


def test_rows_have_floor_opening_and_ceiling() -> None:
    t = CampaignCPMTracker("t1", D("18"), D("26"), 2)
    [row] = build_flexibility_rows(campaign(), [person(42_000, "4.1")], t, VALUE)
    assert row.floor_cpm == D("18")
    assert row.max_allowed_cpm == D("28.08")  # 26 × 1.08
    assert row.opening_rate == D("756.00")  # 42 × 18
    assert row.ceiling_rate == D("1179.36")  # 42 × 28.08
    assert "moderate engagement" in row.reason
    assert tuple(row.as_record()) == FLEXIBILITY_COLUMNS
    assert row.as_record()["platform"] == "instagram"


def test_opening_never_below_min_cost_and_ceiling_never_below_opening() -> None:
    t = CampaignCPMTracker("t1", D("18"), D("26"), 2)
    [small, tiny] = build_flexibility_rows(
        campaign("500"), [person(20_000, None, "Small"), person(10_000, None, "Tiny")], t, VALUE
    )
    assert small.opening_rate == D("500.00")  # 20 × 18 = 360 < 500
    assert small.ceiling_rate == D("520.00")  # 20 × 26
    assert tiny.opening_rate == D("500.00")
    assert tiny.ceiling_rate == D("500.00")  # 10 × 26 = 260 < the 500 minimum
    assert "ceiling raised" in tiny.reason
    [no_min] = build_flexibility_rows(campaign(None), [person(20_000, None)], t, VALUE)
    assert no_min.opening_rate == D("360.00")


def test_rows_follow_the_tracker_after_agreements() -> None:
    t = CampaignCPMTracker("t1", D("18"), D("26"), 3)
    before = build_flexibility_rows(campaign(), [person(50_000, None)], t, VALUE)[0]
    t.record_agreement(D("20"))
    after = build_flexibility_rows(campaign(), [person(50_000, None)], t, VALUE)[0]
    assert after.max_allowed_cpm == D("29.00")  # 26 + (6 × 1 / 2)
    assert after.ceiling_rate > before.ceiling_rate
    assert all(isinstance(v, Decimal) for v in (after.opening_rate, after.ceiling_rate))
