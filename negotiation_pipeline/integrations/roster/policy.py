"""Which hosts a campaign's roster URL may reach: public https hosts only.

A roster URL typed into the ClickUp form is outside data. Fetching it from inside our network
could reach the metadata service of the cloud we run on, an admin page on localhost or a
database on the private network, and whatever it answers would be read as influencer data
(and emailed). So an address is refused unless it is a public unicast address:

- `blocked_reason(ip)` classifies one address (IPv4, IPv6, IPv4 inside IPv6: mapped, NAT64,
  6to4, Teredo) and names the class it falls in;
- `host_address(host)` reads an IP literal in every spelling a resolver accepts
  (`2130706433`, `0x7f.1`, `0177.0.0.1`, `[::ffff:127.0.0.1]`), so no spelling slips past a
  check that only knows dotted quads;
- `campaign_url_problem(url)` is the check the form validation runs (no DNS): https, a host,
  not an internal name or a blocked literal;
- `AddressPolicy` / `Resolver` are the two injectable parts of the runtime check (after DNS):
  tests replace them to serve a roster from a loopback server through the real client.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], str | None]  # None = allowed, else why not
Resolver = Callable[[str, int], Sequence[str]]  # (host, port) → IP address strings

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Addresses that answer like a cloud metadata service although some look public.
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "168.63.129.16",  # Azure wire server (a public address)
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS over IPv6
    )
)

_IPV4_CLASSES: tuple[tuple[str, tuple[_V4, ...]], ...] = (
    ("unspecified", (_V4("0.0.0.0/8"),)),
    ("loopback", (_V4("127.0.0.0/8"),)),
    ("link-local", (_V4("169.254.0.0/16"),)),
    ("private", (_V4("10.0.0.0/8"), _V4("172.16.0.0/12"), _V4("192.168.0.0/16"))),
    ("shared (CGNAT)", (_V4("100.64.0.0/10"),)),
    ("multicast", (_V4("224.0.0.0/4"),)),
    (
        "reserved",
        (
            _V4("192.0.0.0/24"),
            _V4("192.0.2.0/24"),
            _V4("198.18.0.0/15"),
            _V4("198.51.100.0/24"),
            _V4("203.0.113.0/24"),
            _V4("240.0.0.0/4"),
        ),
    ),
)

_IPV6_CLASSES: tuple[tuple[str, tuple[_V6, ...]], ...] = (
    ("unspecified", (_V6("::/128"),)),
    ("loopback", (_V6("::1/128"),)),
    ("link-local", (_V6("fe80::/10"),)),
    ("private", (_V6("fc00::/7"), _V6("fec0::/10"))),
    ("multicast", (_V6("ff00::/8"),)),
    ("reserved", (_V6("100::/64"), _V6("2001:db8::/32"), _V6("::/96"))),
)

_NAT64 = (_V6("64:ff9b::/96"), _V6("64:ff9b:1::/48"))

# Names that never denote a public host on the internet.
_INTERNAL_NAMES = frozenset({"localhost", "localhost.localdomain", "metadata.google.internal"})
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")


def blocked_reason(ip: IPAddress) -> str | None:
    """The class that makes `ip` unfit for fetching outside data ("loopback", "private", ...),
    or None for a public unicast address."""
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = blocked_reason(embedded)
            return None if inner is None else f"{inner} (IPv4 {embedded} inside IPv6)"
        classes: Sequence[tuple[str, Sequence[_V4 | _V6]]] = _IPV6_CLASSES
    else:
        classes = _IPV4_CLASSES
    for reason, networks in classes:
        if any(ip in network for network in networks):
            return reason
    if not ip.is_global:
        return "non-public"
    return None


def public_only(ip: IPAddress) -> str | None:
    """The default policy: public unicast addresses only."""
    return blocked_reason(ip)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in network for network in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's (obfuscated, decoded here) address
    return None


def host_address(host: str) -> IPAddress | None:
    """`host` as an IP address when it is a literal in any spelling, else None (a name)."""
    text = host.strip().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # an IPv6 zone id (fe80::1%eth0)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text):
        try:  # the resolver's own reading: 2130706433, 0x7f.1, 0177.0.0.1, 127.1
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def internal_name(host: str) -> bool:
    """True for names that only resolve inside a network (localhost, single labels, .local)."""
    name = host.strip().rstrip(".").lower()
    return (
        "." not in name
        or name in _INTERNAL_NAMES
        or any(name.endswith(suffix) for suffix in _INTERNAL_SUFFIXES)
    )


def campaign_url_problem(url: str) -> str | None:
    """Why `url` cannot be a campaign's roster URL (checked without DNS), or None."""
    text = url.strip()
    scheme = text.partition(":")[0].lower() if ":" in text else ""
    if not text.lower().startswith("https://"):
        if scheme in ("http", "ftp", "file", "data", "gopher", "jar", "dict"):
            return f"must be an https:// URL, not {scheme}:"
        return "must be an https:// URL (local paths are not allowed here)"
    if any(c.isspace() for c in text):
        return "must be an https:// URL without spaces"
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        _ = parts.port  # a non-numeric or out-of-range port raises here
    except ValueError:
        return "is not a valid https:// URL"
    if not host:
        return "must name a host (https://host/...)"
    return host_problem(host)


def host_problem(host: str, policy: AddressPolicy = public_only) -> str | None:
    """Why `host` (a name or literal) is not acceptable before resolving it, or None."""
    address = host_address(host)
    if address is not None:
        reason = policy(address)
        return None if reason is None else f"must be a public host, not a {reason} address"
    if internal_name(host):
        return f"must be a public host name, not the internal name {host!r}"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6, TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses
