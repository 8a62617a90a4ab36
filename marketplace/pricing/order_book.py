"""The continuous double auction: a limit order book with price-time priority.

Rules of the continuous double auction as run in the laboratory (V. L. Smith, "An Experimental
Study of Competitive Market Behavior", Journal of Political Economy 70(2), 1962, §I) and
standardised in D. Friedman & J. Rust (eds.), *The Double Auction Market: Institutions,
Theories, and Evidence*, Santa Fe Institute Studies XIV, Addison-Wesley, 1993 (Friedman's
chapter 1, "The Double Auction Market Institution: A Survey", §2): buyers and sellers may shout
a bid or an ask at any time; a shout that meets the best standing order of the other side is
an acceptance and trades at once; otherwise it stands. Electronic books keep standing orders in
price-time priority (the best price first, and among equal prices the earliest), and an
incoming order trades at the *resting* order's price: the maker set it, the taker accepted it.

So, in :class:`OrderBookVenue`:

- bids rest by price descending, then arrival; asks by price ascending, then arrival;
- an incoming order crosses resting orders of the other side while the prices cross, each fill
  at the resting order's price; fills may be partial; what is left of the incoming order rests;
- a sell order of unlimited quantity (``quantity=None``: a licence of data is non-rival) fills
  every crossing bid in full and still rests;
- after every ``submit`` the book is not crossed: the best bid is below the best ask;
- a trader never trades with itself: an order that would cross the same trader's resting order
  on the other side is refused (self-trade prevention, so no fill moves money in a circle);
- with ``one_order_per_trader`` a trader's new order replaces its resting order on the same
  side. ``submit`` returns fills only (the :class:`~marketplace.pricing.protocol.Venue`
  protocol), so the orders it replaced are handed over by :meth:`OrderBookVenue.take_replaced`,
  which the trading stage calls after each submit to record them as withdrawn.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from marketplace.config import Period
from marketplace.errors import MarketError
from marketplace.pricing.posted import BoundBp, check_bounds, clip_proposal, seconds
from marketplace.pricing.protocol import (
    Fill,
    LimitOrder,
    MechanismKind,
    PricingContext,
    Quote,
    VenueView,
    register_mechanism,
)

__all__ = ["DoubleAuction", "OrderBookVenue"]


@dataclass(slots=True)
class _Resting:
    """An order in the book with what is left of it; ``seq`` is its arrival at this venue."""

    order: LimitOrder
    left: int | None
    seq: int

    def key(self) -> tuple[int, int, int]:
        price = -self.order.price_fen if self.order.side == "buy" else self.order.price_fen
        return (price, self.order.at, self.seq)

    def remainder(self) -> LimitOrder:
        return dataclasses.replace(self.order, quantity=self.left)


@dataclass
class OrderBookVenue:
    """One book (a listing's, or a whole category's); see the module docstring for the rules.

    Attributes:
        good: what the book trades: a listing, or a category whose sellers share one book.
        one_order_per_trader: a trader's new order replaces its resting one on the same side.
        last_price_fen: the price of the latest fill (None before any).
    """

    good: str
    one_order_per_trader: bool = False
    kind: MechanismKind = "order-book"
    last_price_fen: int | None = None
    _bids: list[_Resting] = field(default_factory=list, repr=False)
    _asks: list[_Resting] = field(default_factory=list, repr=False)
    _replaced: list[LimitOrder] = field(default_factory=list, repr=False)
    _arrivals: int = field(default=0, repr=False)

    def submit(self, order: LimitOrder) -> list[Fill]:
        """Cross ``order`` against the other side while prices cross; rest what is left.

        Raises:
            MarketError: the order id already rests here, or the order would trade with the
                same trader's resting order (nothing changes in the book then).
        """
        if self._find(order.order) is not None:
            raise MarketError(f"order {order.order} already rests in the book of {self.good}")
        own, other = (self._bids, self._asks) if order.side == "buy" else (self._asks, self._bids)
        for resting in other:
            if not _crosses(order, resting.order):
                break
            if resting.order.trader == order.trader:
                raise MarketError(
                    f"order {order.order} would trade with {order.trader}'s own resting order "
                    f"{resting.order.order}"
                )
        if self.one_order_per_trader:
            for resting in [r for r in own if r.order.trader == order.trader]:
                own.remove(resting)
                self._replaced.append(resting.remainder())
        incoming = _Resting(order, order.quantity, self._arrivals)
        self._arrivals += 1
        fills = self._match(incoming, other)
        if incoming.left is None or incoming.left > 0:
            bisect.insort(own, incoming, key=_Resting.key)
        return fills

    def _match(self, incoming: _Resting, other: list[_Resting]) -> list[Fill]:
        fills: list[Fill] = []
        while other and (incoming.left is None or incoming.left > 0):
            maker = other[0]
            if not _crosses(incoming.order, maker.order):
                break
            quantity = _smaller(incoming.left, maker.left)
            buy, sell = (incoming, maker) if incoming.order.side == "buy" else (maker, incoming)
            fills.append(
                Fill(
                    buy=buy.order.order,
                    sell=sell.order.order,
                    buyer=buy.order.trader,
                    seller=sell.order.trader,
                    listing=sell.order.listing,
                    price_fen=maker.order.price_fen,
                    quantity=quantity,
                    rule=f"resting order {maker.order.order}",
                )
            )
            self.last_price_fen = maker.order.price_fen
            for side in (incoming, maker):
                if side.left is not None:
                    side.left -= quantity
            if maker.left == 0:
                other.pop(0)
        return fills

    def take_replaced(self) -> list[LimitOrder]:
        """The resting orders (what was left of each) that new orders of the same traders
        replaced since the last call, oldest first; the venue forgets them."""
        replaced, self._replaced = self._replaced, []
        return replaced

    def cancel(self, order: str) -> LimitOrder | None:
        found = self._find(order)
        if found is None:
            return None
        book = self._bids if found.order.side == "buy" else self._asks
        book.remove(found)
        return found.remainder()

    def close(self, now: int) -> list[Fill]:
        """A continuous book has no closing call: orders rest until filled or withdrawn."""
        return []

    def resting(self) -> list[LimitOrder]:
        """Bids then asks, each in priority order, with the quantity still open."""
        return [r.remainder() for r in (*self._bids, *self._asks)]

    def view(self) -> VenueView:
        best_bid = self._bids[0].order.price_fen if self._bids else None
        best_ask = self._asks[0].order.price_fen if self._asks else None
        return VenueView(self.kind, best_bid, best_ask, self.last_price_fen, None)

    def _find(self, order: str) -> _Resting | None:
        return next((r for r in (*self._bids, *self._asks) if r.order.order == order), None)


def _crosses(incoming: LimitOrder, resting: LimitOrder) -> bool:
    if incoming.side == "buy":
        return incoming.price_fen >= resting.price_fen
    return incoming.price_fen <= resting.price_fen


def _smaller(a: int | None, b: int | None) -> int:
    """The fill quantity: the smaller of two open quantities, ``None`` being unlimited (never
    both: a buy order always has a quantity)."""
    if a is None:
        assert b is not None
        return b
    return a if b is None else min(a, b)


@register_mechanism("double-auction")
@dataclass(frozen=True)
class DoubleAuction:
    """A continuous double auction: the provider's ask rests in a book that buyers bid into.

    The quote is the seller's ask: its strategy's proposal clipped to the same bounds as a
    posted price (:func:`~marketplace.pricing.posted.clip_proposal`), so the book differs from
    posted pricing only in that bids rest and may be met later.

    Attributes:
        book: ``listing`` opens a book per listing; ``category`` one book per category that
            every seller of the category asks into (buyers then take the cheapest ask).
        patience_days: how long a buy order rests before the buyer withdraws it.
        one_order_per_trader: a trader's new order replaces its resting one on the same side.
        floor_bp: the lowest ask, as a multiple of unit cost in basis points.
        cap_bp: the highest ask.
        standing_quote: the listing's quote rests in the book as the provider's ask
            (unlimited licences); off for a laboratory book, where sellers post unit asks.
    """

    kind: ClassVar[MechanismKind] = "order-book"
    name: ClassVar[str] = "double-auction"
    book: Literal["listing", "category"] = "listing"
    patience_days: Period = 7.0
    one_order_per_trader: bool = True
    floor_bp: BoundBp = 10_000
    cap_bp: BoundBp = 100_000
    standing_quote: bool = True

    def __post_init__(self) -> None:
        check_bounds("double auction", self.floor_bp, self.cap_bp)
        if self.book not in ("listing", "category"):
            raise MarketError(f"double auction book must be 'listing' or 'category': {self.book}")
        if not self.patience_days > 0:
            raise MarketError(f"double auction patience_days must be > 0: {self.patience_days}")

    @property
    def patience_s(self) -> int:
        """How long a buy order rests, in sim seconds."""
        return seconds(self.patience_days)

    def good(self, listing: str, category: str) -> str:
        """The book an order for ``listing`` of ``category`` goes to."""
        return listing if self.book == "listing" else category

    def quote(self, context: PricingContext) -> Quote:
        return clip_proposal(context, self.floor_bp, self.cap_bp, "ask by provider strategy")

    def open_venue(self, good: str, opened_at: int) -> OrderBookVenue:
        return OrderBookVenue(good, self.one_order_per_trader)
