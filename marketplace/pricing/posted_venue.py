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

__all__ = ["PostedVenue"]


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
        ask = self.ask
        if ask is None or order.price_fen < ask.price_fen:
            return []
        if ask.quantity is not None:
            raise MarketError(f"posted ask {ask.order} must be unlimited")
        assert order.quantity is not None
        self.last_price_fen = ask.price_fen
        return [
            Fill(
                buy=order.order,
                sell=ask.order,
                buyer=order.trader,
                seller=ask.trader,
                listing=ask.listing,
                price_fen=ask.price_fen,
                quantity=order.quantity,
                rule="posted ask",
            )
        ]

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
