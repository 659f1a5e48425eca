"""What a simulation counts (per campaign, added up in campaign order) and its summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from negotiation_pipeline.domain.money import quantize_cents
from negotiation_pipeline.sandbox.simulation.metrics import TypeTally, markdown_table
from negotiation_pipeline.sandbox.simulation.opponents import OpponentType
from negotiation_pipeline.sandbox.simulation.personas import Persona


@dataclass
class Tally:
    final_states: Counter[str] = field(default_factory=Counter)
    escalations: Counter[str] = field(default_factory=Counter)
    by_persona: dict[str, Counter[str]] = field(default_factory=dict)
    by_type: dict[str, TypeTally] = field(default_factory=dict)
    rounds: list[int] = field(default_factory=list)
    agreed_cpms: list[Decimal] = field(default_factory=list)
    target_min: list[Decimal] = field(default_factory=list)
    target_max: list[Decimal] = field(default_factory=list)
    within_target: int = 0
    budget_used: Decimal = Decimal(0)
    budget_total: Decimal = Decimal(0)
    replies: int = 0
    emails_sent: int = 0
    engine_seconds: float = 0.0

    def add(self, other: Tally) -> None:
        """Add a later campaign's tally (lists keep their order: campaign after campaign)."""
        self.final_states.update(other.final_states)
        self.escalations.update(other.escalations)
        for persona, states in other.by_persona.items():
            self.by_persona.setdefault(persona, Counter()).update(states)
        for kind, counts in other.by_type.items():
            self.by_type.setdefault(kind, TypeTally()).add(counts)
        for name in ("rounds", "agreed_cpms", "target_min", "target_max"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("within_target", "budget_used", "budget_total", "replies", "emails_sent"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.engine_seconds += other.engine_seconds


def _mean(values: list[Decimal]) -> str | None:
    if not values:
        return None
    return str(quantize_cents(sum(values, Decimal(0)) / len(values)))


def _by_opponent(tally: Tally) -> dict[str, dict[str, str | int]]:
    order = [t.value for t in OpponentType] + [p.value for p in Persona]
    rows = {name: tally.by_type[name].row() for name in order if name in tally.by_type}
    total = TypeTally()
    for name in order:
        if name in tally.by_type:
            total.add(tally.by_type[name])
    rows["all"] = total.row()
    return rows


def summary_of(tally: Tally, seed: int, campaigns: int, influencers: int) -> dict[str, Any]:
    total = campaigns * influencers
    by_opponent = _by_opponent(tally)
    return {
        "seed": seed,
        "campaigns": campaigns,
        "influencers_per_campaign": influencers,
        "negotiations": total,
        "final_states": dict(sorted(tally.final_states.items())),
        "escalation_reasons": dict(sorted(tally.escalations.items())),
        "final_states_by_persona": {
            persona: dict(sorted(states.items()))
            for persona, states in sorted(tally.by_persona.items())
        },
        "by_opponent": by_opponent,
        "by_opponent_markdown": markdown_table(by_opponent),
        "rounds": {
            "mean": str((Decimal(sum(tally.rounds)) / len(tally.rounds)).quantize(Decimal("0.01"))),
            "max": max(tally.rounds),
        },
        "close_rate": str((Decimal(len(tally.agreed_cpms)) / total).quantize(Decimal("0.001"))),
        "average_cpm_achieved": _mean(tally.agreed_cpms),
        "average_target_cpm_min": _mean(tally.target_min),
        "average_target_cpm_max": _mean(tally.target_max),
        "agreements_within_target_max": tally.within_target,
        "budget_used": str(tally.budget_used),
        "budget_total": str(tally.budget_total),
        "replies_processed": tally.replies,
        "emails_sent": tally.emails_sent,
    }
