"""Record serialisation: how many negotiation records per second go to a dict and back?

    uv run python bench/bench_record_codec.py [--seconds 3]

Every save of a negotiation writes `Negotiation.to_dict()` and every load reads
`Negotiation.from_dict(...)`, so both sit on the workflow's per-reply path. Two records are timed:
a live negotiation after a counter (terms with three scenarios, asks, offers, said) and one
holding a draft for approval (an email, its decision and the record after sending, nested).
Each is encoded and decoded in a loop for `--seconds`; the median of five slices is reported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial

from bench._results import emit
from negotiation_pipeline.domain.enums import Intent
from negotiation_pipeline.domain.negotiation.approval import hold_for_approval
from negotiation_pipeline.domain.negotiation.engine import Negotiation
from negotiation_pipeline.domain.negotiation.pricing import ScenarioPrice
from tests.domain.negotiation.engine_support import NOW, make_terms, opened, reading, reply


def live_record() -> Negotiation:
    terms = make_terms(
        scenarios=(
            ScenarioPrice(1, 50_000, Decimal("1000.00"), Decimal("1620.00")),
            ScenarioPrice(2, 40_000, Decimal("800.00"), Decimal("1296.00")),
            ScenarioPrice(3, 30_000, Decimal("600.00"), Decimal("972.00")),
        ),
        manager_emails=("jordan@brightlinetalent.com",),
    )
    return reply(opened(terms=terms).negotiation, reading(Intent.COUNTER, "2500")).negotiation


def held_record() -> Negotiation:
    before = opened().negotiation
    sent = reply(before, reading(Intent.COUNTER, "1400"))
    return hold_for_approval(before, sent, NOW).negotiation


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls per second: the median of five slices of `seconds / 5`."""
    rates = []
    for _ in range(5):
        count, started = 0, time.perf_counter()
        deadline = started + seconds / 5
        while time.perf_counter() < deadline:
            for _ in range(50):
                work()
            count += 50
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    for name, record in (("live", live_record()), ("held", held_record())):
        data = record.to_dict()
        assert Negotiation.from_dict(data) == record
        encode = rate(record.to_dict, args.seconds)
        decode = rate(partial(Negotiation.from_dict, data), args.seconds)
        print(f"{name}: to_dict {encode:,.0f}/s ({1e6 / encode:.1f} µs), "
              f"from_dict {decode:,.0f}/s ({1e6 / decode:.1f} µs)")  # fmt: skip
        emit(f"record codec {name} to_dict", encode, "records/s", digits=0)
        emit(f"record codec {name} from_dict", decode, "records/s", digits=0)


if __name__ == "__main__":
    main()
