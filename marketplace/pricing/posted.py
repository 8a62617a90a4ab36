"""Posted price: the provider's strategy sets a take-it-or-leave-it price within exchange bounds.

Sequential posted pricing (S. Chawla, J. Hartline, D. Malec, B. Sivan, "Multi-parameter Mechanism
Design and Sequential Posted Pricing", STOC 2010): each arriving buyer sees a fixed price and buys
iff its value exceeds it. The exchange bounds the posted price below by the provider's unit cost
times ``floor_bp`` (no dumping below cost by default) and above by ``cap_bp`` times cost, as
price-guidance rules on exchanges do.

The same bounds apply wherever a provider's strategy proposes the seller's side: the ask of a
double auction and the list price of a negotiation are clipped by :func:`clip_proposal` too, so
changing the mechanism never changes what a seller may ask.
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

__all__ = ["SECONDS_PER_DAY", "BoundBp", "PostedPrice", "check_bounds", "clip_proposal", "seconds"]

#: Venues keep time in whole sim seconds (``LimitOrder.at``); mechanisms take days from scenarios.
SECONDS_PER_DAY = 86_400
#: A bound on the seller's side as a multiple of unit cost, in basis points (up to 100×).
BoundBp = Annotated[int, Field(ge=0, le=1_000_000)]


def seconds(days: float) -> int:
    """``days`` as whole sim seconds (rounded), the unit venues keep time in."""
    return round(days * SECONDS_PER_DAY)


def check_bounds(mechanism: str, floor_bp: int, cap_bp: int) -> None:
    """Refuse inverted or negative bounds, naming the mechanism (dataclasses built in code skip
    the scenario's validation, so the mechanism checks again)."""
    if not 0 <= floor_bp <= cap_bp:
        raise MarketError(f"{mechanism} needs 0 <= floor_bp <= cap_bp, got {floor_bp}, {cap_bp}")


def clip_proposal(context: PricingContext, floor_bp: int, cap_bp: int, reason: str) -> Quote:
    """The strategy's proposal clipped to ``[cost × floor_bp, cost × cap_bp] / 10 000``.

    Args:
        context: the listing being quoted; ``proposed_fen`` must be set.
        floor_bp: the lower bound as a multiple of unit cost (never below 1 fen).
        cap_bp: the upper bound (never below the floor).
        reason: the quote's reason when the proposal needed no clipping.

    Raises:
        MarketError: the strategy proposed nothing.
    """
    if context.proposed_fen is None:
        raise MarketError(f"posted price for {context.listing}: the strategy proposed nothing")
    floor = max(1, apply_bp(context.unit_cost_fen, floor_bp))
    cap = max(floor, apply_bp(context.unit_cost_fen, cap_bp))
    price = min(max(context.proposed_fen, floor), cap)
    if price != context.proposed_fen:
        return Quote(price, f"proposal {context.proposed_fen} clipped to [{floor}, {cap}]")
    return Quote(price, reason)


@register_mechanism("posted")
@dataclass(frozen=True)
class PostedPrice:
    """Clip the strategy's proposal to ``[cost × floor_bp, cost × cap_bp] / 10 000``."""

    kind: ClassVar[MechanismKind] = "posted"
    name: ClassVar[str] = "posted"
    floor_bp: BoundBp = 10_000
    cap_bp: BoundBp = 100_000

    def __post_init__(self) -> None:
        check_bounds("posted price", self.floor_bp, self.cap_bp)

    def quote(self, context: PricingContext) -> Quote:
        return clip_proposal(context, self.floor_bp, self.cap_bp, "posted by provider strategy")

    def open_venue(self, good: str, opened_at: int) -> PostedVenue:
        return PostedVenue(good)
