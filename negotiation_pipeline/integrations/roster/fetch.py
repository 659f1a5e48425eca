"""Downloading a roster CSV over HTTP(S): bounded in size and time, every connection checked.

For a campaign's roster URL (outside data) every TCP connection, the first and each one a
redirect opens, goes to an address that was resolved once and checked by the `AddressPolicy`
right before connecting: a DNS answer that changes between the check and the connect (DNS
rebinding) cannot swap it, because the socket is opened to the checked address itself. TLS
still verifies the certificate against the host name of the URL. Redirects are followed here,
one hop at a time, so each new URL is checked too (https only, at most `max_redirects`).
Environment proxies are not used: a proxy would resolve the host itself, out of our sight.

Bounds: connect, read and write timeouts per socket operation, plus a total deadline that every
read and write is cut to; the body (after gzip/deflate decoding, which is bounded as well) may
not exceed `max_bytes`. A response must look like CSV text: an HTML page, JSON or an image is
refused by its Content-Type, and a body with NUL bytes is not text.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore
import httpx

from negotiation_pipeline.domain.redaction import redact_url
from negotiation_pipeline.integrations.roster.errors import RosterSourceError
from negotiation_pipeline.integrations.roster.policy import (
    AddressPolicy,
    Resolver,
    host_address,
    host_problem,
    public_only,
    system_resolver,
)

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Content types a CSV export is served with; a missing Content-Type is accepted as well.
CSV_CONTENT_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "text/comma-separated-values",
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
    }
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    total_timeout_s: float = 60.0
    max_redirects: int = 5


@dataclass(frozen=True)
class AccessRules:
    """How far a source is trusted. `campaign()` for URLs from the form; `operator()` for the
    operator's own ROSTER_URL (http and any address allowed)."""

    https_only: bool
    address_policy: AddressPolicy | None  # None: any address
    resolver: Resolver = system_resolver
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)

    @classmethod
    def campaign(
        cls,
        address_policy: AddressPolicy = public_only,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
    ) -> AccessRules:
        return cls(True, address_policy, resolver, ssl_context)

    @classmethod
    def operator(cls, ssl_context: ssl.SSLContext | None = None) -> AccessRules:
        return cls(False, None, system_resolver, ssl_context)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write waits no longer than the fetch's total deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _timeout(self, timeout: float | None) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ReadTimeout("the total time limit is used up")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._timeout(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._timeout(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._timeout(timeout))
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _CheckedBackend(httpcore.NetworkBackend):
    """Resolves each host once, checks every address, and connects to a checked address."""

    def __init__(self, rules: AccessRules, deadline: float) -> None:
        self._rules = rules
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in self._checked_addresses(host, port):
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise httpcore.ConnectTimeout("the total time limit is used up")
            wait = remaining if timeout is None else min(timeout, remaining)
            try:
                stream = self._inner.connect_tcp(address, port, wait, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        raise last_error or httpcore.ConnectError(f"no address to connect to for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("roster downloads never use unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def _checked_addresses(self, host: str, port: int) -> list[str]:
        literal = host_address(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = list(self._rules.resolver(host, port))
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        policy = self._rules.address_policy
        if policy is None:
            return addresses
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
            except ValueError:
                raise RosterSourceError(f"{host} resolved to {address!r}, not an IP") from None
            reason = policy(ip)
            if reason is not None:
                raise RosterSourceError(
                    f"host {host} resolves to {address}, a {reason} address; "
                    "campaign rosters must come from a public host"
                )
        return addresses


class _CheckedTransport(httpx.HTTPTransport):
    """httpx's own transport (request mapping, exception mapping) on the checked backend."""

    def __init__(self, rules: AccessRules, deadline: float) -> None:
        ssl_context = rules.ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=4,
            network_backend=_CheckedBackend(rules, deadline),
        )


def fetch_roster_text(url: str, rules: AccessRules, limits: FetchLimits) -> str:
    """GET `url` within `rules` and `limits`; the decoded text of the CSV it serves.

    Raises RosterSourceError for anything the rules or limits refuse, httpx.HTTPStatusError for
    an error status and httpx.TransportError for a network failure (the caller retries those
    and words the message)."""
    deadline = time.monotonic() + limits.total_timeout_s
    timeout = httpx.Timeout(
        limits.read_timeout_s, connect=limits.connect_timeout_s, pool=limits.connect_timeout_s
    )
    transport = _CheckedTransport(rules, deadline)
    headers = {"Accept": "text/csv, text/plain;q=0.9, */*;q=0.1", "Accept-Encoding": "gzip"}
    try:
        current = httpx.URL(url)
    except httpx.InvalidURL:
        raise RosterSourceError("is not a valid URL") from None
    with httpx.Client(transport=transport, timeout=timeout, trust_env=False) as client:
        for _hop in range(limits.max_redirects + 1):
            _check_url(current, rules)
            try:
                with client.stream("GET", current, headers=headers) as response:
                    if response.status_code in _REDIRECT_STATUSES:
                        current = _redirect_target(current, response)
                        continue
                    response.raise_for_status()
                    _check_content_type(response)
                    body = _read_bounded(response, limits)
            except httpx.TimeoutException:
                if time.monotonic() >= deadline:
                    raise RosterSourceError(
                        f"took longer than {limits.total_timeout_s:g} s in total"
                    ) from None
                raise
            return _decode(body, response)
    raise RosterSourceError(f"redirected more than {limits.max_redirects} times")


def _check_url(url: httpx.URL, rules: AccessRules) -> None:
    allowed = ("https",) if rules.https_only else ("https", "http")
    if url.scheme not in allowed:
        wanted = "https://" if rules.https_only else "http(s)://"
        raise RosterSourceError(f"{redact_url(str(url))} is not an {wanted} URL")
    if not url.host:
        raise RosterSourceError(f"{redact_url(str(url))} names no host")
    if rules.address_policy is not None:
        problem = host_problem(url.host, rules.address_policy)
        if problem is not None:
            raise RosterSourceError(f"{redact_url(str(url))}: host {problem}")


def _redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("Location")
    if not location:
        raise RosterSourceError(f"answered HTTP {response.status_code} without a Location")
    try:
        return current.join(location.strip())
    except httpx.InvalidURL:
        raise RosterSourceError(
            f"redirected to an invalid URL {redact_url(location)[:200]!r}"
        ) from None


def _check_content_type(response: httpx.Response) -> None:
    content_type = response.headers.get("Content-Type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and media_type not in CSV_CONTENT_TYPES:
        hint = " (a login page, or a sheet that is not published?)" if "html" in media_type else ""
        raise RosterSourceError(f"served {media_type[:80]!r}, not CSV text{hint}")


class _Inflater:
    """gzip/deflate decoding that never produces more than it is allowed to."""

    def __init__(self, encoding: str) -> None:
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS}.get(encoding)
        self._zlib = zlib.decompressobj(wbits if wbits is not None else zlib.MAX_WBITS)

    def decode(self, chunk: bytes, max_length: int) -> bytes:
        try:
            return self._zlib.decompress(chunk, max_length)
        except zlib.error:
            raise RosterSourceError("sent a compressed body that does not decompress") from None


def _read_bounded(response: httpx.Response, limits: FetchLimits) -> bytes:
    too_large = RosterSourceError(f"is larger than the {format_size(limits.max_bytes)} limit")
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise RosterSourceError(f"sent an unsupported Content-Encoding {encoding[:40]!r}")
    inflater = None if encoding in ("identity", "") else _Inflater(encoding)
    body = bytearray()
    raw_total = 0
    for chunk in response.iter_raw():
        raw_total += len(chunk)
        if raw_total > limits.max_bytes:
            raise too_large
        allowed = limits.max_bytes - len(body) + 1
        body += chunk if inflater is None else inflater.decode(chunk, allowed)
        if len(body) > limits.max_bytes:
            raise too_large
    return bytes(body)


def _decode(body: bytes, response: httpx.Response) -> str:
    if b"\x00" in body:
        raise RosterSourceError("is binary data, not CSV text")
    charset = response.charset_encoding or "utf-8-sig"
    if charset.lower().replace("_", "-") in ("utf-8", "utf8"):
        charset = "utf-8-sig"  # a BOM is common in spreadsheet exports
    try:
        return body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise RosterSourceError(f"is not {charset} text") from None


def format_size(count: int) -> str:
    if count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MB"
    if count % 1024 == 0:
        return f"{count // 1024} KB"
    return f"{count} bytes"
