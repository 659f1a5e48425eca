"""Influencer roster rows → the influencers a campaign negotiates with.

Pure matching: the caller reads the CSV (integrations/roster) and hands over raw rows as
mappings of lower-case column name → cell text. Bad cells never crash a campaign: the row
becomes a `RosterSkip` whose reason names the problem (it goes to the audit trail).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from negotiation_pipeline.domain.addresses import (
    AddressError,
    address_key,
    split_address_list,
    validate_address,
)
from negotiation_pipeline.domain.enums import Platform

ROSTER_COLUMNS: tuple[str, ...] = (
    "name",
    "email",
    "platform",
    "handle",
    "average_views",
    "engagement_rate",
)
# Read when present: the addresses that may answer for the influencer (a talent manager, an
# agency desk), one or more separated by ";".
OPTIONAL_ROSTER_COLUMNS: tuple[str, ...] = ("manager_email",)
MAX_MANAGER_EMAILS = 10

# Optional: `<kind>_views` (e.g. story_views) = this influencer's own expected views for one
# deliverable of that kind (kinds as named in the policy's package_value), instead of the
# configured fraction of average_views.
VIEW_OVERRIDE_SUFFIX = "_views"


def is_view_override_column(column: str) -> bool:
    return (
        column.endswith(VIEW_OVERRIDE_SUFFIX) and column != "average_views" and column != "_views"
    )


_VIEW_SUFFIXES = {"k": Decimal(1_000), "m": Decimal(1_000_000)}
_MAX_VIEWS = Decimal(10) ** 12
_IDENTIFIER_SPLIT = re.compile(r"[\n,;]+")


@dataclass(frozen=True)
class InfluencerProfile:
    """One usable roster row. `handle` is stored without a leading "@";
    `engagement_rate` is in percent units (Decimal("4.1") means 4.1 %)."""

    name: str
    email: str
    platform: Platform
    handle: str
    average_views: int
    engagement_rate: Decimal | None
    # Besides `email`, who may answer for this influencer; replies from anyone else are held.
    manager_emails: tuple[str, ...] = ()
    view_overrides: tuple[tuple[str, int], ...] = ()  # (deliverable kind, views of one)


@dataclass(frozen=True)
class RosterSkip:
    """A listed influencer (or roster row) we will not negotiate with, and why."""

    identifier: str
    reason: str


@dataclass(frozen=True)
class RosterSelection:
    selected: list[InfluencerProfile] = field(default_factory=list)
    skipped: list[RosterSkip] = field(default_factory=list)


class RosterCellError(ValueError):
    """One roster cell cannot be used; the message names the column and the value."""


# --- cell parsing ------------------------------------------------------------------------------
def parse_views(cell: str | None, column: str = "average_views") -> int:
    """ "42,000" / "42000" / "42k" / "1.2M" → int views. Raises RosterCellError."""
    text = (cell or "").strip().lower().replace(",", "").replace("_", "").replace(" ", "")
    if not text:
        raise RosterCellError(f"no {column}")
    multiplier = Decimal(1)
    if text[-1] in _VIEW_SUFFIXES:
        multiplier = _VIEW_SUFFIXES[text[-1]]
        text = text[:-1]
    try:
        views = Decimal(text) * multiplier
    except ArithmeticError as exc:  # InvalidOperation ("abc") or Overflow ("1e999999999")
        raise RosterCellError(f"{column} {cell!r} is not a number") from exc
    if not views.is_finite() or views != views.to_integral_value():
        raise RosterCellError(f"{column} {cell!r} is not a whole number")
    if views <= 0:
        raise RosterCellError(f"no positive {column} ({cell!r})")
    if views > _MAX_VIEWS:  # int() of "1e9999" fails, and no video is seen this often
        raise RosterCellError(f"{column} {cell!r} is not a plausible view count")
    return int(views)


def parse_view_overrides(row: Mapping[str, str | None]) -> tuple[tuple[str, int], ...]:
    """Filled `<kind>_views` cells → ((kind, views), ...) sorted by kind; blank cells are skipped,
    a bad one raises RosterCellError naming its column."""
    found = []
    for column, cell in row.items():
        if is_view_override_column(column) and (cell or "").strip():
            found.append((column.removesuffix(VIEW_OVERRIDE_SUFFIX), parse_views(cell, column)))
    return tuple(sorted(found))


def parse_engagement(cell: str | None) -> Decimal | None:
    """ "4.1%" or "4.1" → Decimal("4.1") (percent units); blank → None. Raises RosterCellError."""
    text = (cell or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        rate = Decimal(text)
    except InvalidOperation as exc:
        raise RosterCellError(f"engagement_rate {cell!r} is not a number") from exc
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise RosterCellError(f"engagement_rate {cell!r} is not a percentage between 0 and 100")
    return rate


def parse_platform(cell: str | None) -> Platform:
    text = (cell or "").strip().lower()
    try:
        return Platform(text)
    except ValueError as exc:
        allowed = ", ".join(p.value for p in Platform)
        raise RosterCellError(f"platform {cell!r} is not one of {allowed}") from exc


def parse_email(cell: str | None) -> str:
    """The influencer's address, as written (trimmed). Raises RosterCellError when it is not a
    valid address (email-validator, syntax only; internationalised addresses are fine)."""
    email = (cell or "").strip()
    if not email:
        raise RosterCellError("no email")
    try:
        validate_address(email)
    except AddressError as exc:
        raise RosterCellError(f"email {email!r} is not a valid address: {exc}") from None
    return email


def parse_manager_emails(cell: str | None, influencer_email: str) -> tuple[str, ...]:
    """ "casey@agency.com; desk@agency.com" → both, validated, without repeats (nor the
    influencer's own address). Blank → (). Raises RosterCellError naming the bad address."""
    found: dict[str, str] = {address_key(influencer_email): influencer_email}
    for address in split_address_list(cell):
        try:
            normalized = validate_address(address)
        except AddressError as exc:
            raise RosterCellError(
                f"manager_email {address!r} is not a valid address: {exc}"
            ) from None
        found.setdefault(address_key(normalized), normalized)
    managers = tuple(list(found.values())[1:])
    if len(managers) > MAX_MANAGER_EMAILS:
        raise RosterCellError(
            f"manager_email lists {len(managers)} addresses (at most {MAX_MANAGER_EMAILS})"
        )
    return managers


def parse_profile(row: Mapping[str, str | None]) -> InfluencerProfile:
    """One raw row → profile. Raises RosterCellError naming the first unusable cell."""
    name = (row.get("name") or "").strip()
    if not name:
        raise RosterCellError("no name")
    email = parse_email(row.get("email"))
    return InfluencerProfile(
        name=name,
        email=email,
        platform=parse_platform(row.get("platform")),
        handle=(row.get("handle") or "").strip().lstrip("@"),
        average_views=parse_views(row.get("average_views")),
        engagement_rate=parse_engagement(row.get("engagement_rate")),
        manager_emails=parse_manager_emails(row.get("manager_email"), email),
        view_overrides=parse_view_overrides(row),
    )


def split_identifiers(text: str) -> list[str]:
    """Influencer List text → identifiers: one per line or comma/semicolon separated."""
    return [part.strip() for part in _IDENTIFIER_SPLIT.split(text) if part.strip()]


# --- matching ----------------------------------------------------------------------------------
def _key(text: str | None) -> str:
    return (text or "").strip().casefold()


def _row_keys(row: Mapping[str, str | None]) -> set[str]:
    """Every identifier that selects this row: name, email, handle with and without "@"."""
    handle = _key(row.get("handle")).lstrip("@")
    keys = {_key(row.get("name")), _key(row.get("email")), handle, f"@{handle}" if handle else ""}
    keys.discard("")
    return keys


def _row_label(row: Mapping[str, str | None], index: int) -> str:
    return (row.get("name") or "").strip() or (row.get("email") or "").strip() or f"row {index}"


def _is_platform(row: Mapping[str, str | None], platform: Platform) -> bool:
    return _key(row.get("platform")) == platform.value


def select_influencers(
    rows: Iterable[Mapping[str, str | None]],
    wanted_identifiers: Sequence[str],
    platform: Platform,
) -> RosterSelection:
    """Pick the campaign's influencers from the roster.

    `wanted_identifiers` empty → every roster row on `platform`. Otherwise each identifier
    (name, handle with or without "@", or email; case-insensitive, trimmed) must match exactly
    one roster row on the campaign's platform. Misses, ambiguity and bad cells become skips.
    Each person is selected at most once (keyed by email).
    """
    roster = list(rows)
    selection = RosterSelection()
    seen_emails: set[str] = set()

    def take(identifier: str, row: Mapping[str, str | None]) -> None:
        try:
            profile = parse_profile(row)
        except RosterCellError as exc:
            selection.skipped.append(RosterSkip(identifier, f"roster row unusable: {exc}"))
            return
        email_key = _key(profile.email)
        if email_key in seen_emails:
            selection.skipped.append(
                RosterSkip(identifier, f"duplicate: {profile.email} is already selected")
            )
            return
        seen_emails.add(email_key)
        selection.selected.append(profile)

    identifiers = [i.strip() for i in wanted_identifiers if i.strip()]
    if not identifiers:
        for index, row in enumerate(roster, start=1):
            if _is_platform(row, platform):
                take(_row_label(row, index), row)
        return selection

    index_by_key: dict[str, list[int]] = {}
    for position, row in enumerate(roster):
        for key in _row_keys(row):
            index_by_key.setdefault(key, []).append(position)

    for identifier in identifiers:
        matches = index_by_key.get(_key(identifier), [])
        on_platform = [roster[i] for i in matches if _is_platform(roster[i], platform)]
        if len(on_platform) == 1:
            take(identifier, on_platform[0])
        elif len(on_platform) > 1:
            emails = ", ".join(sorted({(r.get("email") or "?").strip() for r in on_platform}))
            selection.skipped.append(
                RosterSkip(
                    identifier,
                    f"ambiguous: matches {len(on_platform)} {platform.value} roster rows "
                    f"({emails}); list the influencer by email",
                )
            )
        elif matches:
            found = sorted({_key(roster[i].get("platform")) or "?" for i in matches})
            selection.skipped.append(
                RosterSkip(
                    identifier,
                    f"in the roster only on {', '.join(found)}, "
                    f"but the campaign is on {platform.value}",
                )
            )
        else:
            selection.skipped.append(RosterSkip(identifier, "not found in the roster"))
    return selection
