"""Bilateral negotiation by alternating offers, between one buyer and one seller, to a deadline.

The protocol of A. Rubinstein, "Perfect Equilibrium in a Bargaining Model", Econometrica 50(1),
1982: two parties take turns; at each turn one proposes a price, and the other either
accepts it or makes a counter-offer at its own next turn. Here time is finite (the deadline
ends the negotiation without agreement, as in the bounded negotiations of P. Faratin, C.
Sierra & N. R. Jennings, "Negotiation Decision Functions for Autonomous Agents", Robotics and
Autonomous Systems 24(3-4), 1998, whose tactics the traders use: see
``agents/trading_strategies.py``).

In :class:`NegotiationVenue` an offer is a limit order. Either party may open; after that they
must alternate, and an out-of-turn offer is refused. An offer that meets or crosses the other
party's standing offer is an acceptance: it fills at the *standing* offer (the one accepted),
and the negotiation ends. Otherwise it stands, replacing the party's previous offer, and the
turn passes. The first buyer and the first seller to make an offer are the parties; nobody
else may join. ``close`` at the deadline ends the negotiation without a fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from marketplace.config import Period
from marketplace.errors import MarketError
from marketplace.pricing.posted import BoundBp, check_bounds, clip_proposal, seconds
from marketplace.pricing.protocol import (
    Fill,
    LimitOrder,
    MechanismKind,
    PricingContext,
    Quote,
    Side,
    VenueView,
    register_mechanism,
)

__all__ = ["Negotiation", "NegotiationVenue"]


def _other(side: Side) -> Side:
    return "sell" if side == "buy" else "buy"


@dataclass
class NegotiationVenue:
    """One negotiation over ``good``, ending at ``closes_at`` (sim seconds).

    Attributes:
        good: the listing negotiated over.
        closes_at: the deadline.
        parties: the buyer and the seller, once each has made an offer.
        to_move: whose turn it is; None before the first offer and after the end.
        over: the negotiation has ended, by an agreement or at the deadline.
    """

    good: str
    closes_at: int
    kind: MechanismKind = "bilateral"
    parties: dict[Side, str] = field(default_factory=dict)
    to_move: Side | None = None
    over: bool = False
    last_price_fen: int | None = None
    _standing: dict[Side, LimitOrder] = field(default_factory=dict, repr=False)
    _seen: set[str] = field(default_factory=set, repr=False)

    def submit(self, order: LimitOrder) -> list[Fill]:
        """Take an offer: an acceptance fills at the standing offer; else it stands.

        Raises:
            MarketError: the negotiation is over or past its deadline; the trader is not a
                party (or would be both); it is not the trader's turn; an order id seen before.
        """
        if self.over or order.at > self.closes_at:
            raise MarketError(f"offer {order.order}: the negotiation over {self.good} is over")
        if order.order in self._seen:
            raise MarketError(f"offer {order.order} was already made in {self.good}")
        party = self.parties.get(order.side)
        if party is not None and party != order.trader:
            raise MarketError(
                f"offer {order.order}: {order.trader} is not a party; the {order.side}er is {party}"
            )
        if self.parties.get(_other(order.side)) == order.trader:
            raise MarketError(f"offer {order.order}: {order.trader} cannot negotiate with itself")
        if self.to_move is not None and order.side != self.to_move:
            raise MarketError(
                f"offer {order.order} out of turn: it is the {self.to_move}er's turn in {self.good}"
            )
        self._seen.add(order.order)
        self.parties[order.side] = order.trader
        standing = self._standing.get(_other(order.side))
        if standing is not None and _meets(order, standing):
            return [self._agree(order, standing)]
        self._standing[order.side] = order
        self.to_move = _other(order.side)
        return []

    def _agree(self, order: LimitOrder, standing: LimitOrder) -> Fill:
        buy, sell = (order, standing) if order.side == "buy" else (standing, order)
        assert buy.quantity is not None
        quantity = buy.quantity if sell.quantity is None else min(buy.quantity, sell.quantity)
        self.over, self.to_move, self.last_price_fen = True, None, standing.price_fen
        self._standing.clear()
        return Fill(
            buy=buy.order,
            sell=sell.order,
            buyer=buy.trader,
            seller=sell.trader,
            listing=sell.listing,
            price_fen=standing.price_fen,
            quantity=quantity,
            rule="accepted offer",
        )

    def cancel(self, order: str) -> LimitOrder | None:
        """Withdraw a standing offer; the turn stays where it is."""
        for side, standing in list(self._standing.items()):
            if standing.order == order:
                del self._standing[side]
                return standing
        return None

    def close(self, now: int) -> list[Fill]:
        """End the negotiation at its deadline, without a fill (an agreement already ended it).

        Raises:
            MarketError: before the deadline while it is still open.
        """
        if not self.over and now < self.closes_at:
            raise MarketError(f"the negotiation over {self.good} ends at {self.closes_at}")
        self.over, self.to_move = True, None
        self._standing.clear()
        return []

    def resting(self) -> list[LimitOrder]:
        """The standing offers, the buyer's first."""
        return [self._standing[s] for s in ("buy", "sell") if s in self._standing]

    def view(self) -> VenueView:
        """Both standing offers (each party sees the other's) and whose turn it is."""
        bid, ask = self._standing.get("buy"), self._standing.get("sell")
        return VenueView(
            self.kind,
            None if bid is None else bid.price_fen,
            None if ask is None else ask.price_fen,
            self.last_price_fen,
            self.closes_at,
            self.to_move,
        )


def _meets(order: LimitOrder, standing: LimitOrder) -> bool:
    if order.side == "buy":
        return order.price_fen >= standing.price_fen
    return order.price_fen <= standing.price_fen


@register_mechanism("negotiation")
@dataclass(frozen=True)
class Negotiation:
    """Alternating offers between a buyer and the seller, one round every ``round_days``, to
    a deadline ``deadline_days`` after the buyer opens the negotiation.

    The quote is the seller's opening (list) price: its strategy's proposal, clipped to the
    posted-price bounds (:func:`~marketplace.pricing.posted.clip_proposal`).

    Attributes:
        deadline_days: how long a negotiation may last.
        round_days: the time between one party's offer and the other's reply.
        floor_bp: the lowest list price, as a multiple of unit cost in basis points.
        cap_bp: the highest.
    """

    kind: ClassVar[MechanismKind] = "bilateral"
    name: ClassVar[str] = "negotiation"
    deadline_days: Period = 7.0
    round_days: Period = 1.0
    floor_bp: BoundBp = 10_000
    cap_bp: BoundBp = 100_000

    def __post_init__(self) -> None:
        check_bounds("negotiation", self.floor_bp, self.cap_bp)
        if not 0 < self.round_days <= self.deadline_days:
            raise MarketError(
                f"negotiation needs 0 < round_days <= deadline_days, got {self.round_days}, "
                f"{self.deadline_days}"
            )

    @property
    def deadline_s(self) -> int:
        return seconds(self.deadline_days)

    @property
    def round_s(self) -> int:
        return seconds(self.round_days)

    @property
    def rounds(self) -> int:
        """How many offers fit before the deadline (the first one included)."""
        return self.deadline_s // self.round_s + 1

    def quote(self, context: PricingContext) -> Quote:
        return clip_proposal(context, self.floor_bp, self.cap_bp, "list price by provider strategy")

    def open_venue(self, good: str, opened_at: int) -> NegotiationVenue:
        return NegotiationVenue(good, opened_at + self.deadline_s)
