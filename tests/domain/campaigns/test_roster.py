"""Roster cell parsing and campaign influencer selection."""

from __future__ import annotations

from decimal import Decimal

import pytest

from negotiation_pipeline.domain.campaigns.roster import (
    RosterCellError,
    parse_engagement,
    parse_views,
    select_influencers,
    split_identifiers,
)
from negotiation_pipeline.domain.enums import Platform


def row(
    name: str,
    email: str,
    platform: str = "instagram",
    handle: str = "",
    views: str = "10,000",
    engagement: str = "4.1%",
) -> dict[str, str]:
    return {
        "name": name,
        "email": email,
        "platform": platform,
        "handle": handle,
        "average_views": views,
        "engagement_rate": engagement,
    }


ROSTER = [
    row("Maya Chen", "maya@example.test", handle="@mayachen", views="42,000", engagement="4.1%"),
    row("Theo Martins", "theo@example.test", handle="theo.runs", views="85500", engagement="2.7"),
    row("Marcus Reid", "", handle="@marcus"),
    row("Ines Duarte", "ines@example.test", views="0"),
    row("Chloe Martin", "chloe@example.test", platform="tiktok", handle="@chloemoves"),
    row("Bad Views", "bad@example.test", views="lots"),
]


@pytest.mark.parametrize(
    ("cell", "views"), [("42,000", 42000), (" 42000 ", 42000), ("1.2k", 1200), ("2M", 2_000_000)]
)
def test_parse_views(cell: str, views: int) -> None:
    assert parse_views(cell) == views


@pytest.mark.parametrize("cell", ["", "0", "-5", "abc", "12.5"])
def test_parse_views_rejects(cell: str) -> None:
    with pytest.raises(RosterCellError):
        parse_views(cell)


def test_parse_engagement() -> None:
    assert parse_engagement("4.1%") == Decimal("4.1")
    assert parse_engagement("4.1") == Decimal("4.1")
    assert parse_engagement(" 3 % ") == Decimal("3")
    assert parse_engagement("") is None
    for bad in ("high", "-1", "150%"):
        with pytest.raises(RosterCellError):
            parse_engagement(bad)


def test_split_identifiers() -> None:
    assert split_identifiers("Maya Chen\n@theo.runs, x@y.test;  \n") == [
        "Maya Chen",
        "@theo.runs",
        "x@y.test",
    ]


def test_match_by_name_handle_with_or_without_at_and_email() -> None:
    result = select_influencers(
        ROSTER, ["  maya chen ", "THEO.RUNS", "@theo.runs", "maya@EXAMPLE.test"], Platform.INSTAGRAM
    )
    assert [p.name for p in result.selected] == ["Maya Chen", "Theo Martins"]
    maya = result.selected[0]
    assert maya.average_views == 42000 and maya.engagement_rate == Decimal("4.1")
    assert maya.handle == "mayachen"
    # the repeated identifiers select the same people once and say so
    assert [s.identifier for s in result.skipped] == ["@theo.runs", "maya@EXAMPLE.test"]
    assert all("duplicate" in s.reason for s in result.skipped)


def test_skips_name_the_reason() -> None:
    result = select_influencers(
        ROSTER,
        ["Marcus Reid", "Ines Duarte", "Nobody Here", "@chloemoves", "Bad Views"],
        Platform.INSTAGRAM,
    )
    assert result.selected == []
    reasons = {s.identifier: s.reason for s in result.skipped}
    assert "no email" in reasons["Marcus Reid"]
    assert "no positive average_views" in reasons["Ines Duarte"]
    assert reasons["Nobody Here"] == "not found in the roster"
    assert "only on tiktok" in reasons["@chloemoves"]
    assert "'lots' is not a number" in reasons["Bad Views"]


def test_empty_list_selects_every_row_on_the_platform() -> None:
    result = select_influencers(ROSTER, [], Platform.INSTAGRAM)
    assert [p.name for p in result.selected] == ["Maya Chen", "Theo Martins"]
    assert {s.identifier for s in result.skipped} == {"Marcus Reid", "Ines Duarte", "Bad Views"}
    tiktok = select_influencers(ROSTER, [" ", ""], Platform.TIKTOK)
    assert [p.name for p in tiktok.selected] == ["Chloe Martin"]


def test_ambiguous_name_is_skipped_not_guessed() -> None:
    roster = [row("Sam Lee", "sam1@example.test"), row("Sam Lee", "sam2@example.test")]
    result = select_influencers(roster, ["Sam Lee", "sam2@example.test"], Platform.INSTAGRAM)
    assert [p.email for p in result.selected] == ["sam2@example.test"]
    assert "ambiguous" in result.skipped[0].reason
    assert "sam1@example.test" in result.skipped[0].reason
