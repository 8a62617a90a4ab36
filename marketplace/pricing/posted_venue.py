"""The posted-price venue: the seller's ask stands; buyers take it or leave it.

Take-it-or-leave-it pricing (Chawla, Hartline, Malec & Sivan, "Multi-parameter Mechanism Design
and Sequential Posted Pricing", STOC 2010): a buy order whose limit reaches the standing ask
fills at once at the ask; any other buy order is refused and never rests. The ask is the
seller's sell order (its ``pricing.quote``), unlimited in quantity because licences of data are
non-rival. A new sell order from the same seller replaces the ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.errors import MarketError
from marketplace.pricing.protocol import Fill, LimitOrder, MechanismKind, VenueView

__all__ = ["PostedVenue", "take_posted_ask"]


def take_posted_ask(
    order: LimitOrder, ask: LimitOrder | None, rule: str, version: int = 0
) -> list[Fill]:
    """The posted rule for one buy order: it fills at once, at the ask (of ``version``), when
    its limit reaches the ask; otherwise nothing happens (it never rests)."""
    if ask is None or order.price_fen < ask.price_fen:
        return []
    assert order.quantity is not None
    return [
        Fill(
            buy=order.order,
            sell=ask.order,
            buyer=order.trader,
            seller=ask.trader,
            listing=ask.listing,
            price_fen=ask.price_fen,
            quantity=order.quantity,
            rule=rule,
            version=version,
        )
    ]


@dataclass
class PostedVenue:
    """One listing's posted price. ``bids_seen`` keeps every buy limit received since the
    last quote, filled or not, for mechanisms that learn from demand."""

    good: str
    kind: MechanismKind = "posted"
    ask: LimitOrder | None = None
    last_price_fen: int | None = None
    bids_seen: list[int] = field(default_factory=list)

    def submit(self, order: LimitOrder) -> list[Fill]:
        if order.side == "sell":
            self.ask = order
            return []
        self.bids_seen.append(order.price_fen)
        fills = take_posted_ask(order, self.ask, "posted ask")
        if fills:
            assert self.ask is not None
            if self.ask.quantity is not None:
                raise MarketError(f"posted ask {self.ask.order} must be unlimited")
            self.last_price_fen = fills[0].price_fen
        return fills

    def cancel(self, order: str) -> LimitOrder | None:
        if self.ask is not None and self.ask.order == order:
            withdrawn, self.ask = self.ask, None
            return withdrawn
        return None

    def close(self, now: int) -> list[Fill]:
        return []

    def resting(self) -> list[LimitOrder]:
        return [] if self.ask is None else [self.ask]

    def view(self) -> VenueView:
        best_ask = None if self.ask is None else self.ask.price_fen
        return VenueView(self.kind, None, best_ask, self.last_price_fen, None)
