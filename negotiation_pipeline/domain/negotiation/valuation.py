"""What a package of deliverables is worth: expected views per deliverable, summed per package.

A campaign scenario is free text ("1 Instagram Reel, 3 Instagram Stories"). Each item is read as
a quantity and a deliverable kind (matched by the configured keywords, longest keyword wins);
one deliverable of a kind is worth `views` × the influencer's average views, unless the roster
gives that influencer's own views for the kind (`<kind>_views` column). The usage-rights term
multiplies the value: longer rights are worth more to the client.

Everything here is pure; the numbers come from `package_value` in config/negotiation_policy.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from negotiation_pipeline.domain.enums import UsageRightsDuration
from negotiation_pipeline.domain.money import parse_decimal

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_ITEM_SPLIT = re.compile(r"[\n;,+]+|\s&\s|\band\b", re.IGNORECASE)
_LEADING_QUANTITY = re.compile(
    r"^\s*(?:(?P<num>\d{1,3})|(?P<word>one|two|three|four|five|six|seven|eight|nine|ten|a|an))"
    r"\s*(?:x|×)?\s+",
    re.IGNORECASE,
)
_TRAILING_QUANTITY = re.compile(r"\s*(?:x|×)\s*(?P<num>\d{1,3})\s*$", re.IGNORECASE)
KindedItem = tuple[int, str, str | None]  # quantity, item text, deliverable kind
_WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


def _ratio(value: Any) -> Decimal:
    """Ratios may be written unquoted in YAML (0.25); their shortest repr is exact."""
    return parse_decimal(repr(value) if isinstance(value, float) else value)


Ratio = Annotated[Decimal, BeforeValidator(_ratio)]


class DeliverableKind(BaseModel):
    """One kind of deliverable: how it is written and what one of it is worth in views."""

    model_config = _FROZEN

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    keywords: tuple[str, ...] = Field(min_length=1)
    views: Ratio = Field(ge=0, le=10, description="fraction of the influencer's average views")

    @model_validator(mode="after")
    def _keywords_not_blank(self) -> DeliverableKind:
        if any(not k.strip() for k in self.keywords):
            raise ValueError(f"deliverable {self.name}: keywords must not be blank")
        return self


def _default_usage_value() -> dict[UsageRightsDuration, Decimal]:
    steps = ("1.00", "1.10", "1.15", "1.20", "1.30", "1.40", "1.60")
    return {d: Decimal(s) for d, s in zip(UsageRightsDuration, steps, strict=True)}


class PackageValuation(BaseModel):
    """`package_value` in the policy file."""

    model_config = _FROZEN

    deliverables: tuple[DeliverableKind, ...] = Field(min_length=1)
    unrecognised_item_views: Ratio = Field(default=Decimal("0.5"), ge=0, le=10)
    usage_rights_value: dict[UsageRightsDuration, Ratio] = Field(
        default_factory=_default_usage_value
    )

    _keywords: list[tuple[re.Pattern[str], str, int]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _usage_complete_and_ordered(self) -> PackageValuation:
        missing = [d.value for d in UsageRightsDuration if d not in self.usage_rights_value]
        if missing:
            raise ValueError(f"usage_rights_value lacks {', '.join(missing)}")
        values = [self.usage_rights_value[d] for d in UsageRightsDuration]
        if any(v <= 0 for v in values) or values != sorted(values):
            raise ValueError("usage_rights_value must be positive and grow with the term")
        names = [k.name for k in self.deliverables]
        if len(set(names)) != len(names):
            raise ValueError("deliverable names must be unique")
        return self

    def model_post_init(self, context: Any, /) -> None:
        found = []
        for kind in self.deliverables:
            for keyword in kind.keywords:
                words = r"\s+".join(re.escape(w) for w in keyword.split())
                found.append((re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE), kind.name))
        # Longest keyword first, so "tiktok story" wins over "tiktok".
        ordered = sorted(found, key=lambda item: len(item[0].pattern), reverse=True)
        self._keywords = [(pattern, name, rank) for rank, (pattern, name) in enumerate(ordered)]

    def __hash__(self) -> int:
        # Hashable, so what is derived from a valuation can be remembered per valuation (the
        # generated hash of a frozen model cannot take the usage dict). Two fields are enough
        # for a valid hash: equal valuations agree on them.
        return hash((self.unrecognised_item_views, len(self.deliverables)))

    def kind(self, name: str) -> DeliverableKind:
        for kind in self.deliverables:
            if kind.name == name:
                return kind
        raise KeyError(name)

    def classify(self, item: str) -> str | None:
        """The deliverable kind an item names, or None when no keyword matches."""
        for pattern, name, _ in self._keywords:
            if pattern.search(item):
                return name
        return None

    def items_of(self, package: str) -> tuple[KindedItem, ...]:
        """(quantity, item text, kind or None) per item of a package text."""
        return _items_of(self, package)

    def views_each(self, kind: str | None, average: Decimal) -> Decimal:
        """Expected views of one deliverable of `kind` (None: an unrecognised item)."""
        if kind is None:
            return average * self.unrecognised_item_views
        return average * self.kind(kind).views

    def expected_views(self, package: str, average_views: int) -> int:
        """`package_views(...).total` without per-influencer overrides."""
        return _expected_views(self, package, average_views)

    def usage_factor(
        self, usage: UsageRightsDuration, campaign_target: UsageRightsDuration
    ) -> Decimal:
        """Value of `usage` relative to the campaign's target term (1 at the target)."""
        return self.usage_rights_value[usage] / self.usage_rights_value[campaign_target]


@dataclass(frozen=True)
class PackageItem:
    quantity: int
    text: str  # the item as the campaign wrote it, without its quantity
    kind: str | None  # None: no keyword matched (valued at unrecognised_item_views)
    views_each: Decimal


@dataclass(frozen=True)
class PackageViews:
    """Expected views of one package, item by item."""

    items: tuple[PackageItem, ...]

    @property
    def total(self) -> int:
        views = sum((item.views_each * item.quantity for item in self.items), Decimal(0))
        return int(views.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def unrecognised(self) -> tuple[str, ...]:
        return tuple(item.text for item in self.items if item.kind is None)

    def explain(self) -> str:
        """ "1 × reel (42,000) + 3 × story (10,500 each) = 73,500 views" for the audit trail."""
        parts = [
            f"{item.quantity} × {item.kind or repr(item.text)} ({item.views_each:,.0f}"
            f"{' each' if item.quantity > 1 else ''})"
            for item in self.items
        ]
        return f"{' + '.join(parts) or 'nothing'} = {self.total:,} views"


def split_items(package: str) -> list[tuple[int, str]]:
    """ "1 Reel + 3 Stories, link in bio" → [(1, "Reel"), (3, "Stories"), (1, "link in bio")]."""
    return list(_split_items(package))


@lru_cache(maxsize=1024)
def _split_items(package: str) -> tuple[tuple[int, str], ...]:
    items = []
    for raw in _ITEM_SPLIT.split(package):
        text = raw.strip().lstrip("-•* ").strip()
        if not text:
            continue
        quantity = 1
        if match := _LEADING_QUANTITY.match(text):
            number = match.group("num")
            quantity = int(number) if number else _WORD_NUMBERS[match.group("word").lower()]
            text = text[match.end() :].strip()
        elif match := _TRAILING_QUANTITY.search(text):
            quantity = int(match.group("num"))
            text = text[: match.start()].strip()
        if text and quantity > 0:
            items.append((quantity, text))
    return tuple(items)


def package_views(
    package: str,
    average_views: int,
    valuation: PackageValuation,
    overrides: Mapping[str, int] | None = None,
) -> PackageViews:
    """Expected views of `package` for an influencer with `average_views` per post;
    `overrides` maps a deliverable kind to that influencer's own views for one of it."""
    own = overrides or {}
    average = Decimal(average_views)
    items = []
    for quantity, text, kind in valuation.items_of(package):
        if kind is not None and kind in own:
            each = Decimal(own[kind])
        else:
            each = valuation.views_each(kind, average)
        items.append(PackageItem(quantity, text, kind, each))
    return PackageViews(tuple(items))


# Campaigns reuse a handful of package texts for every influencer and every reply: each text is
# split and matched against the keywords once, and pricing asks for the same few packages of the
# same influencer on every reply.
@lru_cache(maxsize=1024)
def _items_of(valuation: PackageValuation, package: str) -> tuple[KindedItem, ...]:
    return tuple(
        (quantity, text, valuation.classify(text)) for quantity, text in _split_items(package)
    )


@lru_cache(maxsize=8192)
def _expected_views(valuation: PackageValuation, package: str, average_views: int) -> int:
    return package_views(package, average_views, valuation).total
