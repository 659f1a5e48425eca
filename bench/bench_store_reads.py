"""Negotiation-state reads and saves: does `load_active` stay fast as finished history piles up?

    uv run python bench/bench_store_reads.py                      # 3,000 active; 100,000 total
    uv run python bench/bench_store_reads.py --total 20000        # quicker
    uv run python bench/bench_store_reads.py --no-postgres        # SQLite only

For each backend (SQLite; PostgreSQL when a throwaway server can start, the same helper the
store tests use) it builds a store with `--active` live negotiations, times the list queries,
then adds finished ones (agreed / rejected / stopped) up to `--total` and times them again.
Rows are realistic: a real engine record as context (~1 KB), the campaign, its CPM tracker and a
five-step history. Reads go through the public repository API and touch what callers use
(thread id, state, controller), so decoding is included. Saves are measured one transaction per
save, as the workflow writes them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _results import emit

from negotiation_pipeline.domain.campaign import Campaign, CPMRange
from negotiation_pipeline.domain.negotiation import InfluencerTerms, Negotiation
from negotiation_pipeline.domain.types import NegotiationState, Platform
from negotiation_pipeline.store import NegotiationStore, SQLiteStore, UnitOfWork
from negotiation_pipeline.store.postgres import PostgresStore

S = NegotiationState
LOAD_ACTIVE_TARGET_MS = 15.0
FLAT_RATIO_TARGET = 1.5  # a query at full history may cost at most this much more than fresh
PER_CAMPAIGN = 200
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTIVE_STATES = (S.AWAITING_REPLY, S.COUNTER_SENT, S.COUNTER_RECEIVED, S.ESCALATED, S.PAUSED)
TERMINAL_STATES = (S.AGREED, S.REJECTED, S.STOPPED)
HISTORY = (
    (S.INITIAL_OFFER, "send_offer", S.AWAITING_REPLY),
    (S.AWAITING_REPLY, "receive_reply", S.COUNTER_RECEIVED),
    (S.COUNTER_RECEIVED, "send_counter", S.COUNTER_SENT),
    (S.COUNTER_SENT, "receive_reply", S.COUNTER_RECEIVED),
)


def campaign_for(number: int) -> Campaign:
    return Campaign(
        campaign_id=f"cmp-{number}",
        client_name="Glow Labs",
        budget=Decimal("50000"),
        platform=Platform.INSTAGRAM,
        cpm_range=CPMRange(min_cpm=Decimal("20"), max_cpm=Decimal("30")),
        publish_date=date(2026, 4, 20),
    )


def negotiation_for(number: int, campaign: Campaign, state: NegotiationState) -> Negotiation:
    email = f"creator{number}@gmail.com"
    terms = InfluencerTerms(
        name=f"Creator {number} Smith",
        email=email,
        platform=Platform.INSTAGRAM,
        average_views=50_000,
        engagement_rate=Decimal("4.2"),
        floor_rate=Decimal("1000.00"),
        ceiling_rate=Decimal("1620.00"),
        max_allowed_cpm=Decimal("32.40"),
    )
    paused = state is S.PAUSED
    last = S.COUNTER_SENT if paused else state
    history = (*HISTORY, (S.COUNTER_RECEIVED, "decide", last))
    if paused:
        history = (*history, (S.COUNTER_SENT, "pause", S.PAUSED))
    return Negotiation(
        thread_id=f"{campaign.campaign_id}:creator-{number}",
        campaign_id=campaign.campaign_id,
        terms=terms,
        state=state,
        history=history,
        pre_pause_state=S.COUNTER_SENT if paused else None,
        round_count=1,
        replies_received=2,
        our_last_offer=Decimal("1250.00"),
        their_last_ask=Decimal("1400.00"),
        offers=(Decimal("1000.00"), Decimal("1250.00")),
        counterparty_email=email,
        last_activity=NOW,
    )


TRACKER = {
    "campaign_id": "cmp",
    "target_min_cpm": "20",
    "target_max_cpm": "30",
    "total_influencers": PER_CAMPAIGN,
    "agreements": [{"cpm": "20.00", "engagement_rate": "4.2"}] * 3,
}


def save(uow: UnitOfWork | NegotiationStore, negotiation: Negotiation, campaign: Campaign) -> None:
    uow.states.save(
        negotiation.thread_id,
        negotiation.machine(),
        negotiation.to_dict(),
        campaign,
        TRACKER,
        negotiation.round_count,
        influencer_name=negotiation.terms.name,
        influencer_email=negotiation.terms.email,
        lever_state=negotiation.levers.to_dict(),
    )


def add_rows(store: NegotiationStore, first: int, count: int, states: tuple[S, ...]) -> None:
    """`count` negotiations numbered from `first`, PER_CAMPAIGN per campaign, in big batches."""
    campaigns: dict[int, Campaign] = {}
    for start in range(first, first + count, 5_000):
        with store.transaction() as uow:
            for number in range(start, min(start + 5_000, first + count)):
                campaign_number = number // PER_CAMPAIGN
                campaign = campaigns.get(campaign_number) or campaign_for(campaign_number)
                campaigns[campaign_number] = campaign
                state = states[number % len(states)]
                save(uow, negotiation_for(number, campaign, state), campaign)


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()  # warm: the connection, the page cache, the statement cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def time_queries(store: NegotiationStore, active: int, repeat: int) -> dict[str, float]:
    def load_active() -> object:
        found = store.states.load_active()
        # What the follow-up sweep reads of every row.
        waiting = [s.thread_id for s in found if s.state is S.AWAITING_REPLY and s.controlled_by]
        assert len(found) == active, (len(found), active)
        return waiting

    def for_campaign() -> object:
        found = store.states.list_for_campaign("cmp-0")
        assert len(found) == min(PER_CAMPAIGN, active)
        return [s.state for s in found]

    def by_email() -> object:
        (found,) = store.states.load_by_email("Creator7@gmail.com")
        return found.state

    return {
        "load_active": median_ms(load_active, repeat),
        "list_for_campaign": median_ms(for_campaign, repeat),
        "load_by_email": median_ms(by_email, repeat),
    }


def time_saves(store: NegotiationStore, count: int) -> float:
    """Saves per second, each its own transaction, re-saving live rows as a reply run does."""
    campaign = campaign_for(0)
    rows = [negotiation_for(n, campaign, S.COUNTER_SENT) for n in range(count)]
    rows = [replace(r, round_count=2) for r in rows]
    started = time.perf_counter()
    for negotiation in rows:
        save(store, negotiation, campaign)
    return count / (time.perf_counter() - started)


def run_backend(name: str, store: NegotiationStore, args: argparse.Namespace) -> None:
    add_rows(store, 0, args.active, ACTIVE_STATES)
    fresh = time_queries(store, args.active, args.repeat)
    started = time.perf_counter()
    add_rows(store, args.active, args.total - args.active, TERMINAL_STATES)
    print(f"{name}: built {args.total:,} rows in {time.perf_counter() - started:.1f} s")
    full = time_queries(store, args.active, args.repeat)
    saves = time_saves(store, min(args.saves, args.active))
    print(f"\n{name}: median of {args.repeat} runs, {args.active:,} active")
    print(f"| query | {args.active:,} total | {args.total:,} total |\n|---|---:|---:|")
    for query in fresh:
        print(f"| {query} | {fresh[query]:.2f} ms | {full[query]:.2f} ms |")
    print(f"saves (one transaction each, at {args.total:,} rows): {saves:,.0f}/s\n")
    target = LOAD_ACTIVE_TARGET_MS if name == "sqlite" else None
    for label, timings in ((f"{args.active:,} total", fresh), (f"{args.total:,} total", full)):
        emit(
            f"{name} load_active: {args.active:,} active, {label}",
            timings["load_active"],
            "ms",
            target="" if target is None else f"<= {target:g} ms",
            ok=None if target is None else timings["load_active"] <= target,
        )
    for query in fresh:
        ratio = full[query] / fresh[query]
        emit(
            f"{name} {query}: time at {args.total:,} / at {args.active:,} rows",
            ratio,
            "x",
            target=f"<= {FLAT_RATIO_TARGET:g}x (flat)",
            ok=ratio <= FLAT_RATIO_TARGET,
            digits=2,
        )
    emit(f"{name} states.save, one transaction each", saves, "saves/s", digits=0)


@contextmanager
def sqlite_store() -> Iterator[SQLiteStore]:
    with tempfile.TemporaryDirectory(prefix="bench-store-reads-") as tmp:
        store = SQLiteStore(Path(tmp) / "negotiation.db")
        try:
            yield store
        finally:
            store.close()


@contextmanager
def postgres_store() -> Iterator[PostgresStore | None]:
    from tests.servers.postgres import PostgresUnavailable, running_postgres

    try:
        with running_postgres() as server:
            store = PostgresStore(server.url, schema="store_reads_bench")
            try:
                yield store
            finally:
                store.close()
    except PostgresUnavailable as exc:
        print(f"postgres: skipped ({exc})")
        yield None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--active", type=int, default=3_000)
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--saves", type=int, default=2_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if args.total < args.active:
        parser.error("--total must be at least --active")
    with sqlite_store() as store:
        run_backend("sqlite", store, args)
    if not args.no_postgres:
        with postgres_store() as pg:
            if pg is not None:
                run_backend("postgres", pg, args)


if __name__ == "__main__":
    main()
