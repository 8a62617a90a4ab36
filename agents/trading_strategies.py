"""Traders' strategies at a venue: what price to submit, given what the trader sees.

A trading strategy is pure: ``decide(seen: TradeObservation) -> int | None`` (a limit price in
fen to submit, or None to do nothing) and ``observe(event: MarketEvent)`` (the shouts and
trades of the market, which learning strategies learn from; the others forget them). Any
randomness arrives as uniform numbers in the observation (``draw``, ``draw2``) and the event,
drawn by the trader from its own stream, so a strategy never owns a random generator.

Learning strategies keep state per trader (a ZIP trader's margin): ``make_strategy`` returns a
fresh object each call, and each participant makes its own.

Sources, one per strategy below: Gode & Sunder (1993) for ``zi-u`` and ``zi-c``; Cliff (1997)
for ``zip``; Vickrey (1961) for ``truthful``; shading as in first-price bidding; the posted
price of Chawla et al. (2010) for ``price-taker``; Faratin, Sierra & Jennings (1998) for
``faratin``; ``by-venue`` picks the one of these each kind of venue calls for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from pydantic import Field

from agents.strategies import BasisPoints, register
from marketplace.money import apply_bp
from marketplace.pricing import Side, VenueView

__all__ = [
    "ByVenue",
    "Faratin",
    "MarketEvent",
    "PriceTaker",
    "Shading",
    "TradeObservation",
    "TradingStrategy",
    "Truthful",
    "ZeroIntelligenceConstrained",
    "ZeroIntelligenceUnconstrained",
    "Zip",
]

Unit = Annotated[float, Field(ge=0, le=1)]


@dataclass(frozen=True, slots=True)
class TradeObservation:
    """What a trader sees when deciding on a price.

    Attributes:
        side: ``buy`` or ``sell``.
        limit_fen: the trader's private limit: its value (a buyer) or its unit cost (a seller).
        venue: the public view of the venue.
        floor_fen: the lowest price the exchange accepts (ZI traders draw from here).
        ceiling_fen: the highest.
        draw: a uniform number in [0, 1) from the trader's stream.
        draw2: a second, independent one.
        own_fen: the trader's own standing order's price, if one rests.
        counterpart_fen: the other side's standing offer (a negotiation's last counter-offer).
        elapsed_s: sim seconds since the trader started on this good.
        deadline_s: how long it has in all (None: no deadline).
        quote_fen: the mechanism's quote for a seller (its posted, list or reserve price).
    """

    side: Side
    limit_fen: int
    venue: VenueView
    floor_fen: int
    ceiling_fen: int
    draw: float
    draw2: float
    own_fen: int | None = None
    counterpart_fen: int | None = None
    elapsed_s: int = 0
    deadline_s: int | None = None
    quote_fen: int | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.draw < 1 and 0 <= self.draw2 < 1):
            raise ValueError(f"draws must lie in [0, 1), got {self.draw}, {self.draw2}")
        if not 1 <= self.floor_fen <= self.ceiling_fen:
            raise ValueError(
                f"need 1 <= floor_fen <= ceiling_fen: {self.floor_fen}, {self.ceiling_fen}"
            )
        if self.limit_fen < 0:
            raise ValueError(f"limit_fen must be >= 0, got {self.limit_fen}")


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """A shout in the market: a bid or ask at ``price_fen``, and whether it traded; ``draw``
    and ``draw2`` are uniform numbers for a learner's random perturbations."""

    price_fen: int
    side: Side
    traded: bool
    draw: float = 0.5
    draw2: float = 0.5


class TradingStrategy(Protocol):
    def decide(self, seen: TradeObservation) -> int | None: ...

    def observe(self, event: MarketEvent) -> None: ...


class _Memoryless:
    """For strategies that decide from the observation alone: events change nothing."""

    def observe(self, event: MarketEvent) -> None:
        return None


def uniform_fen(low: int, high: int, draw: float) -> int:
    """An integer uniform on ``[low, high]`` from a uniform ``draw`` in [0, 1)."""
    return low + min(int(draw * (high - low + 1)), high - low)


@register("trading", "zi-u")
@dataclass(frozen=True)
class ZeroIntelligenceUnconstrained(_Memoryless):
    """ZI-U: a price uniform on [floor, ceiling], whatever the trader's limit, so it may trade
    at a loss (D. K. Gode & S. Sunder, "Allocative Efficiency of Markets with Zero-Intelligence
    Traders: Market as a Partial Substitute for Individual Rationality", Journal of Political
    Economy 101(1), 1993: the unconstrained traders, the control for the constrained ones)."""

    def decide(self, seen: TradeObservation) -> int | None:
        return uniform_fen(seen.floor_fen, seen.ceiling_fen, seen.draw)


@register("trading", "zi-c")
@dataclass(frozen=True)
class ZeroIntelligenceConstrained(_Memoryless):
    """ZI-C: uniform but never at a loss; a buyer on [floor, value], a seller on [cost,
    ceiling] (Gode & Sunder 1993: the budget constraint is their only intelligence). None
    when the range is empty (a value below the floor, a cost above the ceiling)."""

    def decide(self, seen: TradeObservation) -> int | None:
        if seen.side == "buy":
            top = min(seen.limit_fen, seen.ceiling_fen)
            return None if top < seen.floor_fen else uniform_fen(seen.floor_fen, top, seen.draw)
        bottom = max(seen.limit_fen, seen.floor_fen)
        return (
            None if bottom > seen.ceiling_fen else uniform_fen(bottom, seen.ceiling_fen, seen.draw)
        )


@register("trading", "truthful")
@dataclass(frozen=True)
class Truthful(_Memoryless):
    """Bid one's value, ask one's cost: the dominant strategy in a second-price auction (W.
    Vickrey, "Counterspeculation, Auctions, and Competitive Sealed Tenders", Journal of
    Finance 16(1), 1961), and the benchmark that reveals the supply and demand curves."""

    def decide(self, seen: TradeObservation) -> int | None:
        if seen.side == "buy":
            return seen.limit_fen if seen.limit_fen >= 1 else None
        return max(1, seen.limit_fen)


@register("trading", "shading")
@dataclass(frozen=True)
class Shading(_Memoryless):
    """Bid ``value × (1 − shade_bp / 10 000)``, ask ``cost × (1 + markup_bp / 10 000)``.

    A buyer keeps a margin below its value, as in first-price and double auctions where the
    bid is the price paid (the linear equilibrium bid of a first-price auction with n uniform
    bidders shades by 1/n: Vickrey 1961); a seller marks its cost up likewise.
    """

    shade_bp: Annotated[int, Field(ge=0, le=10_000)] = 1_000
    markup_bp: BasisPoints = 1_000

    def decide(self, seen: TradeObservation) -> int | None:
        if seen.side == "buy":
            bid = seen.limit_fen - apply_bp(seen.limit_fen, self.shade_bp)
            return bid if bid >= 1 else None
        return max(1, seen.limit_fen + apply_bp(seen.limit_fen, self.markup_bp))


@register("trading", "price-taker")
@dataclass(frozen=True)
class PriceTaker(_Memoryless):
    """Take the market's price or nothing: a buyer bids the standing ask if it is worth it
    (posted pricing's take-it-or-leave-it buyer: S. Chawla, J. Hartline, D. Malec & B. Sivan,
    "Multi-parameter Mechanism Design and Sequential Posted Pricing", STOC 2010); a seller
    asks the mechanism's quote unless it is below its cost."""

    def decide(self, seen: TradeObservation) -> int | None:
        if seen.side == "buy":
            ask = seen.venue.best_ask_fen
            return ask if ask is not None and ask <= seen.limit_fen else None
        quote = seen.quote_fen
        return quote if quote is not None and quote >= seen.limit_fen else None


@register("trading", "faratin")
@dataclass(frozen=True)
class Faratin(_Memoryless):
    """Time-dependent negotiation tactics (P. Faratin, C. Sierra & N. R. Jennings, "Negotiation
    Decision Functions for Autonomous Agents", Robotics and Autonomous Systems 24(3-4), 1998:
    the time-dependent tactics).

    At time ``t`` of ``T`` the trader offers ``min + α(t)(max − min)`` (a buyer, conceding
    upward from the floor to its value) or ``min + (1 − α(t))(max − min)`` (a seller, conceding
    downward from its quote, or the ceiling, to its cost), with
    ``α(t) = κ + (1 − κ)(t / T)^{1/β}``: β < 1 is Boulware (holds out until near the deadline),
    β > 1 Conceder, β = 1 linear. It accepts, by returning the counterpart's price, when the
    counterpart's offer is at least as good as the offer it would make now (the paper's
    acceptance rule, the next offer being the one due now). Without a deadline it keeps to its
    opening offer.
    """

    beta: Annotated[float, Field(gt=0, le=100)] = 1.0
    kappa: Annotated[float, Field(ge=0, le=1)] = 0.0

    def __post_init__(self) -> None:
        if not (self.beta > 0 and 0 <= self.kappa <= 1):
            raise ValueError(f"faratin needs beta > 0, 0 <= kappa <= 1: {self.beta}, {self.kappa}")

    def alpha(self, elapsed_s: int, deadline_s: int | None) -> float:
        """How far the trader has conceded, 0 (its opening) to 1 (its reservation price)."""
        if deadline_s is None or deadline_s <= 0:
            return self.kappa
        progress = min(1.0, max(0.0, elapsed_s / deadline_s))
        return self.kappa + (1 - self.kappa) * math.pow(progress, 1 / self.beta)

    def decide(self, seen: TradeObservation) -> int | None:
        alpha = self.alpha(seen.elapsed_s, seen.deadline_s)
        other = seen.counterpart_fen
        if seen.side == "buy":
            top = min(seen.limit_fen, seen.ceiling_fen)
            if top < seen.floor_fen:
                return None
            offer = seen.floor_fen + math.floor(alpha * (top - seen.floor_fen))
            return other if other is not None and other <= offer else offer
        bottom = max(seen.limit_fen, seen.floor_fen)
        start = max(bottom, seen.ceiling_fen if seen.quote_fen is None else seen.quote_fen)
        offer = bottom + math.ceil((1 - alpha) * (start - bottom))
        return other if other is not None and other >= offer else offer


@register("trading", "by-venue")
@dataclass(frozen=True)
class ByVenue(_Memoryless):
    """The textbook strategy for each kind of venue, so that one scenario can be run under
    every mechanism by changing only the mechanism: the value as the limit at a posted price
    and in a second-price auction (``truthful``; a posted venue fills at its ask, never the
    limit, and a learning price learns from the values revealed, as buyers bid in Agarwal,
    Dahleh & Sarkar 2019; in a second-price round it is dominant, Vickrey 1961), a shaded bid
    or marked-up ask in an order book (``shading``, where the bid is the price paid), and
    Faratin's time-dependent tactics in a negotiation (``faratin``).
    """

    shade_bp: Annotated[int, Field(ge=0, le=10_000)] = 1_000
    markup_bp: BasisPoints = 1_000
    beta: Annotated[float, Field(gt=0, le=100)] = 1.0
    kappa: Annotated[float, Field(ge=0, le=1)] = 0.0

    def decide(self, seen: TradeObservation) -> int | None:
        kind = seen.venue.kind
        if kind == "order-book":
            return Shading(self.shade_bp, self.markup_bp).decide(seen)
        if kind == "bilateral":
            return Faratin(self.beta, self.kappa).decide(seen)
        return Truthful().decide(seen)  # posted and sealed-bid


@register("trading", "zip")
@dataclass(eq=False)
class Zip:
    """Zero-Intelligence-Plus: a margin over the limit, learned from the market's shouts (D.
    Cliff, "Minimal-Intelligence Agents for Bargaining Behaviors in Market-Based
    Environments", HP Laboratories Technical Report HPL-97-91, 1997; D. Cliff & J. Bruten, "Zero is
    Not Enough: On the Lower Limit of Agent Intelligence for Continuous Double Auction Markets",
    HPL-97-141, 1997, which runs ZIP in the continuous double auction).

    The trader shouts ``limit × (1 + μ)`` (a seller's μ ≥ 0, a buyer's μ in [−1, 0], so it never
    trades at a loss). After each shout of price q it moves its price toward a target
    ``τ = R q + A`` by Widrow-Hoff with momentum: ``Δ = β(τ − p)``, ``Γ ← γΓ + (1 − γ)Δ``,
    ``p ← p + Γ``. It raises its margin when it could have got a better price (a trade at q
    beyond its own price), and an *active* trader (one that has not yet traded) lowers it when
    it is being undercut (a trade or an unaccepted shout of its own side on the wrong side of
    its price). R is uniform on [1, 1 + c_R] toward a higher price and on [1 − c_R, 1] toward a
    lower one, A on [0, c_A] or [−c_A, 0], drawn from the event's ``draw`` and ``draw2``.

    Cliff draws each trader's μ₀, β and γ at random; here μ₀ comes from the first
    observation's ``draw`` and β from its ``draw2``, while γ (``momentum``) is a parameter of
    the population, since the observation carries two uniform numbers. Stateful: one object
    per trader (``make_strategy`` returns a fresh one each call). Set ``active = False`` once
    the trader has traded its unit.
    """

    margin_low: Annotated[float, Field(ge=0, le=10)] = 0.05
    margin_high: Annotated[float, Field(ge=0, le=10)] = 0.35
    beta_low: Annotated[float, Field(gt=0, le=1)] = 0.1
    beta_high: Annotated[float, Field(gt=0, le=1)] = 0.5
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.05
    c_r: Annotated[float, Field(ge=0, le=1)] = 0.05
    c_a_fen: Annotated[int, Field(ge=0, le=10**9)] = 5
    side: Side | None = field(default=None, init=False)
    limit: int = field(default=0, init=False)
    margin: float = field(default=0.0, init=False)
    beta: float = field(default=0.0, init=False)
    change: float = field(default=0.0, init=False)
    active: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        if not (self.margin_low <= self.margin_high and self.beta_low <= self.beta_high):
            raise ValueError("zip needs margin_low <= margin_high and beta_low <= beta_high")

    def price(self) -> float:
        """The current shout price ``limit × (1 + μ)`` (a zero cost counts as one fen, so a
        free good still carries a margin)."""
        return max(self.limit, 1) * (1 + self.margin)

    def decide(self, seen: TradeObservation) -> int | None:
        if self.side is None:
            self.side = seen.side
            start = self.margin_low + seen.draw * (self.margin_high - self.margin_low)
            self.margin = start if seen.side == "sell" else -min(start, 1.0)
            self.beta = self.beta_low + seen.draw2 * (self.beta_high - self.beta_low)
        self.limit = seen.limit_fen
        price = round(self.price(), 6)  # so that 100 × 1.05 = 105.00000000000001 asks 105
        if seen.side == "buy":
            bid = min(math.floor(price), seen.limit_fen, seen.ceiling_fen)
            return bid if bid >= seen.floor_fen else None
        ask = max(math.ceil(price), seen.limit_fen, seen.floor_fen)
        return ask if ask <= seen.ceiling_fen else None

    def observe(self, event: MarketEvent) -> None:
        """Cliff's update rules for one shout; nothing before the trader's first
        decision (it has no margin yet)."""
        if self.side is None:
            return
        p, q = self.price(), event.price_fen
        if self.side == "sell":
            if event.traded and p <= q:
                self._toward(q, up=True, draws=event)
            elif self.active and p >= q and (event.traded == (event.side == "buy")):
                self._toward(q, up=False, draws=event)
        elif event.traded and p >= q:
            self._toward(q, up=False, draws=event)
        elif self.active and p <= q and (event.traded == (event.side == "sell")):
            self._toward(q, up=True, draws=event)

    def _toward(self, q: int, *, up: bool, draws: MarketEvent) -> None:
        """Move the price toward ``R q + A``, above q if ``up``, and keep the margin's sign."""
        if up:
            ratio, shift = 1 + draws.draw * self.c_r, draws.draw2 * self.c_a_fen
        else:
            ratio, shift = 1 - draws.draw * self.c_r, -draws.draw2 * self.c_a_fen
        target = ratio * q + shift
        delta = self.beta * (target - self.price())
        self.change = self.momentum * self.change + (1 - self.momentum) * delta
        margin = (self.price() + self.change) / max(self.limit, 1) - 1
        self.margin = max(0.0, margin) if self.side == "sell" else min(0.0, max(-1.0, margin))
