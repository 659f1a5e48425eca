"""What a package is worth: deliverables read from scenario text, expected views per scenario
(with roster overrides), the cpm_flexibility scenario columns, and package bounds with usage."""

from __future__ import annotations

from decimal import Decimal

import pytest

from negotiation_pipeline.domain.campaigns.campaign import BudgetConstraints, DeliverableScenarios
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import (
    InfluencerProfile,
    RosterCellError,
    parse_profile,
)
from negotiation_pipeline.domain.enums import Platform, UsageRightsDuration
from negotiation_pipeline.domain.negotiation.pricing import (
    Package,
    PriceGrid,
    ScenarioPrice,
    package_bounds,
    same_price_per_view,
    scenario_prices,
)
from negotiation_pipeline.domain.negotiation.valuation import package_views, split_items
from tests.domain.negotiation.engine_support import engine_config, make_campaign

D = Decimal
U = UsageRightsDuration
VALUE = engine_config().policy.package_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "1 Instagram Reel, 3 Instagram Stories",
            [(1, "Instagram Reel"), (3, "Instagram Stories")],
        ),
        ("Reel + 2 Stories", [(1, "Reel"), (2, "Stories")]),
        ("two TikTok videos and a TikTok story", [(2, "TikTok videos"), (1, "TikTok story")]),
        ("- 1 YouTube integration\n- Stories x3", [(1, "YouTube integration"), (3, "Stories")]),
        ("1 link in bio for 7 days", [(1, "link in bio for 7 days")]),
    ],
)
def test_items_and_quantities_are_read_from_scenario_text(text: str, expected: list) -> None:
    assert split_items(text) == expected


def test_a_story_is_worth_a_configured_fraction_of_a_reel() -> None:
    views = package_views("1 Instagram Reel, 3 Instagram Stories", 40_000, VALUE)
    assert [(i.quantity, i.kind) for i in views.items] == [(1, "reel"), (3, "story")]
    assert views.total == 40_000 + 3 * 10_000  # a story is 0.25 of the average views
    assert views.explain() == "1 × reel (40,000) + 3 × story (10,000 each) = 70,000 views"


def test_longest_keyword_wins_and_unknown_items_are_named() -> None:
    assert VALUE.classify("1 TikTok story") == "tiktok_story"  # not "tiktok" (a video)
    views = package_views("1 Reel, 2 studio shoots", 10_000, VALUE)
    assert views.unrecognised == ("studio shoots",)
    assert views.total == 10_000 + 2 * 5_000  # unrecognised items count as half a post each


def test_roster_overrides_replace_the_configured_fraction() -> None:
    views = package_views("1 Reel, 3 Stories", 40_000, VALUE, {"story": 4_000})
    assert views.total == 40_000 + 3 * 4_000


def test_roster_reads_optional_view_columns_and_names_a_bad_one() -> None:
    row = {
        "name": "Jane Doe",
        "email": "jane@x.test",
        "platform": "instagram",
        "handle": "@jane",
        "average_views": "40,000",
        "engagement_rate": "4.1%",
        "story_views": "3.5k",
        "reel_views": "",
    }
    assert parse_profile(row).view_overrides == (("story", 3500),)
    with pytest.raises(RosterCellError, match="story_views 'lots' is not a number"):
        parse_profile({**row, "story_views": "lots"})


def _rows(views: int = 40_000, min_cost: str | None = None) -> list:
    campaign = make_campaign(
        cpm_range={"min_cpm": "20", "max_cpm": "30"},
        budget_constraints=BudgetConstraints(min_cost=min_cost),
    )
    tracker = CampaignCPMTracker("cmp-1", D(20), D(30), 3)
    person = InfluencerProfile("Jane Doe", "jane@x.test", Platform.INSTAGRAM, "j", views, D("4.2"))
    return build_flexibility_rows(campaign, [person], tracker, VALUE)


def test_the_table_prices_every_scenario_from_its_expected_views() -> None:
    [row] = _rows()
    # Reel + 3 Stories = 70,000 views; Reel + Story = 50,000; Reel = 40,000. CPM 20 to 32.40.
    assert row.max_allowed_cpm == D("32.40")
    assert (row.scenario_1_expected_views, row.opening_rate, row.ceiling_rate) == (
        70_000,
        D("1400.00"),
        D("2268.00"),
    )
    assert (row.scenario_1_opening_rate, row.scenario_1_ceiling_rate) == (
        D("1400.00"),
        D("2268.00"),
    )
    assert (row.scenario_2_expected_views, row.scenario_2_opening_rate) == (50_000, D("1000.00"))
    assert row.scenario_2_ceiling_rate == D("1620.00")
    assert (row.scenario_3_expected_views, row.scenario_3_ceiling_rate) == (40_000, D("1296.00"))
    assert "scenario 2: 1 × reel (40,000) + 1 × story (10,000) = 50,000 views" in row.reason
    assert [p.scenario for p in row.scenario_prices()] == [1, 2, 3]


def test_a_scenario_the_campaign_lacks_has_empty_columns() -> None:
    campaign = make_campaign(scenarios=DeliverableScenarios(scenario_1="1 Instagram Reel"))
    tracker = CampaignCPMTracker("cmp-1", D(20), D(30), 3)
    person = InfluencerProfile("Jane Doe", "jane@x.test", Platform.INSTAGRAM, "j", 1000, None)
    [row] = build_flexibility_rows(campaign, [person], tracker, VALUE)
    assert row.scenario_2_expected_views is None and row.scenario_3_ceiling_rate is None
    assert [p.scenario for p in row.scenario_prices()] == [1]


def test_min_cost_raises_every_opening_but_never_a_smaller_package_ceiling() -> None:
    [row] = _rows(min_cost="1100")
    assert row.opening_rate == D("1400.00")  # 70,000 views × $20 is above $1,100
    assert row.scenario_2_opening_rate == D("1100.00")  # raised from $1,000
    assert row.scenario_3_opening_rate == D("1100.00")
    assert row.scenario_3_ceiling_rate == D("1296.00")  # not raised


def test_package_bounds_follow_usage_rights_and_campaign_limits() -> None:
    campaign = make_campaign(budget_constraints=BudgetConstraints(max_cost_without_approval="2000"))
    price = ScenarioPrice(1, 70_000, D("1400.00"), D("2268.00"))
    full = package_bounds(Package(1, U.DAYS_90), price, campaign, VALUE)
    assert (full.floor, full.ceiling) == (D("1400.00"), D("2000.00"))  # approval cap
    short = package_bounds(Package(1, U.DAYS_30), price, campaign, VALUE)
    # 30 days are worth 1.10 / 1.20 of the 90-day target: less value, lower bounds.
    assert short.floor == D("1283.33") and short.ceiling == D("2000.00")
    assert short.value_views < full.value_views
    assert same_price_per_view(D("1200"), full, short) == D(1100)


def test_records_without_scenario_prices_scale_from_scenario_1() -> None:
    prices = scenario_prices(
        (),
        campaign=make_campaign(),
        valuation=VALUE,
        average_views=50_000,
        floor_rate=D("1000.00"),
        ceiling_rate=D("1620.00"),
    )
    # scenario 1 keeps the stored rates; Reel + Story is 1.25 / 1.75 of Reel + 3 Stories
    assert prices[1] == ScenarioPrice(1, 50_000, D("1000.00"), D("1620.00"))
    assert prices[2] == ScenarioPrice(2, 35_714, D("714.29"), D("1157.14"))
    assert prices[3].expected_views == 28_571


def test_price_grid_rounds_exactly() -> None:
    grid = PriceGrid(D(5))
    assert (grid.down(D("1209.60")), grid.up(D("1209.60")), grid.nearest(D("1207.49"))) == (
        D("1205.00"),
        D("1210.00"),
        D("1205.00"),
    )
    assert grid.on_grid(D("1205.00")) and not grid.on_grid(D("1209.60"))


def test_the_roster_reader_passes_view_columns_through_to_the_table() -> None:
    from negotiation_pipeline.domain.campaigns.roster import select_influencers
    from negotiation_pipeline.integrations.roster.reader import parse_roster_csv

    text = (
        "Name,Email,Platform,Handle,Average Views,Engagement Rate,Story Views,Notes\n"
        'Jane Doe,jane@x.test,instagram,@jane,"40,000",4.2%,4k,ignored\n'
    )
    [row] = parse_roster_csv(text)
    assert row["story_views"] == "4k" and "notes" not in row
    [person] = select_influencers([row], [], Platform.INSTAGRAM).selected
    tracker = CampaignCPMTracker("cmp-1", D(20), D(30), 3)
    [table_row] = build_flexibility_rows(make_campaign(), [person], tracker, VALUE)
    assert table_row.scenario_1_expected_views == 40_000 + 3 * 4_000  # her own Story views
