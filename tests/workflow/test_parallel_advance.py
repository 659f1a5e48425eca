"""Four advance_negotiations_job runs at once, each in its own process with its own store
connection, over 2,000 replies in one Maildir and one PostgreSQL store: no reply lost or
handled twice, no email sent twice, every negotiation's audit trail one unbroken chain and its
replies read in the order they arrived.

500 negotiations in 4 campaigns get 4 replies each; each negotiation's replies are 500 uids
apart, so different runs reach them at the same time, and agreements of one campaign are
recorded by different runs at once (its CPM tracker must count every one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.conftest import StoreLocation
from tests.workflow.parallel_advance import assert_exactly_once, prepare, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RUNS = 4
CAMPAIGNS = 4
THREADS_PER_CAMPAIGN = 125
REPLIES_PER_THREAD = 4  # 2,000 replies


def test_four_concurrent_advance_runs_handle_every_reply_and_send_every_email_once(
    pg_location: StoreLocation, tmp_path: Path
) -> None:
    scenario = prepare(
        pg_location,
        tmp_path,
        campaigns=CAMPAIGNS,
        threads_per_campaign=THREADS_PER_CAMPAIGN,
        replies_per_thread=REPLIES_PER_THREAD,
    )
    assert len(scenario.uids) == 2_000

    summaries = run_concurrently(scenario, RUNS)

    assert [s.error for s in summaries] == [""] * RUNS
    assert all(s.success for s in summaries)
    outcome = assert_exactly_once(scenario)
    # The runs overlapped and shared the work: each reply was read by exactly one of them (a
    # run skips the uids another holds or has done), and every run read some.
    assert sum(s.handled for s in summaries) == 2_000
    assert sum(s.duplicates for s in summaries) == 0
    assert all(s.handled > 0 for s in summaries), summaries
    assert sum(s.handled_by_other_runs for s in summaries) > 0
    assert max(s.started for s in summaries) < min(s.ended for s in summaries)
    assert sum(s.emails_sent for s in summaries) == outcome["emails_sent"] - len(scenario.replies)
    assert sum(s.waiting for s in summaries) == 0
    # Every negotiation's replies were read in arrival order (asked in _assert_thread), so the
    # conversation ends where it ends when one run reads them all: every one agreed, and each
    # campaign's CPM tracker counts all its agreements, recorded by different runs at once.
    assert outcome == {"replies": 2_000, "emails_sent": outcome["emails_sent"], "agreed": 500}
