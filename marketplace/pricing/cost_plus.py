"""Cost-plus pricing: the price is the unit cost plus a fixed markup.

The cost-based family of data pricing (J. Pei, "A Survey on Data Pricing: From Economics to Data
Science", IEEE TKDE 34(10), 2022, §3.1): the seller recovers the cost of producing, hosting and
delivering the data plus a margin. Exchanges use it as the reference price of a newly listed
product when there is no demand history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import Field

from marketplace.errors import MarketError
from marketplace.money import apply_bp
from marketplace.pricing.posted_venue import PostedVenue
from marketplace.pricing.protocol import (
    MechanismKind,
    PricingContext,
    Quote,
    register_mechanism,
)

__all__ = ["CostPlus"]


@register_mechanism("cost-plus")
@dataclass(frozen=True)
class CostPlus:
    """``price = cost + cost × markup_bp / 10 000`` (rounded half up), at least 1 fen."""

    kind: ClassVar[MechanismKind] = "posted"
    name: ClassVar[str] = "cost-plus"
    markup_bp: Annotated[int, Field(ge=0, le=1_000_000)] = 3000

    def __post_init__(self) -> None:
        if self.markup_bp < 0:
            raise MarketError("cost-plus markup_bp must be >= 0")

    def quote(self, context: PricingContext) -> Quote:
        price = max(1, context.unit_cost_fen + apply_bp(context.unit_cost_fen, self.markup_bp))
        return Quote(price, f"break-even {context.unit_cost_fen} + {self.markup_bp} bp markup")

    def open_venue(self, good: str, opened_at: int) -> PostedVenue:
        return PostedVenue(good)
