"""Roster CSV from a file and from a loopback HTTP URL; header rules and errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from negotiation_pipeline.domain.campaigns.roster import select_influencers
from negotiation_pipeline.domain.enums import Platform
from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.roster import RosterReadError, read_roster
from negotiation_pipeline.sandbox.paths import SANDBOX_ROSTER

SANDBOX_ROSTER = SANDBOX_ROSTER


def test_sandbox_roster_file() -> None:
    rows = read_roster(SANDBOX_ROSTER, trusted=True)
    assert len(rows) >= 20
    assert rows[0]["average_views"] == "42,000"
    result = select_influencers(rows, [], Platform.INSTAGRAM)
    skipped = {s.identifier: s.reason for s in result.skipped}
    assert "no email" in skipped["Marcus Reid"]
    assert "no positive average_views" in skipped["Ines Duarte"]
    assert any(p.name == "Maya Chen" and p.average_views == 42000 for p in result.selected)


def test_headers_trimmed_and_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "\ufeff Name ,EMAIL,Platform,Handle,Average Views,Engagement Rate,Notes\n"
        'Ann,ann@example.test,instagram,@ann,"1,000",3%,x\n\n',
        encoding="utf-8",
    )
    assert read_roster(path, trusted=True) == [
        {
            "name": "Ann",
            "email": "ann@example.test",
            "platform": "instagram",
            "handle": "@ann",
            "average_views": "1,000",
            "engagement_rate": "3%",
        }
    ]


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("name,email,platform,handle\nAnn,a@example.test,instagram,@a\n")
    with pytest.raises(
        RosterReadError, match="missing column\\(s\\) average_views, engagement_rate"
    ):
        read_roster(path, trusted=True)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RosterReadError, match="cannot be read"):
        read_roster(tmp_path / "nope.csv", trusted=True)


class _CsvHandler(BaseHTTPRequestHandler):
    body = SANDBOX_ROSTER.read_bytes()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/export"):  # published sheets redirect first
            self.send_response(307)
            self.send_header("Location", "/roster.csv")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/roster.csv"):
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture
def csv_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CsvHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_roster_from_loopback_url_follows_redirect(csv_server: str) -> None:
    assert read_roster(f"{csv_server}/export?format=csv", trusted=True) == read_roster(
        SANDBOX_ROSTER, trusted=True
    )


def test_http_error_is_clear_and_hides_query(
    csv_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resilience, "sleep", lambda s: None)
    with pytest.raises(RosterReadError, match="answered HTTP 404") as caught:
        read_roster(f"{csv_server}/missing.csv?key=SECRETKEY", trusted=True)
    assert "SECRETKEY" not in str(caught.value)
