"""`negotiation-pipeline backfill-cpm` against a loopback fake webserver and a closed port."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import Result

from negotiation_pipeline.integrations.dagster_webserver import (
    AssetBackfillProgress,
    BackfillStatus,
)
from negotiation_pipeline.workflow.cpm_backfill import (
    NEVER_INGESTED,
    NO_INFLUENCER_LIST,
    NOT_VALIDATED,
    ProgressPrinter,
)
from tests.cli.support import run_cli
from tests.fakes.dagster_webserver import (
    FakeDagsterWebserver,
    data_answer,
    python_error,
    running_fake_webserver,
)

KNOWN = ["86b1aa001", "86b1aa002", "86b1aa003"]
READY = ["86b1aa001", "86b1aa002"]  # 86b1aa003 did not validate: no influencer list


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def backfill(status: str, materialized: int, failed: int = 0) -> dict[str, Any]:
    return {
        "__typename": "PartitionBackfill",
        "id": "bk1",
        "status": status,
        "title": None,
        "isAssetBackfill": True,
        "partitionNames": READY,
        "error": None,
        "assetBackfillData": {
            "assetBackfillStatuses": [
                {
                    "__typename": "AssetPartitionsStatusCounts",
                    "assetKey": {"path": ["cpm_flexibility"]},
                    "numPartitionsTargeted": 2,
                    "numPartitionsInProgress": 0,
                    "numPartitionsMaterialized": materialized,
                    "numPartitionsFailed": failed,
                }
            ]
        },
    }


@pytest.fixture()
def fake() -> Iterator[FakeDagsterWebserver]:
    with running_fake_webserver() as server:
        server.answer(
            "AssetPartitionKeys",
            data_answer(
                "assetNodeOrError",
                {"__typename": "AssetNode", "isPartitioned": True, "partitionKeys": KNOWN},
            ),
        )
        server.answer(
            "AssetPartitionStatuses",
            data_answer(
                "assetNodeOrError",
                {
                    "__typename": "AssetNode",
                    "isPartitioned": True,
                    "assetPartitionStatuses": {
                        "__typename": "DefaultPartitionStatuses",
                        "materializedPartitions": READY,
                        "failedPartitions": ["86b1aa003"],
                        "unmaterializedPartitions": ["86b1aa003"],
                        "materializingPartitions": [],
                    },
                },
            ),
        )
        server.answer(
            "LaunchBackfill",
            data_answer(
                "launchPartitionBackfill",
                {"__typename": "LaunchBackfillSuccess", "backfillId": "bk1"},
            ),
        )
        yield server


def run_backfill(fake: FakeDagsterWebserver, *args: str) -> Result:
    return run_cli("backfill-cpm", "--url", fake.url, "--poll-interval", "0.01", *args)


def test_unreachable_webserver_exits_1_with_a_clear_message() -> None:
    url = closed_port_url()
    result = run_cli("backfill-cpm", "--url", url, "--campaign", "86b1aa001")
    assert result.exit_code == 1
    err = result.stderr
    assert f"cannot reach the Dagster webserver at {url}" in err
    assert "negotiation-pipeline dev" in err


def test_unreachable_webserver_through_the_real_entry_point() -> None:
    url = closed_port_url()
    done = subprocess.run(
        [sys.executable, "-m", "negotiation_pipeline.cli", "backfill-cpm", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"error: cannot reach the Dagster webserver at {url}" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_url_defaults_to_the_environment() -> None:
    url = closed_port_url()
    result = run_cli("backfill-cpm", env={"DAGSTER_WEBSERVER_URL": url})
    assert result.exit_code == 1
    assert url in result.stderr


def test_unknown_campaign_exits_2_and_launches_nothing(
    fake: FakeDagsterWebserver,
) -> None:
    result = run_backfill(fake, "--campaign", "86b1aa001", "--campaign", "nope")
    assert result.exit_code == 2
    err = result.stderr
    assert "unknown campaign id(s): nope; known campaigns: 86b1aa001, 86b1aa002, 86b1aa003" in err
    assert "LaunchBackfill" not in fake.operations()


def test_a_campaign_without_influencer_list_exits_2(
    fake: FakeDagsterWebserver,
) -> None:
    result = run_backfill(fake, "--campaign", "86b1aa003")
    assert result.exit_code == 2
    err = result.stderr
    assert (
        "campaign(s) 86b1aa003 cannot be recomputed yet: 86b1aa003: the ClickUp task did not "
        "validate" in err
    )
    assert "LaunchBackfill" not in fake.operations()


def test_no_campaign_partitions_at_all_exits_2() -> None:
    with running_fake_webserver() as empty:
        empty.answer(
            "AssetPartitionKeys",
            data_answer(
                "assetNodeOrError",
                {"__typename": "AssetNode", "isPartitioned": True, "partitionKeys": []},
            ),
        )
        empty.answer(
            "AssetPartitionStatuses",
            data_answer(
                "assetNodeOrError",
                {
                    "__typename": "AssetNode",
                    "isPartitioned": True,
                    "assetPartitionStatuses": {
                        "__typename": "DefaultPartitionStatuses",
                        "materializedPartitions": [],
                        "failedPartitions": [],
                        "unmaterializedPartitions": [],
                        "materializingPartitions": [],
                    },
                },
            ),
        )
        result = run_backfill(empty)
    assert result.exit_code == 2
    assert "no campaign partitions yet" in result.stderr


def test_default_backfills_every_ready_campaign_and_follows_to_success(
    fake: FakeDagsterWebserver,
) -> None:
    fake.answer(
        "BackfillStatus",
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 0)),
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 0)),
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 2)),
        data_answer("partitionBackfillOrError", backfill("COMPLETED_SUCCESS", 2)),
    )
    result = run_backfill(fake, "--title", "late agreements")
    assert result.exit_code == 0
    out, err = result.stdout, result.stderr
    summary = json.loads(out)
    assert summary["backfill_id"] == "bk1"
    assert summary["status"] == "COMPLETED_SUCCESS"
    assert summary["partitions"] == READY
    assert summary["skipped"] == ["86b1aa003"]
    assert summary["url"] == f"{fake.url}/runs/b/bk1"
    assert summary["assets"][0]["materialized"] == 2
    params = fake.variables_of("LaunchBackfill")[0]["params"]
    assert params["partitionNames"] == READY
    assert params["assetSelection"] == [{"path": ["cpm_flexibility"]}]
    assert params["title"] == "late agreements"
    # Not a terminal: one plain line per change, no carriage returns.
    assert "\r" not in err
    progress = [line for line in err.splitlines() if line.startswith("backfill bk1 [")]
    assert [line.split("] ", 1)[1] for line in progress] == [
        "REQUESTED: cpm_flexibility 0/2 materialized",
        "REQUESTED: cpm_flexibility 2/2 materialized",
        "COMPLETED_SUCCESS: cpm_flexibility 2/2 materialized",
    ]
    assert (
        "skipping 1 campaign(s), the ClickUp task did not validate (fix the form; the sensor "
        "then ingests it again): 86b1aa003" in err
    )
    assert summary["skip_reasons"] == {"86b1aa003": NOT_VALIDATED}


def test_named_campaigns_are_deduplicated(
    fake: FakeDagsterWebserver,
) -> None:
    fake.answer(
        "BackfillStatus", data_answer("partitionBackfillOrError", backfill("COMPLETED_SUCCESS", 2))
    )
    result = run_backfill(fake, "--campaign", "86b1aa002", "--campaign", " 86b1aa002")
    assert result.exit_code == 0
    assert fake.variables_of("LaunchBackfill")[0]["params"]["partitionNames"] == ["86b1aa002"]
    assert json.loads(result.stdout)["skipped"] == []


def test_a_failed_backfill_exits_1_and_says_so(
    fake: FakeDagsterWebserver,
) -> None:
    fake.answer(
        "BackfillStatus",
        data_answer("partitionBackfillOrError", backfill("COMPLETED_FAILED", 1, 1)),
    )
    result = run_backfill(fake)
    assert result.exit_code == 1
    out, err = result.stdout, result.stderr
    assert json.loads(out)["status"] == "COMPLETED_FAILED"
    assert f"error: backfill ended COMPLETED_FAILED; see {fake.url}/runs/b/bk1" in err


def test_a_canceled_backfill_exits_1(
    fake: FakeDagsterWebserver,
) -> None:
    fake.answer("BackfillStatus", data_answer("partitionBackfillOrError", backfill("CANCELED", 0)))
    result = run_backfill(fake)
    assert result.exit_code == 1
    assert "backfill ended CANCELED" in result.stderr


def test_timeout_exits_3_and_says_it_keeps_running(
    fake: FakeDagsterWebserver,
) -> None:
    fake.answer("BackfillStatus", data_answer("partitionBackfillOrError", backfill("REQUESTED", 1)))
    result = run_backfill(fake, "--timeout", "0.2")
    assert result.exit_code == 3
    err = result.stderr
    assert "backfill bk1 is still REQUESTED after 0.2 s" in err
    assert "keeps running in Dagster" in err


def test_no_follow_returns_after_launch(
    fake: FakeDagsterWebserver,
) -> None:
    result = run_backfill(fake, "--no-follow")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "REQUESTED"
    assert "BackfillStatus" not in fake.operations()


def test_launch_error_from_dagster_exits_1_with_its_message(
    fake: FakeDagsterWebserver,
) -> None:
    fake.answers["LaunchBackfill"] = [
        data_answer(
            "launchPartitionBackfill",
            python_error("DagsterError: daemon down\n", "DagsterError"),
            500,
        )
    ]
    result = run_backfill(fake)
    assert result.exit_code == 1
    assert "launchPartitionBackfill failed with PythonError: DagsterError: daemon down" in (
        result.stderr
    )


@pytest.mark.parametrize("flag", ["--timeout", "--poll-interval"])
@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_non_positive_durations_exit_2(flag: str, value: str) -> None:
    result = run_cli("backfill-cpm", "--url", closed_port_url(), flag, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{flag}'" in result.stderr
    assert "cannot reach" not in result.stderr  # refused before any request


def status_line(status: str, materialized: int) -> BackfillStatus:
    return BackfillStatus(
        backfill_id="bk1",
        status=status,
        title=None,
        is_asset_backfill=True,
        partition_names=("a", "b"),
        assets=(AssetBackfillProgress("cpm_flexibility", 2, 0, materialized, 0),),
    )


def test_terminal_progress_rewrites_one_line_in_place() -> None:
    stream = io.StringIO()
    ticks = iter([0.0, 1.0, 12.0])
    printer = ProgressPrinter(stream, live=True, clock=lambda: next(ticks))
    printer(status_line("REQUESTED", 0))
    printer(status_line("COMPLETED_SUCCESS", 2))
    printer.finish()
    text = stream.getvalue()
    assert text.count("\r") == 2
    assert text.endswith("\n") and text.count("\n") == 1
    first, second = text.strip("\n").split("\r")[1:]
    assert first == "backfill bk1 [   1 s] REQUESTED: cpm_flexibility 0/2 materialized"
    # The second line is padded to cover the first one completely.
    assert second.startswith("backfill bk1 [  12 s] COMPLETED_SUCCESS: cpm_flexibility 2/2")
    assert len(second) >= len(first)


def _statuses(materialized: list[str], failed: list[str], unmaterialized: list[str]) -> Any:
    return data_answer(
        "assetNodeOrError",
        {
            "__typename": "AssetNode",
            "isPartitioned": True,
            "assetPartitionStatuses": {
                "__typename": "DefaultPartitionStatuses",
                "materializedPartitions": materialized,
                "failedPartitions": failed,
                "unmaterializedPartitions": unmaterialized,
                "materializingPartitions": [],
            },
        },
    )


def test_each_skipped_campaign_is_named_with_its_real_reason() -> None:
    """86b1aa002 validated but its roster lookup failed; 86b1aa003 did not validate; a fourth
    campaign was added but never ingested. Each gets its own reason, not one blanket one."""
    with running_fake_webserver() as server:
        server.answer(
            "AssetPartitionKeys",
            data_answer(
                "assetNodeOrError",
                {"__typename": "AssetNode", "isPartitioned": True, "partitionKeys": [*KNOWN, "x4"]},
            ),
        )
        server.answer(
            "AssetPartitionStatuses",
            # campaign_influencers first, then campaign
            _statuses(["86b1aa001"], ["86b1aa002", "86b1aa003"], ["86b1aa002", "86b1aa003", "x4"]),
            _statuses(["86b1aa001", "86b1aa002"], ["86b1aa003"], ["86b1aa003", "x4"]),
        )
        server.answer(
            "LaunchBackfill",
            data_answer(
                "launchPartitionBackfill",
                {"__typename": "LaunchBackfillSuccess", "backfillId": "bk2"},
            ),
        )
        result = run_cli("backfill-cpm", "--url", server.url, "--no-follow")
        variables = server.variables_of("AssetPartitionStatuses")
    assert result.exit_code == 0
    assert [v["key"]["path"] for v in variables] == [["campaign_influencers"], ["campaign"]]
    summary = json.loads(result.stdout)
    assert summary["partitions"] == ["86b1aa001"]
    assert summary["skip_reasons"] == {
        "86b1aa002": NO_INFLUENCER_LIST,
        "86b1aa003": NOT_VALIDATED,
        "x4": NEVER_INGESTED,
    }
    err = result.stderr
    assert f"skipping 1 campaign(s), {NO_INFLUENCER_LIST}: 86b1aa002" in err
    assert f"skipping 1 campaign(s), {NOT_VALIDATED}: 86b1aa003" in err
    assert f"skipping 1 campaign(s), {NEVER_INGESTED}: x4" in err


def test_progress_is_printed_at_least_every_five_seconds_when_nothing_changes() -> None:
    stream = io.StringIO()
    ticks = iter([0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 11.0, 13.0])
    printer = ProgressPrinter(stream, live=False, clock=lambda: next(ticks))
    for _ in range(6):
        printer(status_line("REQUESTED", 0))
    printer(status_line("COMPLETED_SUCCESS", 2))
    stamps = [line.split("[")[1].split("]")[0].strip() for line in stream.getvalue().splitlines()]
    assert stamps == ["2 s", "8 s", "13 s"]


def test_a_long_poll_interval_is_capped_so_progress_never_goes_quiet(
    fake: FakeDagsterWebserver,
) -> None:
    """Uncapped, the hour between the two polls would outlast the suite's per-test timeout."""
    fake.answer(
        "BackfillStatus",
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 0)),
        data_answer("partitionBackfillOrError", backfill("COMPLETED_SUCCESS", 2)),
    )
    result = run_cli("backfill-cpm", "--url", fake.url, "--poll-interval", "3600")
    assert result.exit_code == 0
    assert fake.operations().count("BackfillStatus") == 2
