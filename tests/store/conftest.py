from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from negotiation_pipeline.domain.campaign import Campaign, CPMRange
from negotiation_pipeline.domain.types import Platform
from negotiation_pipeline.store import SQLiteStore


def make_campaign(campaign_id: str = "camp-1", budget: str = "1234.5600") -> Campaign:
    return Campaign(
        campaign_id=campaign_id,
        client_name="Acme Sports",
        budget=Decimal(budget),
        platform=Platform.INSTAGRAM,
        cpm_range=CPMRange(min_cpm=Decimal("20"), max_cpm=Decimal("30")),
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "negotiation.db"


@pytest.fixture
def store(db_path: Path) -> SQLiteStore:
    return SQLiteStore(db_path)
