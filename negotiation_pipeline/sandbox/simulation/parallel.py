"""Campaigns of one simulation in worker processes, with the results of a single process.

Campaigns negotiate independently (each has its own CPM tracker); what ties them together is
the one seeded `random.Random` every campaign draws its cast from, in order. The draws of a
campaign never depend on how its negotiations went, so the parent first replays the draws alone
(cheap: no negotiation) to learn the generator's state at the start of each campaign; the
workers then run their campaigns from those states and hand back their tallies and the state
they ended in, and the parent checks each end state is the next campaign's start (a mismatch is
an error, never a silently different result) before it adds the tallies up in campaign order.

Workers are forked, so they inherit the engine configuration (compiled templates and reply
vocabulary) instead of receiving it pickled; where fork is not available, everything runs in
the calling process. They do not keep the parent's signal handlers: a parent that has run a
Dagster job in-process turns SIGTERM into an exception, and a worker stopped that way half-way
through taking the pool's shared queue lock leaves the lock taken and its siblings blocked, so
the pool never finishes shutting down. Workers end on SIGTERM and leave Ctrl-C to the parent.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")

# What forked workers inherit from the parent (set just before the pool forks).
_INHERITED: dict[str, Any] = {}


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _reset_signals_in_worker() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def inherited(name: str) -> Any:
    """A value the parent shared with its workers through `map_in_order`."""
    return _INHERITED[name]


def map_in_order(
    work: Callable[[Job], Result],
    jobs: Sequence[Job],
    workers: int,
    shared: dict[str, Any],
) -> list[Result]:
    """`work` applied to every job, in up to `workers` forked processes; results in job order.
    `work` must be a module-level function; it reads `shared` through `inherited`."""
    _INHERITED.clear()
    _INHERITED.update(shared)
    try:
        if workers <= 1 or len(jobs) <= 1 or not can_fork():
            return [work(job) for job in jobs]
        pool = multiprocessing.get_context("fork").Pool(
            min(workers, len(jobs)), initializer=_reset_signals_in_worker
        )
        try:
            results = pool.map(work, jobs, chunksize=1)
        except BaseException:
            pool.terminate()
            raise
        finally:
            # After a clean map the workers are told to stop and exit by themselves; after a
            # failure `terminate` has already ended them, and join only reaps them.
            pool.close()
            pool.join()
        return results
    finally:
        _INHERITED.clear()
