"""The pricing plug-in interface: one shape for every way a price forms.

A mechanism does two things. It **quotes** the seller's side (``quote``: the posted price, the
opening ask, or the reserve of an auction) from a :class:`PricingContext`, and it **opens
venues** (``open_venue``): the place where orders for one good meet and fills come out. Every
way a price forms is a venue that takes limit orders and returns fills:

- *posted* (take it or leave it): the seller's ask stands; a buy order at or above it fills at
  the ask at once, anything else is refused (never rests);
- *sealed-bid*: buy orders are collected unseen until ``closes_at``; ``close`` clears them;
- *order-book*: buy and sell orders rest and cross continuously (price-time priority);
- *bilateral*: two parties alternate offers; an offer that meets the other side's standing
  offer is an acceptance and fills at the standing offer; the venue closes at the deadline.

Venues are pure (no SimPy, no ledger): trading records every order, cancel and fill as a signed
entry and turns each fill into a contract. Mechanisms are registered by name; a scenario names
one (``pricing = "second-price"``) and its parameters, so two mechanisms are compared by
changing one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from marketplace.errors import MarketError, UnknownMechanismError
from marketplace.params import checked_params

__all__ = [
    "MECHANISMS",
    "Fill",
    "LimitOrder",
    "MechanismKind",
    "PricingContext",
    "PricingMechanism",
    "Quote",
    "Side",
    "Venue",
    "VenueView",
    "make_mechanism",
    "register_mechanism",
]

MechanismKind = Literal["posted", "sealed-bid", "order-book", "bilateral"]
Side = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class PricingContext:
    """What a mechanism may look at when quoting one listing's seller side.

    Attributes:
        listing: the listing id.
        unit_cost_fen: what one licence must bring in for the provider to break even: its
            cost of serving it (production share, delivery) grossed up by the exchange's
            supplier fee on the price (:func:`marketplace.money.break_even_fen`).
        proposed_fen: the price the provider's strategy proposes (posted-price mechanisms use
            it; cost-based mechanisms ignore it).
        quality_pct: the dataset's quality score, 0-100.
        reference_fen: the exchange's reference price for comparable data (None before any
            comparable trade).
        sales: licences of this listing sold so far.
        revenue_fen: what they brought in, in total.
        now_s: the simulation time of the quote, in seconds.
        draw: a uniform number in [0, 1) from the provider's own stream, for mechanisms that
            randomise their quote (an adaptive posted price draws from its weights): they
            never own a random generator.
    """

    listing: str
    unit_cost_fen: int
    proposed_fen: int | None
    quality_pct: int
    reference_fen: int | None = None
    sales: int = 0
    revenue_fen: int = 0
    now_s: int = 0
    draw: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.draw < 1:
            raise MarketError(f"pricing {self.listing}: draw must lie in [0, 1), got {self.draw}")


@dataclass(frozen=True, slots=True)
class Quote:
    """The seller's side of a listing: its price, why, and how many units it offers at it
    (None: unlimited licences; an auction of ``k`` exclusive licences offers ``k``)."""

    price_fen: int
    reason: str
    quantity: int | None = None
    #: The prices a learning mechanism chooses among (its grid), so its regret folds from the
    #: ledger; empty for the others.
    grid: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LimitOrder:
    """One order at a venue: buy at most, or sell at least, ``price_fen`` per unit.

    Attributes:
        order: its id, as recorded on the ledger (``trade.order``).
        trader: who placed it.
        side: ``buy`` or ``sell``.
        listing: the good: on the sell side the seller's own listing; on the buy side the
            listing wanted (a venue for a whole category fills it from any seller's listing).
        price_fen: the limit price per unit, > 0.
        quantity: units wanted or offered, > 0; ``None`` on the sell side means unlimited
            (licences of data are non-rival).
        at: when it arrived, in sim seconds (time priority).
        version: which version of the data (0, the default, is the full data; a tiered venue
            sells noisier versions 1, 2, ... at lower prices).
    """

    order: str
    trader: str
    side: Side
    listing: str
    price_fen: int
    quantity: int | None
    at: int
    version: int = 0

    def __post_init__(self) -> None:
        if self.version < 0:
            raise MarketError(f"order {self.order}: version must be >= 0, got {self.version}")
        if self.price_fen <= 0:
            raise MarketError(f"order {self.order}: price must be > 0, got {self.price_fen}")
        if self.quantity is None and self.side == "buy":
            raise MarketError(f"order {self.order}: a buy order needs a quantity")
        if self.quantity is not None and self.quantity <= 0:
            raise MarketError(f"order {self.order}: quantity must be > 0, got {self.quantity}")


@dataclass(frozen=True, slots=True)
class Fill:
    """A match: ``quantity`` units of the seller's ``listing`` to the buyer at ``price_fen``.

    ``rule`` says how the price was set (``"posted ask"``, ``"resting order S0000012"``,
    ``"second price: highest losing bid"``, ``"reserve"``, ``"accepted offer"``), so the ledger
    shows the mechanism's reasoning beside the price. ``version`` is the version of the data
    sold (0: the full data).
    """

    buy: str
    sell: str
    buyer: str
    seller: str
    listing: str
    price_fen: int
    quantity: int
    rule: str
    version: int = 0


@dataclass(frozen=True, slots=True)
class VenueView:
    """What traders may observe of a venue (public information only: a sealed-bid venue shows
    no bids; a bilateral venue shows each side the other's last offer).

    ``to_move`` is whose turn it is at a bilateral venue (None: either side may move, or the
    venue has no turns). ``menu`` lists a tiered venue's versions, version 0 first, as
    ``(quality_pct, price_fen)``: each version's quality as a percent of the full data's, and
    its price (empty at other venues).
    """

    kind: MechanismKind
    best_bid_fen: int | None
    best_ask_fen: int | None
    last_price_fen: int | None
    closes_at: int | None
    to_move: Side | None = None
    menu: tuple[tuple[int, int], ...] = ()


class Venue(Protocol):
    """Where orders for one good meet under one mechanism. Pure and deterministic: the same
    orders in the same order give the same fills."""

    kind: MechanismKind

    def submit(self, order: LimitOrder) -> list[Fill]:
        """Take an order; return the fills it caused at once (possibly none)."""
        ...

    def cancel(self, order: str) -> LimitOrder | None:
        """Withdraw a resting order (what was left of it), or None if it no longer rests."""
        ...

    def close(self, now: int) -> list[Fill]:
        """The venue's end: a sealed-bid auction clears, a negotiation's deadline passes; the
        fills it makes. Orders still resting afterwards are returned by ``resting``."""
        ...

    def resting(self) -> list[LimitOrder]:
        """Orders still resting, in priority order."""
        ...

    def view(self) -> VenueView: ...


class PricingMechanism(Protocol):
    """A way prices form: quote the seller's side, open venues where orders meet."""

    name: ClassVar[str]
    kind: ClassVar[MechanismKind]

    def quote(self, context: PricingContext) -> Quote:
        """The seller's side: posted price, opening ask, or auction reserve."""
        ...

    def open_venue(self, good: str, opened_at: int) -> Venue:
        """A fresh venue for ``good`` (a listing, or a category for a shared book)."""
        ...


M = TypeVar("M", bound=type)
MECHANISMS: dict[str, Callable[..., PricingMechanism]] = {}


def register_mechanism(name: str) -> Callable[[M], M]:
    """Class decorator: make a mechanism available to scenarios under ``name``."""

    def add(cls: M) -> M:
        if name in MECHANISMS:
            raise MarketError(f"pricing mechanism {name!r} is registered twice")
        MECHANISMS[name] = cls
        return cls

    return add


def make_mechanism(name: str, params: dict[str, Any] | None = None) -> PricingMechanism:
    try:
        factory = MECHANISMS[name]
    except KeyError:
        allowed = ", ".join(sorted(MECHANISMS))
        raise UnknownMechanismError(
            f"unknown pricing mechanism {name!r}; allowed: {allowed}"
        ) from None
    try:
        checked = checked_params(f"pricing mechanism {name!r}", factory, params or {})
        return factory(**checked)
    except (TypeError, ValueError) as exc:
        raise MarketError(str(exc)) from None
