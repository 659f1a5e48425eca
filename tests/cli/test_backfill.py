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

from negotiation_pipeline.cli.main import main
from negotiation_pipeline.integrations.dagster_webserver import (
    AssetBackfillProgress,
    BackfillStatus,
)
from negotiation_pipeline.workflow.cpm_backfill import ProgressPrinter
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


def run_cli(fake: FakeDagsterWebserver, *args: str) -> int:
    return main(["backfill-cpm", "--url", fake.url, "--poll-interval", "0.01", *args])


def test_unreachable_webserver_exits_1_with_a_clear_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = closed_port_url()
    assert main(["backfill-cpm", "--url", url, "--campaign", "86b1aa001"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the Dagster webserver at {url}" in err
    assert "negotiation-pipeline dev" in err


def test_unreachable_webserver_through_the_real_entry_point() -> None:
    url = closed_port_url()
    done = subprocess.run(
        [sys.executable, "-m", "negotiation_pipeline.cli.main", "backfill-cpm", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"error: cannot reach the Dagster webserver at {url}" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_url_defaults_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = closed_port_url()
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", url)
    assert main(["backfill-cpm"]) == 1
    assert url in capsys.readouterr().err


def test_unknown_campaign_exits_2_and_launches_nothing(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(fake, "--campaign", "86b1aa001", "--campaign", "nope") == 2
    err = capsys.readouterr().err
    assert "unknown campaign id(s): nope; known campaigns: 86b1aa001, 86b1aa002, 86b1aa003" in err
    assert "LaunchBackfill" not in fake.operations()


def test_a_campaign_without_influencer_list_exits_2(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(fake, "--campaign", "86b1aa003") == 2
    err = capsys.readouterr().err
    assert "campaign(s) 86b1aa003 have no influencer list yet" in err
    assert "LaunchBackfill" not in fake.operations()


def test_no_campaign_partitions_at_all_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
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
        assert run_cli(empty) == 2
    assert "no campaign partitions yet" in capsys.readouterr().err


def test_default_backfills_every_ready_campaign_and_follows_to_success(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.answer(
        "BackfillStatus",
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 0)),
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 0)),
        data_answer("partitionBackfillOrError", backfill("REQUESTED", 2)),
        data_answer("partitionBackfillOrError", backfill("COMPLETED_SUCCESS", 2)),
    )
    assert run_cli(fake, "--title", "late agreements") == 0
    out, err = capsys.readouterr()
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
    assert "skipping 1 campaign(s) without an influencer list: 86b1aa003" in err


def test_named_campaigns_are_deduplicated(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.answer(
        "BackfillStatus", data_answer("partitionBackfillOrError", backfill("COMPLETED_SUCCESS", 2))
    )
    assert run_cli(fake, "--campaign", "86b1aa002", "--campaign", " 86b1aa002") == 0
    assert fake.variables_of("LaunchBackfill")[0]["params"]["partitionNames"] == ["86b1aa002"]
    assert json.loads(capsys.readouterr().out)["skipped"] == []


def test_a_failed_backfill_exits_1_and_says_so(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.answer(
        "BackfillStatus",
        data_answer("partitionBackfillOrError", backfill("COMPLETED_FAILED", 1, 1)),
    )
    assert run_cli(fake) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "COMPLETED_FAILED"
    assert f"error: backfill ended COMPLETED_FAILED; see {fake.url}/runs/b/bk1" in err


def test_a_canceled_backfill_exits_1(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.answer("BackfillStatus", data_answer("partitionBackfillOrError", backfill("CANCELED", 0)))
    assert run_cli(fake) == 1
    assert "backfill ended CANCELED" in capsys.readouterr().err


def test_timeout_exits_3_and_says_it_keeps_running(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.answer("BackfillStatus", data_answer("partitionBackfillOrError", backfill("REQUESTED", 1)))
    assert run_cli(fake, "--timeout", "0.2") == 3
    err = capsys.readouterr().err
    assert "backfill bk1 is still REQUESTED after 0.2 s" in err
    assert "keeps running in Dagster" in err


def test_no_follow_returns_after_launch(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(fake, "--no-follow") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "REQUESTED"
    assert "BackfillStatus" not in fake.operations()


def test_launch_error_from_dagster_exits_1_with_its_message(
    fake: FakeDagsterWebserver, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.answers["LaunchBackfill"] = [
        data_answer(
            "launchPartitionBackfill",
            python_error("DagsterError: daemon down\n", "DagsterError"),
            500,
        )
    ]
    assert run_cli(fake) == 1
    assert "launchPartitionBackfill failed with PythonError: DagsterError: daemon down" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("flag", ["--timeout", "--poll-interval"])
def test_non_positive_durations_exit_2(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backfill-cpm", "--url", closed_port_url(), flag, "0"]) == 2
    assert "must be positive" in capsys.readouterr().err


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
