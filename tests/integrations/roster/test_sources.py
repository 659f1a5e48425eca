"""Where a roster may come from: campaign URLs only https to a public host (checked after DNS,
on every redirect, bounded in size and time, CSV text only); the operator's ROSTER_URL may be a
path or any URL. Errors name the source, redacted, and never quote what it holds.

The HTTPS server is on loopback; its test resolver and address policy let "127.0.0.1" stand in
for a public address, so each test runs the real httpx path end to end."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from negotiation_pipeline.integrations import resilience
from negotiation_pipeline.integrations.roster import (
    AccessRules,
    FetchLimits,
    RosterReadError,
    RosterSourceError,
    read_roster,
)
from negotiation_pipeline.integrations.roster.policy import (
    blocked_reason,
    campaign_url_problem,
    host_address,
)
from tests.integrations.roster.conftest import SANDBOX_ROSTER, RosterServer

PASSWD_LINE = "root:x:0:0:root:/root:/bin/bash"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resilience, "sleep", lambda seconds: None)


# --- reproductions: what main accepted ----------------------------------------------------------
def test_a_campaign_roster_that_is_a_server_path_is_refused_without_reading_it(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "passwd"
    secret_file.write_text(PASSWD_LINE + "\n")
    for source in (str(secret_file), "/etc/passwd", f"file://{secret_file}", "~/.ssh/id_rsa"):
        with pytest.raises(RosterSourceError) as caught:
            read_roster(source, trusted=False)
        message = str(caught.value)
        assert "campaign roster" in message
        assert "root:" not in message and "/bin/bash" not in message


def test_a_campaign_roster_on_an_internal_url_is_never_fetched(roster_server: RosterServer) -> None:
    internal = f"http://127.0.0.1:{roster_server.port}/internal/admin-export"
    with pytest.raises(RosterSourceError, match="not an https:// URL"):
        read_roster(internal, trusted=False)
    for url in (
        f"https://127.0.0.1:{roster_server.port}/internal/admin-export",
        f"https://localhost:{roster_server.port}/internal/admin-export",
        f"https://2130706433:{roster_server.port}/internal/admin-export",
        f"https://0x7f.0.0.1:{roster_server.port}/internal/admin-export",
        f"https://0177.0.0.1:{roster_server.port}/internal/admin-export",
        f"https://[::ffff:127.0.0.1]:{roster_server.port}/internal/admin-export",
    ):
        with pytest.raises(RosterSourceError, match="public host"):
            read_roster(url, trusted=False)  # the default policy, as in production
    assert roster_server.requests == []


def test_the_operators_own_path_with_non_csv_content_does_not_echo_it(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD_LINE + "\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    with pytest.raises(RosterReadError, match="missing column") as caught:
        read_roster(passwd, trusted=True)
    message = str(caught.value)
    assert str(passwd) in message
    assert "root" not in message.replace(str(passwd), "") and "bash" not in message


def test_a_header_with_known_columns_is_named_and_other_headers_only_counted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.csv"
    path.write_text("name,email,Secret Note\nAnn,a@example.test,x\n")
    with pytest.raises(RosterReadError) as caught:
        read_roster(path, trusted=True)
    message = str(caught.value)
    assert "found: name, email and 1 other column(s)" in message
    assert "Secret Note" not in message


# --- a public https roster through the real client -----------------------------------------------
def test_public_https_roster_is_read_and_redirects_are_followed(
    roster_server: RosterServer,
) -> None:
    rows = read_roster(
        f"{roster_server.base_url}/export?key=abc", trusted=False, rules=roster_server.rules()
    )
    assert rows == read_roster(SANDBOX_ROSTER, trusted=True)
    assert roster_server.requests == ["/export?key=abc", "/roster.csv"]


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(
    roster_server: RosterServer,
) -> None:
    """roster.test exists only in the test resolver: had anything resolved the name again (the
    system resolver, at connect time), the request could not have been made."""
    read_roster(f"{roster_server.base_url}/roster.csv", trusted=False, rules=roster_server.rules())
    assert roster_server.resolved == ["roster.test"]
    assert roster_server.requests == ["/roster.csv"]


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/to-private", "private address"),
        ("/to-metadata", "cloud metadata"),
        ("/to-http", "not an https:// URL"),
        ("/to-localhost", "internal name 'localhost'"),
        ("/to-rebound", "resolves to 127.0.0.2, a loopback address"),
        ("/loop", "redirected more than 5 times"),
    ],
)
def test_every_redirect_is_checked_again(
    roster_server: RosterServer, route: str, expected: str
) -> None:
    rules = roster_server.rules({"rebound.test": ["127.0.0.2"]})
    with pytest.raises(RosterSourceError) as caught:
        read_roster(f"{roster_server.base_url}{route}?key=SECRET1", trusted=False, rules=rules)
    message = str(caught.value)
    assert expected in message
    assert f"campaign roster {roster_server.base_url}{route}?key=***" in message
    assert "SECRET1" not in message
    assert "/roster.csv" not in roster_server.requests  # the refused target was never asked


def test_a_name_with_any_blocked_address_is_refused_before_connecting(
    roster_server: RosterServer,
) -> None:
    rules = roster_server.rules({"mixed.test": ["127.0.0.1", "10.1.2.3"]})
    with pytest.raises(RosterSourceError, match=r"resolves to 10\.1\.2\.3, a private address"):
        read_roster(
            f"https://mixed.test:{roster_server.port}/roster.csv", trusted=False, rules=rules
        )
    assert roster_server.requests == []


@pytest.mark.parametrize(
    ("route", "limits", "expected"),
    [
        ("/big", FetchLimits(), "larger than the 5 MB limit"),
        ("/big-unannounced", FetchLimits(max_bytes=1024 * 1024), "larger than the 1 MB limit"),
        ("/bomb", FetchLimits(max_bytes=1024 * 1024), "larger than the 1 MB limit"),
        ("/slow", FetchLimits(total_timeout_s=1.0), "took longer than 1 s in total"),
        ("/html", FetchLimits(), "served 'text/html', not CSV text"),
        ("/binary", FetchLimits(), "binary data, not CSV text"),
    ],
)
def test_size_time_and_content_type_are_bounded(
    roster_server: RosterServer, route: str, limits: FetchLimits, expected: str
) -> None:
    with pytest.raises(RosterSourceError, match=expected) as caught:
        read_roster(
            f"{roster_server.base_url}{route}",
            trusted=False,
            rules=roster_server.rules(),
            limits=limits,
        )
    assert "Sign in" not in str(caught.value)


def test_an_untrusted_certificate_is_a_fetch_error(roster_server: RosterServer) -> None:
    rules = roster_server.rules()
    assert rules.address_policy is not None, "the roster server's rules vet campaign addresses"
    default_trust = AccessRules.campaign(rules.address_policy, rules.resolver)  # system CAs
    with pytest.raises(RosterReadError, match="could not be fetched: ConnectError"):
        read_roster(f"{roster_server.base_url}/roster.csv", trusted=False, rules=default_trust)


# --- the operator's own source ---------------------------------------------------------------
def test_operator_roster_url_may_be_plain_http_on_loopback_and_hides_its_key(
    roster_server: RosterServer,
) -> None:
    with pytest.raises(RosterReadError, match="could not be fetched") as caught:
        # plain http to the https server: the operator may name it, the fetch then fails
        read_roster(f"http://127.0.0.1:{roster_server.port}/x?key=SECRET2", trusted=True)
    assert "SECRET2" not in str(caught.value)
    assert f"http://127.0.0.1:{roster_server.port}/x?key=***" in str(caught.value)


def test_operator_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_bytes(b"name,email\n" + b"a" * 2048)
    with pytest.raises(RosterSourceError, match="larger than the 1 KB limit"):
        read_roster(path, trusted=True, limits=FetchLimits(max_bytes=1024))


# --- the default policy, address class by address class ---------------------------------------
@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("240.0.0.1", "reserved"),
        ("198.18.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("::ffff:10.0.0.1", "private (IPv4 10.0.0.1 inside IPv6)"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata (IPv4 169.254.169.254 inside IPv6)"),
        ("2002:7f00:1::", "loopback (IPv4 127.0.0.1 inside IPv6)"),
    ],
)
def test_default_policy_blocks_every_non_public_class(address: str, reason: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "1.1.1.1"])
def test_default_policy_allows_public_unicast(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address", ["10.9.8.7", "169.254.169.254", "fd00:ec2::254", "100.64.1.1", "::ffff:192.168.0.1"]
)
def test_default_policy_refuses_a_resolved_address_before_any_connection(address: str) -> None:
    """Through read_roster with the production policy: the name resolves (test resolver) to a
    blocked address, and the refusal comes before a socket is opened."""
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return [address]

    rules = AccessRules.campaign(resolver=resolver)
    with pytest.raises(RosterSourceError, match=f"resolves to {address}"):
        read_roster("https://sheets.example.com/export.csv", trusted=False, rules=rules)
    assert asked == ["sheets.example.com"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("[::ffff:a9fe:a9fe]", "::ffff:a9fe:a9fe"),
        ("[fe80::1%eth0]", "fe80::1"),
        ("cafe.bad", None),
        ("sheets.example.com", None),
    ],
)
def test_ip_literals_in_every_spelling_are_recognised(host: str, expected: str | None) -> None:
    found = host_address(host)
    assert (None if found is None else str(found)) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/etc/passwd", "must be an https:// URL"),
        ("file:///etc/passwd", "not file:"),
        ("http://sheets.example.com/r.csv", "not http:"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://0xa9fea9fe/latest/", "cloud metadata"),
        ("https://[fd00:ec2::254]/", "cloud metadata"),
        ("https://10.0.0.1/r.csv", "private"),
        ("https://admin-export/r.csv", "internal name"),
        ("https://printer.local/r.csv", "internal name"),
        ("https:///r.csv", "must name a host"),
        ("https://host.example.com:99999/r.csv", "not a valid https:// URL"),
    ],
)
def test_form_url_problems_are_named(url: str, problem: str) -> None:
    found = campaign_url_problem(url)
    assert found is not None and problem in found


def test_a_published_sheet_url_is_fine() -> None:
    url = "https://docs.google.com/spreadsheets/d/e/2PACX-1v/pub?gid=0&single=true&output=csv"
    assert campaign_url_problem(url) is None
