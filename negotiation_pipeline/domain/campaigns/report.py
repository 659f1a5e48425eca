"""Campaign report and negotiation snapshot rows: pure numbers from a campaign's negotiations.

The Dagster assets `negotiation_snapshots` and `campaign_report` only format what these
functions return. Money stays Decimal; `as_text()` renders it for metadata and tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from negotiation_pipeline.domain.campaigns.campaign import Campaign
from negotiation_pipeline.domain.enums import NegotiationState
from negotiation_pipeline.domain.money import format_usd, quantize_cents
from negotiation_pipeline.domain.negotiation.engine import AgreedPackage, Negotiation

RATE_PLACES = Decimal("0.001")

SNAPSHOT_COLUMNS = (
    "influencer",
    "state",
    "next_step",
    "escalation_reason",
    "round",
    "our_last_offer",
    "their_ask",
    "deliverables",
    "usage_rights",
    "last_email_in",
    "last_email_out",
    "counterparty",
    "controlled_by",
    "client",
    "thread_id",
)


@dataclass(frozen=True)
class SnapshotRow:
    """One negotiation as the snapshot table shows it."""

    thread_id: str
    influencer: str
    state: NegotiationState
    round: int
    our_last_offer: Decimal | None
    their_ask: Decimal | None
    counterparty: str
    controlled_by: str
    # What the operator needs beside the numbers; empty when not known (e.g. rows built from
    # the negotiation record alone).
    client_name: str = ""
    next_step: str = ""
    escalation_reason: str = ""
    their_ask_currency: str | None = None  # None or "USD": dollars
    deliverables: tuple[str, ...] = ()
    usage_rights: str = ""
    last_email_in: str = ""  # "2026-05-01 14:02 UTC: Re: subject"
    last_email_out: str = ""

    @classmethod
    def from_negotiation(cls, negotiation: Negotiation, *, controlled_by: str) -> SnapshotRow:
        return cls(
            thread_id=negotiation.thread_id,
            influencer=negotiation.terms.name,
            state=negotiation.state,
            round=negotiation.round_count,
            our_last_offer=negotiation.our_last_offer,
            their_ask=negotiation.their_last_ask,
            counterparty=negotiation.counterparty_type.value,
            controlled_by=controlled_by,
        )

    def as_text(self) -> dict[str, str]:
        """Every cell as text, in SNAPSHOT_COLUMNS order; money as $1,500.00, unknown empty."""
        return {
            "influencer": self.influencer,
            "state": self.state.value,
            "next_step": self.next_step,
            "escalation_reason": self.escalation_reason,
            "round": str(self.round),
            "our_last_offer": _usd(self.our_last_offer),
            "their_ask": money_with_currency(self.their_ask, self.their_ask_currency),
            "deliverables": ", ".join(self.deliverables),
            "usage_rights": self.usage_rights,
            "last_email_in": self.last_email_in,
            "last_email_out": self.last_email_out,
            "counterparty": self.counterparty,
            "controlled_by": self.controlled_by,
            "client": self.client_name,
            "thread_id": self.thread_id,
        }


@dataclass(frozen=True)
class Deal:
    """One agreement: the agreed rate, the CPM it achieved on the agreed package's expected
    views, and that package (None for agreements recorded before packages were stored)."""

    rate: Decimal
    cpm: Decimal
    package: AgreedPackage | None = None
    influencer: str = ""

    def package_text(self) -> str:
        return "" if self.package is None else self.package.describe()


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: str
    client_name: str
    negotiations: int
    by_state: dict[str, int]
    agreed: int
    close_rate: Decimal | None  # agreed / negotiations; None with no negotiation
    average_cpm_achieved: Decimal | None  # mean agreed CPM; None with no agreement
    target_cpm_min: Decimal
    target_cpm_max: Decimal
    agreements_within_target: int  # agreed CPM <= target max CPM
    budget: Decimal
    budget_committed: Decimal  # sum of agreed rates
    budget_remaining: Decimal  # negative when over budget
    deals: tuple[Deal, ...] = ()

    def packages_text(self) -> str:
        """How many agreements bought each scenario: "scenario 1: 3, scenario 3: 1"."""
        counts = Counter(d.package.scenario for d in self.deals if d.package is not None)
        return ", ".join(f"scenario {s}: {n}" for s, n in sorted(counts.items()))

    @property
    def over_budget(self) -> bool:
        return self.budget_remaining < 0

    def as_text(self) -> dict[str, str]:
        """JSON/metadata-ready values (money and ratios as text, never float)."""
        return {
            "negotiations": str(self.negotiations),
            "agreed": str(self.agreed),
            "close_rate": "" if self.close_rate is None else str(self.close_rate),
            "average_cpm_achieved": _usd(self.average_cpm_achieved),
            "target_cpm": f"{_usd(self.target_cpm_min)}-{_usd(self.target_cpm_max)}",
            "agreements_within_target": str(self.agreements_within_target),
            "budget": _usd(self.budget),
            "budget_committed": _usd(self.budget_committed),
            "budget_remaining": _usd(self.budget_remaining),
            "agreed_packages": self.packages_text(),
        }


def build_campaign_report(
    campaign: Campaign, states: Sequence[NegotiationState], deals: Sequence[Deal]
) -> CampaignReport:
    """The campaign's numbers from every negotiation's state and every agreement."""
    by_state = Counter(state.value for state in states)
    committed = sum((deal.rate for deal in deals), Decimal(0))
    cpms = [deal.cpm for deal in deals]
    return CampaignReport(
        campaign_id=campaign.campaign_id,
        client_name=campaign.client_name,
        negotiations=len(states),
        by_state=dict(sorted(by_state.items())),
        agreed=len(deals),
        close_rate=(Decimal(len(deals)) / len(states)).quantize(RATE_PLACES) if states else None,
        average_cpm_achieved=quantize_cents(sum(cpms, Decimal(0)) / len(cpms)) if cpms else None,
        target_cpm_min=campaign.cpm_range.min_cpm,
        target_cpm_max=campaign.cpm_range.max_cpm,
        agreements_within_target=sum(cpm <= campaign.cpm_range.max_cpm for cpm in cpms),
        budget=campaign.budget,
        budget_committed=quantize_cents(committed),
        budget_remaining=quantize_cents(campaign.budget - committed),
        deals=tuple(deals),
    )


def money_with_currency(amount: Decimal | None, currency: str | None) -> str:
    """Dollars as $1,500.00; any other currency as "1,500.00 EUR" (never shown as dollars)."""
    if amount is None:
        return ""
    if currency in (None, "", "USD"):
        return _usd(amount)
    return f"{quantize_cents(amount):,.2f} {currency}"


def _usd(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return f"-{format_usd(-amount)}" if amount < 0 else format_usd(amount)
