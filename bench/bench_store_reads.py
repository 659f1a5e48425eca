"""Negotiation-state reads and saves: does `load_active` stay fast as finished history piles up?

    uv run python bench/bench_store_reads.py                      # 3,000 active; 100,000 total
    uv run python bench/bench_store_reads.py --total 20000        # quicker
    uv run python bench/bench_store_reads.py --no-postgres        # SQLite only

For each backend (SQLite; PostgreSQL when a throwaway server can start, the same helper the
store tests use) it builds two stores with the same `--active` live negotiations, the second
also holding finished ones (agreed / rejected / stopped) up to `--total`, and times the list
queries on both, alternating runs (so load from other processes hits both alike).
Rows are realistic: a real engine record as context (~1 KB), the campaign, its CPM tracker and a
five-step history. Reads go through the public repository API and touch what callers use
(thread id, state, controller), so decoding is included. Saves are measured one transaction per
save, as the workflow writes them.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from bench._results import emit
from negotiation_pipeline.domain.campaigns.campaign import Campaign, CPMRange
from negotiation_pipeline.domain.enums import NegotiationState, Platform
from negotiation_pipeline.domain.negotiation.engine import InfluencerTerms, Negotiation
from negotiation_pipeline.domain.negotiation.state_machine import HistoryEntry
from negotiation_pipeline.store import NegotiationStore, SQLiteStore, UnitOfWork
from negotiation_pipeline.store.postgres import PostgresStore

LOAD_ACTIVE_TARGET_MS = 15.0
FLAT_RATIO_TARGET = 1.5  # a query at full history may cost at most this much more than fresh
PER_CAMPAIGN = 200
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTIVE_STATES = (
    NegotiationState.AWAITING_REPLY,
    NegotiationState.COUNTER_SENT,
    NegotiationState.COUNTER_RECEIVED,
    NegotiationState.ESCALATED,
    NegotiationState.PAUSED,
)
TERMINAL_STATES = (NegotiationState.AGREED, NegotiationState.REJECTED, NegotiationState.STOPPED)
HISTORY = (
    (NegotiationState.INITIAL_OFFER, "send_offer", NegotiationState.AWAITING_REPLY),
    (NegotiationState.AWAITING_REPLY, "receive_reply", NegotiationState.COUNTER_RECEIVED),
    (NegotiationState.COUNTER_RECEIVED, "send_counter", NegotiationState.COUNTER_SENT),
    (NegotiationState.COUNTER_SENT, "receive_reply", NegotiationState.COUNTER_RECEIVED),
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
    paused = state is NegotiationState.PAUSED
    last = NegotiationState.COUNTER_SENT if paused else state
    history: tuple[HistoryEntry, ...] = (
        *HISTORY,
        (NegotiationState.COUNTER_RECEIVED, "decide", last),
    )
    if paused:
        history = (*history, (NegotiationState.COUNTER_SENT, "pause", NegotiationState.PAUSED))
    return Negotiation(
        thread_id=f"{campaign.campaign_id}:creator-{number}",
        campaign_id=campaign.campaign_id,
        terms=terms,
        state=state,
        history=history,
        pre_pause_state=NegotiationState.COUNTER_SENT if paused else None,
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


def add_rows(
    store: NegotiationStore, first: int, count: int, states: tuple[NegotiationState, ...]
) -> None:
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


Query = Callable[[NegotiationStore], object]


def load_active(active: int) -> Query:
    def run(store: NegotiationStore) -> object:
        found = store.states.load_active()
        assert len(found) == active, (len(found), active)
        # What the follow-up sweep reads of every row.
        return [
            s.thread_id
            for s in found
            if s.state is NegotiationState.AWAITING_REPLY and s.controlled_by
        ]

    return run


def list_for_campaign(store: NegotiationStore) -> object:
    found = store.states.list_for_campaign("cmp-0")
    assert len(found) == PER_CAMPAIGN
    return [s.state for s in found]


def load_by_email(store: NegotiationStore) -> object:
    (found,) = store.states.load_by_email("Creator7@gmail.com")
    return found.state


def time_queries(
    fresh: NegotiationStore, full: NegotiationStore, queries: dict[str, Query], repeat: int
) -> dict[str, tuple[float, float, float, float]]:
    """Median wall ms of each query on both stores, alternating runs so that load from other
    processes hits both sides alike, and the median CPU ms of this process (with SQLite that is
    all the work, and it hardly moves when other processes share the cores)."""
    wall: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    for name, query in queries.items():
        for side, store in enumerate((fresh, full)):
            query(store)  # warm: the connection, the page cache, the statement cache
            wall[name, side], cpu[name, side] = [], []
    for _ in range(repeat):
        for name, query in queries.items():
            for side, store in enumerate((fresh, full)):
                started, started_cpu = time.perf_counter(), time.process_time()
                query(store)
                wall[name, side].append((time.perf_counter() - started) * 1000)
                cpu[name, side].append((time.process_time() - started_cpu) * 1000)
    return {
        name: (
            statistics.median(wall[name, 0]),
            statistics.median(wall[name, 1]),
            statistics.median(cpu[name, 0]),
            statistics.median(cpu[name, 1]),
        )
        for name in queries
    }


def time_saves(store: NegotiationStore, count: int, rounds: int = 3) -> tuple[float, float]:
    """Saves per second (wall, and this process's CPU), each save its own transaction,
    re-saving live rows as a reply run does; the best of `rounds` rounds."""
    campaign = campaign_for(0)
    rows = [negotiation_for(n, campaign, NegotiationState.COUNTER_SENT) for n in range(count)]
    wall, cpu = [], []
    for round_number in range(rounds):
        batch = [replace(r, round_count=round_number + 2) for r in rows]
        started, started_cpu = time.perf_counter(), time.process_time()
        for negotiation in batch:
            save(store, negotiation, campaign)
        wall.append(count / (time.perf_counter() - started))
        cpu.append(count / max(time.process_time() - started_cpu, 1e-9))
    return max(wall), max(cpu)


def settle(store: NegotiationStore) -> None:
    """Give a PostgreSQL store what autovacuum gives a live one within a minute of a bulk load:
    planner statistics and the visibility map. Without statistics the planner guesses that most
    rows are live and scans the table (~100 ms here); with them, and in every store that grew
    over weeks, load_active is an index-only scan of the live rows. (SQLite needs nothing: its
    planner takes the partial index without statistics.)"""
    if isinstance(store, PostgresStore):
        conn = store._thread_connection(open_new=True)
        assert conn is not None
        conn.execute("VACUUM (ANALYZE) negotiation_state")  # autocommit: outside any transaction


def run_backend(
    name: str, fresh: NegotiationStore, full: NegotiationStore, args: argparse.Namespace
) -> None:
    started = time.perf_counter()
    for store in (fresh, full):
        add_rows(store, 0, args.active, ACTIVE_STATES)
    add_rows(full, args.active, args.total - args.active, TERMINAL_STATES)
    for store in (fresh, full):
        settle(store)
    print(f"{name}: built the stores in {time.perf_counter() - started:.1f} s")
    queries = {
        "load_active": load_active(args.active),
        "list_for_campaign": list_for_campaign,
        "load_by_email": load_by_email,
    }
    timings = time_queries(fresh, full, queries, args.repeat)
    saves, saves_cpu = time_saves(full, min(args.saves, args.active))
    print(f"\n{name}: median of {args.repeat} runs, {args.active:,} active")
    print(
        f"| query | {args.active:,} total | {args.total:,} total | client cpu at {args.active:,} "
        f"| client cpu at {args.total:,} |\n|---|---:|---:|---:|---:|"
    )
    for query, (small, big, small_cpu, big_cpu) in timings.items():
        print(
            f"| {query} | {small:.2f} ms | {big:.2f} ms | {small_cpu:.2f} ms | {big_cpu:.2f} ms |"
        )
    # With SQLite this process does all the work; a PostgreSQL server's share is not in it.
    cpu_note = f" (per CPU second of this process: {saves_cpu:,.0f}/s)" if name == "sqlite" else ""
    print(
        f"saves (one transaction each, at {args.total:,} rows, best of 3): "
        f"{saves:,.0f}/s{cpu_note}\n"
    )
    target = LOAD_ACTIVE_TARGET_MS if name == "sqlite" else None
    for label, side in ((f"{args.active:,} total", 0), (f"{args.total:,} total", 1)):
        value = timings["load_active"][side]
        emit(
            f"{name} load_active: {args.active:,} active, {label}",
            value,
            "ms",
            target="" if target is None else f"<= {target:g} ms",
            ok=None if target is None else value <= target,
        )
    for query, (small, big, _, _) in timings.items():
        emit(
            f"{name} {query}: time at {args.total:,} / at {args.active:,} rows",
            big / small,
            "x",
            target=f"<= {FLAT_RATIO_TARGET:g}x (flat)",
            ok=big / small <= FLAT_RATIO_TARGET,
            digits=2,
        )
    emit(f"{name} states.save, one transaction each", saves, "saves/s", digits=0)


@contextmanager
def sqlite_stores() -> Iterator[tuple[SQLiteStore, SQLiteStore]]:
    with tempfile.TemporaryDirectory(prefix="bench-store-reads-") as tmp:
        fresh = SQLiteStore(Path(tmp) / "fresh.db")
        full = SQLiteStore(Path(tmp) / "full.db")
        try:
            yield fresh, full
        finally:
            fresh.close()
            full.close()


@contextmanager
def postgres_stores() -> Iterator[tuple[PostgresStore, PostgresStore] | None]:
    from tests.servers.postgres import PostgresUnavailable, running_postgres

    try:
        with running_postgres() as server:
            fresh = PostgresStore(server.url, schema="store_reads_fresh")
            full = PostgresStore(server.url, schema="store_reads_full")
            try:
                yield fresh, full
            finally:
                fresh.close()
                full.close()
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
    with sqlite_stores() as (fresh, full):
        run_backend("sqlite", fresh, full, args)
    if not args.no_postgres:
        with postgres_stores() as pair:
            if pair is not None:
                run_backend("postgres", *pair, args)


if __name__ == "__main__":
    main()
