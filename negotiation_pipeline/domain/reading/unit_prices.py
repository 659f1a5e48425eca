"""Prices per deliverable ("$500 per reel", "$300 a story") totalled over the package we offered.

A creator who answers a three-post offer with "$500 per post" asks $1,500, not $500. When the
reply itself names the count ("$400 each for the 3 reels") money_mentions.py totals it; here
the count comes from the package on the table, given as (quantity, item) pairs such as
(1, "Instagram Reel"), (2, "Stories"). Every item must be priced by one of the mentions (a unit
word in the item's name, or a generic one: "each", "piece", "deliverable"), all in one
currency; otherwise there is no total, and the reader says so instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from negotiation_pipeline.domain.reading.money_mentions import MoneyMention, normalize, singular

PackageItems = Sequence[tuple[int, str]]

# Units that price any deliverable alike.
_GENERIC_UNITS = frozenset({"", "piece", "deliverable", "item", "asset"})
# Units a creator uses for the one kind of content a package holds ("per post" for one reel).
_LOOSE_UNITS = frozenset({"post", "video", "content"})
_WORD = re.compile(r"[a-z]+")


def total_over_package(units: Sequence[MoneyMention], package: PackageItems) -> Decimal | None:
    """The fee the per-deliverable prices `units` come to for `package`; None when some item of
    the package has no price among them, they mix currencies, or there is no package."""
    if not units or not package or len({mention.currency for mention in units}) != 1:
        return None
    total = Decimal(0)
    for quantity, item in package:
        price = _price_for(item, units, single_kind=len(package) == 1)
        if price is None:
            return None
        total += price * quantity
    return normalize(total)


def _price_for(item: str, units: Sequence[MoneyMention], *, single_kind: bool) -> Decimal | None:
    words = {singular(word) for word in _WORD.findall(item.lower())}
    for mention in units:
        unit = mention.unit or ""
        if unit in _GENERIC_UNITS or unit in words:
            return mention.amount
    if single_kind and len(units) == 1 and (units[0].unit or "") in _LOOSE_UNITS:
        return units[0].amount
    return None
