"""Worker processes of the simulator: results in order, and a pool that always shuts down."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from negotiation_pipeline.sandbox.simulation.parallel import can_fork, inherited, map_in_order

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need fork")


def _square_plus_offset(n: int) -> int:
    return n * n + int(inherited("offset"))


def _signal_dispositions(_: int) -> tuple[object, object, int]:
    return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), os.getpid()


class _Interrupted(Exception):
    pass


def _raise_interrupted(signo: int, frame: FrameType | None) -> None:
    raise _Interrupted()


@pytest.fixture
def raising_term_handler() -> Iterator[None]:
    """The parent as an in-process Dagster run leaves it: SIGTERM and SIGINT raise an exception
    instead of ending the process."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])


def test_results_come_back_in_job_order_with_the_shared_values() -> None:
    jobs = list(range(12))
    assert map_in_order(_square_plus_offset, jobs, 3, {"offset": 5}) == [n * n + 5 for n in jobs]


def test_workers_do_not_inherit_a_handler_that_keeps_them_alive(raising_term_handler: None) -> None:
    # A worker that turns SIGTERM into an exception can be stopped half-way through taking the
    # pool's shared queue lock, which then stays taken and leaves the others blocked for ever.
    seen = map_in_order(_signal_dispositions, list(range(4)), 2, {})
    worker_pids = {pid for _, _, pid in seen}
    assert os.getpid() not in worker_pids
    assert {term for term, _, _ in seen} == {signal.SIG_DFL}
    assert {interrupt for _, interrupt, _ in seen} == {signal.SIG_IGN}
    assert signal.getsignal(signal.SIGTERM) is _raise_interrupted


def test_the_pool_shuts_down_after_a_job_fails(raising_term_handler: None) -> None:
    with pytest.raises(ZeroDivisionError):
        map_in_order(_divide_by_zero_at_three, list(range(6)), 2, {})
    assert signal.getsignal(signal.SIGINT) is _raise_interrupted


def _divide_by_zero_at_three(n: int) -> float:
    return 1 / (n - 3)
