"""Roster addresses: validated with email-validator at intake, manager_email carried all the way
to the negotiation's terms, and the comparison form replies are checked in."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.defs.campaigns.cpm_assets import flexibility_frame
from negotiation_pipeline.domain.addresses import address_key, same_address, validate_address
from negotiation_pipeline.domain.campaigns.campaign import Campaign, CPMRange
from negotiation_pipeline.domain.campaigns.cpm import CampaignCPMTracker, build_flexibility_rows
from negotiation_pipeline.domain.campaigns.roster import select_influencers
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.domain.negotiation.engine import InfluencerTerms, Negotiation
from negotiation_pipeline.integrations.roster import read_roster
from negotiation_pipeline.workflow.opening import flexibility_rows_from_records
from tests.domain.campaigns.test_roster import row
from tests.domain.negotiation.engine_support import engine_config


def _skip_reason(email: str, manager: str | None = None) -> str:
    cells = row("Jane Doe", email)
    if manager is not None:
        cells["manager_email"] = manager
    selection = select_influencers([cells], [], Platform.INSTAGRAM)
    assert not selection.selected, selection.selected
    [skip] = selection.skipped
    return skip.reason


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("jane@@gmail.com", "not a valid address"),
        ("jane@localhost", "not a valid address"),
        ("jane@x..com", "not a valid address"),
        ("jane.@gmail.com", "not a valid address"),
        ("jane@[127.0.0.1]", "not a valid address"),
        ('"jane"@gmail.com', "not a valid address"),
        ("jane doe@gmail.com", "not a valid address"),
        ("Jane <jane@gmail.com>", "not a valid address"),
        ("jane@gmail.com\r\nBcc: x@evil.test", "not a valid address"),
        ("jane@exa_mple.com", "not a valid address"),
        ("a" * 65 + "@gmail.com", "not a valid address"),
    ],
)
def test_an_unusable_roster_address_is_skipped_naming_the_problem(email: str, problem: str) -> None:
    reason = _skip_reason(email)
    assert reason.startswith("roster row unusable: email ")
    assert problem in reason
    assert repr(email.strip()) in reason


@pytest.mark.parametrize(
    "email", ["jane@gmail.com", "Jane.Doe+collab@Gmail.COM", "jörg@bücher.de", "用户@例子.广告"]
)
def test_valid_and_internationalised_addresses_are_selected_as_written(email: str) -> None:
    selection = select_influencers([row("Jane Doe", email)], [], Platform.INSTAGRAM)
    [profile] = selection.selected
    assert profile.email == email and not selection.skipped


def test_manager_emails_are_parsed_validated_and_deduplicated() -> None:
    cells = row("Jane Doe", "jane@gmail.com")
    cells["manager_email"] = " casey@Brightline.com; desk@brightline.com ;CASEY@brightline.com;"
    cells["manager_email"] += " Jane@Gmail.com"
    [profile] = select_influencers([cells], [], Platform.INSTAGRAM).selected
    assert profile.manager_emails == ("casey@brightline.com", "desk@brightline.com")


def test_a_bad_manager_email_skips_the_row_naming_it() -> None:
    reason = _skip_reason("jane@gmail.com", manager="casey@brightline.com; desk@")
    assert "manager_email 'desk@' is not a valid address" in reason


def test_too_many_manager_emails_are_refused() -> None:
    many = "; ".join(f"m{n}@agency.com" for n in range(11))
    assert "at most 10" in _skip_reason("jane@gmail.com", manager=many)


def test_manager_email_travels_from_the_csv_to_the_negotiation_terms(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "name,email,platform,handle,average_views,engagement_rate,Manager Email\n"
        'Jane Doe,jane@gmail.com,instagram,@jane,"50,000",4.2%,casey@brightline.com;desk@b.com\n'
        "Sam Lee,sam@gmail.com,instagram,@sam,40000,3%,\n",
        encoding="utf-8",
    )
    selection = select_influencers(read_roster(path, trusted=True), [], Platform.INSTAGRAM)
    campaign = Campaign(
        campaign_id="c1",
        client_name="Acme",
        budget=Decimal("10000"),
        platform=Platform.INSTAGRAM,
        cpm_range=CPMRange(min_cpm=Decimal("20"), max_cpm=Decimal("30")),
    )
    tracker = CampaignCPMTracker("c1", Decimal("20"), Decimal("30"), 2)
    table = flexibility_frame(
        [
            r.as_record()
            for r in build_flexibility_rows(
                campaign, selection.selected, tracker, engine_config().policy.package_value
            )
        ]
    )
    jane_row, sam_row = flexibility_rows_from_records(table.to_dict("records"))
    terms = InfluencerTerms.from_flexibility_row(jane_row)
    assert terms.manager_emails == ("casey@brightline.com", "desk@b.com")
    assert InfluencerTerms.from_flexibility_row(sam_row).manager_emails == ()
    # ... and survives the stored record
    stored = Negotiation("t1", "c1", terms).to_dict()
    assert Negotiation.from_dict(stored).terms.manager_emails == terms.manager_emails
    older = {**stored, "terms": {k: v for k, v in stored["terms"].items() if k != "manager_emails"}}
    assert Negotiation.from_dict(older).terms.manager_emails == ()


def test_addresses_compare_without_display_name_and_case() -> None:
    assert same_address("Jane Doe <JANE@Gmail.COM>", "jane@gmail.com")
    assert same_address("jörg@BÜCHER.de", "jörg@xn--bcher-kva.de")
    assert not same_address("jane@gmail.com", "jane@gmail.co")
    assert not same_address("jane+x@gmail.com", "jane@gmail.com")
    assert not same_address("", "")
    assert address_key("not an address") == "not an address"
    assert validate_address(" Jane@Gmail.COM ") == "Jane@gmail.com"
