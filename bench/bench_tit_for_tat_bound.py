"""What the strategy can reach against the simulated tit-for-tat creators, and what it reaches.

Run: uv run python bench/bench_tit_for_tat_bound.py [--campaigns 50] [--influencers 200]

A tit-for-tat creator lowers its ask per value-weighted view by the share we raised our offer
per view, never below its reservation, and (like every standard opponent) settles for an offer
at or above its reservation once it has replied more than its deadline. With offers that never
fall per view, their ask times our offer stays at their first ask times our opening (up to
their rounding), so the prices can only meet at √(first ask × opening) per view. A closeable
creator is therefore within reach only if, for some package with its reservation within our
ceiling, that meeting point is within the ceiling too ("meets on the first package" or "meets
on a later package"), or its deadline falls within the replies our max_rounds allow
("deadline within our rounds"; which package it settles on depends on a reservation we do not
see). Otherwise it is out of reach of any monotone strategy. This prints each class, how many
we agreed, and the highest deal rate any such strategy could reach.

That highest rate assumes we knew which package to make our last offers on. For the creators
whose deadline falls within our rounds it then prints what fixed choices of package win (our
ceiling offered on the replies after their deadline; their reservation decides): the
reservation is hidden and a mirror's asks per view are the same for every package, so nothing
in the conversation tells the packages apart.
"""

from __future__ import annotations

import argparse
from collections import Counter
from decimal import Decimal

from bench._results import emit, emit_section
from negotiation_pipeline.domain.negotiation.engine import Outcome
from negotiation_pipeline.sandbox.simulation.metrics import lever_path, package_limit
from negotiation_pipeline.sandbox.simulation.opponents import Opponent, OpponentType
from negotiation_pipeline.sandbox.simulation.simulator import Run, closeable, simulate
from negotiation_pipeline.settings.engine import load_engine_config

CLASSES = (
    "meets on the first package",
    "meets on a later package",
    "deadline within our rounds",
    "no counter of theirs to read (agreed at once, or a human took the first ask)",
    "out of reach",
)


def reach(run: Run, max_rounds: int) -> str:
    """Which class (see module docstring) a closeable tit-for-tat negotiation falls in."""
    person = run.person
    assert isinstance(person, Opponent)
    points = run.points
    asked = points[1].their_ask if len(points) > 1 else None
    if asked is None:
        return CLASSES[3]
    opening, first = points[0], points[1]
    first_ask = asked / first.value_views
    meeting_per_view = (first_ask * opening.amount / opening.value_views).sqrt()
    policy = run.config.policy
    meets: list[int] = []
    for index, levers in enumerate(lever_path(run.campaign, policy)):
        limit = package_limit(run.terms, run.campaign, levers, policy)
        within = person.reservation_for(levers, run.campaign) <= limit.ceiling
        if within and meeting_per_view * limit.value_views <= limit.ceiling:
            meets.append(index)
    if meets:
        return CLASSES[0] if meets[0] == 0 else CLASSES[1]
    if person.deadline + 1 <= max_rounds + 1:  # replies: one to the opening, one per round
        return CLASSES[2]
    return CLASSES[4]


CHOICES = (
    "scenario 1 on every reply after their deadline",
    "the last package of the lever path on every such reply",
    "scenario 1, then the last package on our final round",
    "whichever package is within reach (hindsight)",
)


def deadline_choices(run: Run, max_rounds: int) -> tuple[bool, ...] | None:
    """For a creator whose deadline falls within our rounds: whether each of CHOICES wins.
    Replies after their deadline answer our counters deadline .. max_rounds."""
    person = run.person
    assert isinstance(person, Opponent)
    if person.deadline > max_rounds:
        return None
    policy = run.config.policy
    within = [
        person.reservation_for(levers, run.campaign)
        <= package_limit(run.terms, run.campaign, levers, policy).ceiling
        for levers in lever_path(run.campaign, policy)
    ]
    tickets = max_rounds - person.deadline + 1
    first_then_last = (within[0] and tickets > 1) or within[-1]
    return within[0], within[-1], first_then_last, any(within)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--influencers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = load_engine_config()
    seen: Counter[tuple[str, bool]] = Counter()
    chosen: Counter[str] = Counter()

    def observe(run: Run, outcome: Outcome) -> None:
        person = run.person
        mirror = isinstance(person, Opponent) and person.kind is OpponentType.TIT_FOR_TAT
        if mirror and closeable(run):
            agreed = outcome.negotiation.agreed_rate is not None
            seen[(reach(run, config.policy.max_rounds), agreed)] += 1
            wins = deadline_choices(run, config.policy.max_rounds)
            if wins is not None:
                chosen["creators"] += 1
                chosen["agreed"] += agreed
                for name, won in zip(CHOICES, wins, strict=True):
                    chosen[name] += won

    simulate(args.campaigns, args.influencers, args.seed, config, observe=observe)
    total = sum(seen.values())
    agreed = sum(n for (_, won), n in seen.items() if won)
    unreachable = seen[(CLASSES[4], False)] + seen[(CLASSES[3], False)]
    lines = [
        "| class | closeable | agreed | not agreed |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {seen[(name, True)] + seen[(name, False)]} | {seen[(name, True)]} "
            f"| {seen[(name, False)]} |"
            for name in CLASSES
        ),
        f"| all | {total} | {agreed} | {total - agreed} |",
    ]
    bound = Decimal(total - unreachable) / total if total else Decimal(0)
    rate = Decimal(agreed) / total if total else Decimal(0)
    text = "\n".join(
        [
            f"`uv run python bench/bench_tit_for_tat_bound.py --campaigns {args.campaigns} "
            f"--influencers {args.influencers} --seed {args.seed}`: the closeable tit-for-tat "
            "creators of the strategy table, by what any strategy whose offers never fall per "
            "view could reach (see the script's docstring).",
            "",
            *lines,
            "",
            f"Deal rate reached: {rate:.3f}; the most any such strategy could reach (every "
            f"creator not out of reach agreed; first asks a human took excluded): {bound:.3f}.",
            "",
            f"Of these, {chosen['creators']} have a deadline within our "
            f"{config.policy.max_rounds} rounds; we agreed {chosen['agreed']}. Offering our "
            "ceiling on a fixed package on the replies after their deadline would win:",
            "",
            "| package of our last offers | creators won |",
            "|---|---:|",
            *(f"| {name} | {chosen[name]} |" for name in CHOICES),
        ]
    )
    print(text)
    emit("tit-for-tat deal rate on closeable", float(rate), "", digits=3)
    emit("tit-for-tat deal rate within reach of any monotone strategy", float(bound), "", digits=3)
    emit_section("Tit-for-tat: what is within reach", text)


if __name__ == "__main__":
    main()
