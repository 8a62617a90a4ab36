"""Posted price: the provider's strategy sets a take-it-or-leave-it price within exchange bounds.

Sequential posted pricing (S. Chawla, J. Hartline, D. Malec, B. Sivan, "Multi-parameter Mechanism
Design and Sequential Posted Pricing", STOC 2010): each arriving buyer sees a fixed price and buys
iff its value exceeds it. The exchange bounds the posted price below by the provider's unit cost
times ``floor_bp`` (no dumping below cost by default) and above by ``cap_bp`` times cost, as
price-guidance rules on exchanges do.
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

__all__ = ["PostedPrice"]


@register_mechanism("posted")
@dataclass(frozen=True)
class PostedPrice:
    """Clip the strategy's proposal to ``[cost × floor_bp, cost × cap_bp] / 10 000``."""

    kind: ClassVar[MechanismKind] = "posted"
    name: ClassVar[str] = "posted"
    floor_bp: Annotated[int, Field(ge=0, le=1_000_000)] = 10_000
    cap_bp: Annotated[int, Field(ge=0, le=1_000_000)] = 100_000

    def __post_init__(self) -> None:
        if not 0 <= self.floor_bp <= self.cap_bp:
            raise MarketError("posted price needs 0 <= floor_bp <= cap_bp")

    def quote(self, context: PricingContext) -> Quote:
        if context.proposed_fen is None:
            raise MarketError(f"posted price for {context.listing}: the strategy proposed nothing")
        floor = max(1, apply_bp(context.unit_cost_fen, self.floor_bp))
        cap = max(floor, apply_bp(context.unit_cost_fen, self.cap_bp))
        price = min(max(context.proposed_fen, floor), cap)
        if price != context.proposed_fen:
            return Quote(price, f"proposal {context.proposed_fen} clipped to [{floor}, {cap}]")
        return Quote(price, "posted by provider strategy")

    def open_venue(self, good: str, opened_at: int) -> PostedVenue:
        return PostedVenue(good)
