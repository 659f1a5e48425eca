"""Audit trail benchmark: bulk insert rate and query latency on a large SQLite audit log.

    uv run python bench/bench_audit.py                  # 1,000,000 rows (a few minutes)
    uv run python bench/bench_audit.py --rows 20000     # quick run
    uv run python bench/bench_audit.py --rows 20000 --db postgresql://user@127.0.0.1:5432/db
        # PostgreSQL: the store lives in schema `audit_bench` of that database, which is
        # dropped and rebuilt (nothing else in the database is touched)

Builds a fresh database with `audit.insert_many` (realistic spread: thousands of influencers,
hundreds of campaigns, all event types, timestamps over one year, appended in time order as a
live system does), then times `audit.query` by influencer, campaign, date range (default limit
50, through the public API, so row decoding is included) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench._results import emit
from negotiation_pipeline.domain.audit import AuditEntry
from negotiation_pipeline.domain.enums import EventType, NegotiationState
from negotiation_pipeline.store import AuditQuery, SQLiteStore
from negotiation_pipeline.store.paths import is_postgres_url
from negotiation_pipeline.store.postgres import PostgresStore

PG_BENCH_SCHEMA = "audit_bench"

INSERT_TARGET_PER_S = 10_000
QUERY_P95_TARGET_MS = 1.0

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
SECONDS_IN_YEAR = 365 * 24 * 3600

# Roughly how often each event happens in a running agency.
EVENT_WEIGHTS = {
    EventType.EMAIL_SENT: 30,
    EventType.EMAIL_RECEIVED: 28,
    EventType.STATE_TRANSITION: 25,
    EventType.ESCALATION: 4,
    EventType.AGREEMENT: 5,
    EventType.TAKEOVER: 1,
    EventType.CAMPAIGN_START: 1,
    EventType.CAMPAIGN_INFLUENCER_SKIP: 2,
    EventType.ERROR: 1,
}
BODIES = (
    "Hi {name}, we'd love to work with you on {campaign}. We can offer ${rate} for one reel.",
    "Thanks {name}! Could you do ${rate}? Usage rights 30 days, one revision round.",
    "Hey, my rate for a reel is ${rate}. Let me know!",
)


def _names(count: int, rng: random.Random) -> list[str]:
    first = ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jade"]
    last = ["Ray", "Doe", "Öberg", "Kim", "Stone", "Nguyen", "Patel", "Smith", "Lopez", "Ito"]
    return [f"{rng.choice(first)} {rng.choice(last)} {i}" for i in range(count)]


def generate(
    rows: int, influencers: list[str], campaigns: list[str], seed: int
) -> Iterator[AuditEntry]:
    rng = random.Random(seed)
    events = list(EVENT_WEIGHTS)
    weights = list(EVENT_WEIGHTS.values())
    states = [s.value for s in NegotiationState]
    step = SECONDS_IN_YEAR / rows
    for i in range(rows):
        moment = YEAR_START + timedelta(seconds=i * step + rng.random() * step)
        event = rng.choices(events, weights)[0]
        name = rng.choice(influencers)
        campaign = rng.choice(campaigns)
        rate = Decimal(rng.randrange(20_000, 500_000)) / 100
        is_email = event in (EventType.EMAIL_SENT, EventType.EMAIL_RECEIVED)
        yield AuditEntry(
            event_type=event,
            campaign_id=campaign,
            influencer_name=name,
            thread_id=f"<{campaign}.{name.split()[-1]}@agency.example>",
            direction=("sent" if event is EventType.EMAIL_SENT else "received")
            if is_email
            else None,
            email_body=rng.choice(BODIES).format(name=name, campaign=campaign, rate=rate)
            if is_email
            else None,
            negotiation_state=rng.choice(states),
            rates_used=str(rate),
            intent_classification="counter" if event is EventType.EMAIL_RECEIVED else None,
            metadata={"round": rng.randrange(1, 6)} if event is not EventType.EMAIL_SENT else None,
            timestamp=moment,
        )


class _TimedSource:
    """Wraps the entry generator and adds up the time spent producing entries."""

    def __init__(self, source: Iterator[AuditEntry]) -> None:
        self._source = source
        self.seconds = 0.0

    def __iter__(self) -> Iterator[AuditEntry]:
        return self

    def __next__(self) -> AuditEntry:
        start = time.perf_counter()
        try:
            return next(self._source)
        finally:
            self.seconds += time.perf_counter() - start


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


def time_queries(call: Callable[[], list[AuditEntry]], count: int) -> tuple[float, float, float]:
    for _ in range(min(20, count)):  # warm the page cache and the statement cache
        call()
    samples: list[float] = []
    returned = 0
    for _ in range(count):
        start = time.perf_counter()
        returned += len(call())
        samples.append(time.perf_counter() - start)
    p50, p95 = percentiles(samples)
    return p50, p95, returned / count


def _open(db: str, *, create: bool = True) -> SQLiteStore | PostgresStore:
    if is_postgres_url(db):
        return PostgresStore(db, schema=PG_BENCH_SCHEMA, create=create)
    return SQLiteStore(db, create=create)


def _remove_previous(db: str) -> None:
    if not is_postgres_url(db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(db, autocommit=True) as conn:
        drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(PG_BENCH_SCHEMA))
        conn.execute(drop)


def _size_bytes(db: str) -> int:
    if not is_postgres_url(db):
        return Path(db).stat().st_size
    import psycopg

    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_total_relation_size(%s)", (f"{PG_BENCH_SCHEMA}.audit_log",)
        ).fetchone()
    return int(row[0]) if row else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500, help="timed queries per kind")
    parser.add_argument("--influencers", type=int, default=5_000)
    parser.add_argument("--campaigns", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--db",
        default="bench/out/audit_bench.db",
        help="SQLite file, or a postgresql:// URL (uses and rebuilds schema audit_bench)",
    )
    parser.add_argument("--reuse", action="store_true", help="query an existing DB, skip build")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    influencers = _names(args.influencers, rng)
    campaigns = [f"86a{n:06x}" for n in range(args.campaigns)]
    insert_line = "(reused existing database)"
    insert_rate: float | None = None
    if not args.reuse:
        _remove_previous(args.db)
        store = _open(args.db)
        timed = _TimedSource(generate(args.rows, influencers, campaigns, args.seed))
        start = time.perf_counter()
        written = store.audit.insert_many(timed)
        elapsed = time.perf_counter() - start
        in_store = elapsed - timed.seconds
        insert_rate = written / in_store
        insert_line = (
            f"insert_many: {written:,} rows in {elapsed:.1f} s wall = {written / elapsed:,.0f} "
            f"rows/s end to end; **{written / in_store:,.0f} rows/s in the store** (wall minus "
            f"{timed.seconds:.1f} s the benchmark spent building AuditEntry models)"
        )
        store.close()
    store = _open(args.db, create=False)
    size_mb = _size_bytes(args.db) / 1e6

    def random_day() -> date:
        return (YEAR_START + timedelta(days=rng.randrange(0, 358))).date()

    def by_influencer() -> list[AuditEntry]:
        # Random case: the match is case-insensitive.
        return store.audit.query(AuditQuery(influencer=rng.choice(influencers).swapcase()))

    def by_campaign() -> list[AuditEntry]:
        return store.audit.query(AuditQuery(campaign=rng.choice(campaigns)))

    def by_date_range() -> list[AuditEntry]:
        first = random_day()
        return store.audit.query(AuditQuery(from_date=first, to_date=first + timedelta(days=6)))

    def by_event_type_last_30_days() -> list[AuditEntry]:
        now = YEAR_START + timedelta(days=rng.randrange(30, 365))
        kind = rng.choice([EventType.AGREEMENT, EventType.ESCALATION, EventType.ERROR])
        return store.audit.query(AuditQuery(event_type=kind, since=timedelta(days=30), now=now))

    def influencer_and_campaign() -> list[AuditEntry]:
        return store.audit.query(
            AuditQuery(influencer=rng.choice(influencers), campaign=rng.choice(campaigns))
        )

    kinds: list[tuple[str, Callable[[], list[AuditEntry]]]] = [
        ("by influencer (case-insensitive)", by_influencer),
        ("by campaign", by_campaign),
        ("by date range (7 whole days)", by_date_range),
        ("by event type, last 30 days", by_event_type_last_30_days),
        ("by influencer + campaign (mostly empty)", influencer_and_campaign),
    ]
    rows = [(label, *time_queries(call, args.queries)) for label, call in kinds]
    print(f"# Audit benchmark: {args.rows:,} rows, {args.db} ({size_mb:,.0f} MB)\n")
    print(insert_line + "\n")
    print(
        f"| query (limit 50, {args.queries} timed calls each) | p50 ms | p95 ms | rows returned |"
    )
    print("|---|---:|---:|---:|")
    for label, p50, p95, mean_rows in rows:
        print(f"| {label} | {p50:.3f} | {p95:.3f} | {mean_rows:.1f} |")
    if insert_rate is not None:
        emit(
            "audit insert_many (batch path, in the store)",
            insert_rate,
            "rows/s",
            target=">= 10,000 rows/s",
            ok=insert_rate >= INSERT_TARGET_PER_S,
        )
    for label, _p50, p95, _rows in rows:
        emit(
            f"audit query p95 at {args.rows:,} rows: {label}",
            p95,
            "ms",
            target="< 1 ms",
            ok=p95 < QUERY_P95_TARGET_MS,
        )
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
