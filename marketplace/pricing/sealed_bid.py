"""The sealed-bid (k+1)-th price auction with a reserve: Vickrey's auction for k licences.

W. Vickrey, "Counterspeculation, Auctions, and Competitive Sealed Tenders", Journal of Finance
16(1), 1961, §II (one unit: the highest bidder wins and pays the second-highest bid) and its
multi-unit form (k units to the k highest bids, each paying the highest *losing* bid, so
bidding one's value is a dominant strategy for unit demand). A reserve ``r`` is a bid of the
seller's: nobody wins below it and nobody pays less than it, so each winner pays
``max(r, highest losing bid)``. Myerson ("Optimal Auction Design", Mathematics of Operations
Research 6(1), 1981) shows that with the right reserve this auction maximises the seller's
expected revenue (:mod:`marketplace.pricing.myerson`).

In :class:`SealedBidVenue` the seller's sell order sets both: its price is the reserve and its
quantity the number of licences ``k`` (``None``: as many as there are bids at or above the
reserve, each at the reserve). Buy orders are sealed bids for one licence each, at most one
per bidder, collected unseen until ``close``. Bids are ranked by price, highest first; equal
bids by arrival time, earlier first (then by arrival at the venue), so the earlier bidder wins
a tie. ``clearing()`` then shows what the ledger records of the auction: every bid in rank
order, the reserve, k, the winners, the price and the rule that set it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from marketplace.config import Period
from marketplace.distributions import Distribution
from marketplace.errors import MarketError
from marketplace.pricing.myerson import check_regular, myerson_reserve
from marketplace.pricing.posted import seconds
from marketplace.pricing.protocol import (
    Fill,
    LimitOrder,
    MechanismKind,
    PricingContext,
    Quote,
    VenueView,
    register_mechanism,
)

__all__ = ["Clearing", "SealedBidVenue", "SecondPrice"]


@dataclass(frozen=True, slots=True)
class Clearing:
    """How a sealed-bid auction cleared, for the ledger.

    Attributes:
        reserve_fen: the reserve (the seller's sell order's price); None if no seller came.
        units: k, the licences offered; None for as many as bids reach the reserve.
        ranked: every bid, in rank order (price descending, then arrival).
        winners: the winning bids' order ids, in rank order.
        price_fen: what each winner pays; None if nobody won.
        rule: how the price was set, in words.
    """

    reserve_fen: int | None
    units: int | None
    ranked: tuple[LimitOrder, ...]
    winners: tuple[str, ...]
    price_fen: int | None
    rule: str


def _price_rule(units: int | None) -> str:
    if units == 1:
        return "second price: highest losing bid"
    return f"(k+1)-th price, k = {units}: highest losing bid"


def clear(ask: LimitOrder | None, bids: list[LimitOrder]) -> Clearing:
    """Rank ``bids`` (in arrival order) and clear them against ``ask``: the pure rule alone."""
    ranked = tuple(sorted(bids, key=lambda b: (-b.price_fen, b.at)))  # stable: then arrival
    if ask is None:
        return Clearing(None, None, ranked, (), None, "no sale: no seller")
    reserve, units = ask.price_fen, ask.quantity
    eligible = [b for b in ranked if b.price_fen >= reserve]
    winners = eligible if units is None else eligible[:units]
    if not winners:
        return Clearing(reserve, units, ranked, (), None, "no sale: no bid reached the reserve")
    losing = None if units is None or len(ranked) <= units else ranked[units].price_fen
    if losing is not None and losing > reserve:
        price, rule = losing, _price_rule(units)
    else:
        price, rule = reserve, "reserve"
    return Clearing(reserve, units, ranked, tuple(b.order for b in winners), price, rule)


@dataclass
class SealedBidVenue:
    """One sealed-bid auction for ``good``, open until ``closes_at`` (sim seconds)."""

    good: str
    closes_at: int
    kind: MechanismKind = "sealed-bid"
    ask: LimitOrder | None = None
    last_price_fen: int | None = None
    _bids: list[LimitOrder] = field(default_factory=list, repr=False)
    _clearing: Clearing | None = field(default=None, repr=False)

    def submit(self, order: LimitOrder) -> list[Fill]:
        """Take the seller's reserve or a sealed bid; nothing fills before ``close``.

        Raises:
            MarketError: the auction has closed or the order came after ``closes_at``; a
                second sell order (the reserve is fixed once announced); a bid for more than
                one licence, a second bid of one bidder, a bid by the seller, or an order id
                seen before.
        """
        if self._clearing is not None or order.at > self.closes_at:
            raise MarketError(f"order {order.order}: the auction of {self.good} has closed")
        if any(o.order == order.order for o in self._orders()):
            raise MarketError(f"order {order.order} was already submitted to {self.good}")
        if order.side == "sell":
            if self.ask is not None:
                raise MarketError(
                    f"order {order.order}: the auction of {self.good} already has its reserve "
                    f"({self.ask.order})"
                )
            if any(b.trader == order.trader for b in self._bids):
                raise MarketError(f"order {order.order}: {order.trader} has bid in this auction")
            self.ask = order
            return []
        if order.quantity != 1:
            raise MarketError(f"order {order.order}: a sealed bid is for one licence")
        if any(o.trader == order.trader for o in self._orders()):
            raise MarketError(f"order {order.order}: {order.trader} is already in this auction")
        self._bids.append(order)
        return []

    def cancel(self, order: str) -> LimitOrder | None:
        """Withdraw a bid (or the reserve) before the auction closes."""
        if self._clearing is not None:
            return None
        for bid in self._bids:
            if bid.order == order:
                self._bids.remove(bid)
                return bid
        if self.ask is not None and self.ask.order == order:
            withdrawn, self.ask = self.ask, None
            return withdrawn
        return None

    def close(self, now: int) -> list[Fill]:
        """Clear the auction (see the module docstring); afterwards nothing rests.

        Raises:
            MarketError: before ``closes_at``, or a second time.
        """
        if now < self.closes_at:
            raise MarketError(f"the auction of {self.good} closes at {self.closes_at}, not {now}")
        if self._clearing is not None:
            raise MarketError(f"the auction of {self.good} has already closed")
        self._clearing = clearing = clear(self.ask, self._bids)
        if clearing.price_fen is None or self.ask is None:
            return []
        self.last_price_fen = clearing.price_fen
        ask, price = self.ask, clearing.price_fen
        won = set(clearing.winners)
        return [
            Fill(b.order, ask.order, b.trader, ask.trader, ask.listing, price, 1, clearing.rule)
            for b in clearing.ranked
            if b.order in won
        ]

    def clearing(self) -> Clearing | None:
        """How the auction cleared; None until it has."""
        return self._clearing

    def resting(self) -> list[LimitOrder]:
        """Before the close, the reserve then the bids in rank order; afterwards nothing (the
        losing bids are in ``clearing().ranked``)."""
        if self._clearing is not None:
            return []
        return [*([] if self.ask is None else [self.ask]), *clear(None, self._bids).ranked]

    def view(self) -> VenueView:
        """The reserve is announced; the bids are not."""
        reserve = None if self.ask is None else self.ask.price_fen
        return VenueView(self.kind, None, reserve, self.last_price_fen, self.closes_at)

    def _orders(self) -> list[LimitOrder]:
        return [*self._bids, *([] if self.ask is None else [self.ask])]


@register_mechanism("second-price")
@dataclass(frozen=True)
class SecondPrice:
    """Sealed-bid auctions of ``units`` licences with a reserve, one round every ``round_days``.

    The quote is the reserve: the unit cost (``reserve = "cost"``: the seller never sells at a
    loss and otherwise leaves the price to the bids) or Myerson's optimal reserve for buyers'
    values distributed as ``value`` (``reserve = "myerson"``), to the nearest fen. The
    trading stage submits the seller's sell order at the quote for ``units`` licences.

    Attributes:
        round_days: how long each auction collects bids.
        units: k, the licences each auction sells (the Vickrey auction for k = 1).
        reserve: ``cost`` or ``myerson``.
        value: the buyers' value distribution in fen, required by ``myerson``; checked for
            regularity when the mechanism is made, so a bad scenario fails at load time.
    """

    kind: ClassVar[MechanismKind] = "sealed-bid"
    name: ClassVar[str] = "second-price"
    round_days: Period = 1.0
    units: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    reserve: Literal["myerson", "cost"] = "cost"
    value: Distribution | None = None

    def __post_init__(self) -> None:
        if self.units < 1:
            raise MarketError(f"second-price units must be >= 1, got {self.units}")
        if self.reserve == "myerson":
            if self.value is None:
                raise MarketError("second-price reserve = 'myerson' needs the buyers' value")
            check_regular(self.value)

    @property
    def round_s(self) -> int:
        return seconds(self.round_days)

    def quote(self, context: PricingContext) -> Quote:
        cost = context.unit_cost_fen
        if self.reserve == "cost" or self.value is None:
            return Quote(max(1, cost), f"reserve at unit cost {cost}", self.units)
        # to the nearest fen, half up: the root is found to 10⁻⁹, so rounding up would turn
        # an exact 5 000 into 5 001; a root at or above the cost never rounds below it
        reserve = max(1, cost, math.floor(myerson_reserve(self.value, float(cost)) + 0.5))
        law = ", ".join(
            f"{k}={v:g}" for k, v in self.value.model_dump(by_alias=True).items() if k != "dist"
        )
        return Quote(
            reserve,
            f"Myerson reserve: r - (1 - F(r))/f(r) = {cost} for {self.value.dist}({law})",
            self.units,
        )

    def open_venue(self, good: str, opened_at: int) -> SealedBidVenue:
        return SealedBidVenue(good, opened_at + self.round_s)
