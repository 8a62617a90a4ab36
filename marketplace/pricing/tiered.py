"""Tiered (versioned) pricing: the full data at the top price, noisier versions for less.

A. Agarwal, M. Dahleh & T. Sarkar, "A Marketplace for Data: An Algorithmic Solution", ACM EC
2019 (arXiv 1805.08125): because data is freely replicable, the marketplace sells a buyer who
will not pay the full price a *degraded* copy of the same features, the features with noise
added, so that a lower price buys lower prediction quality (their allocation function). C.
Shapiro & H. R. Varian, "Versioning: The Smart Way to Sell Information", Harvard Business
Review 76(6), 1998, give the economics: a menu of versions lets buyers who value quality
differently sort themselves, each to the version it prefers.

Version ``k`` here is the data with independent noise of variance ``noise_var_bp[k] / 10 000``
times the data's own variance (version 0 has none). The share of the signal that survives is
the *reliability ratio* ``κ_k = 1 / (1 + noise_k)`` (W. A. Fuller, *Measurement Error Models*,
Wiley, 1987, §1.1: with classical measurement error a regression on the noisy feature keeps
κ of the explained variance), so version k's quality is ``κ_k`` times the full data's. Its
price is the top price times ``κ_k^γ``: with γ > 1 quality gets cheaper faster than it loses
value to a buyer whose value is proportional to quality, so low-value buyers buy low versions
instead of nothing, and high-value buyers still prefer the top (:func:`choose_version`). All
of it in exact fractions: prices are whole fen, rounded half up.

:class:`TieredVenue` posts one ask per version (the seller submits a sell order per version,
``LimitOrder.version``, at the menu's prices); a buy order for version k fills at once at
version k's ask if its limit reaches it, and is refused otherwise, as at a posted venue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from typing import Annotated, ClassVar

from pydantic import Field

from marketplace.errors import MarketError
from marketplace.money import apply_bp
from marketplace.pricing.posted import BoundBp, check_bounds, clip_proposal
from marketplace.pricing.posted_venue import take_posted_ask
from marketplace.pricing.protocol import (
    Fill,
    LimitOrder,
    MechanismKind,
    PricingContext,
    Quote,
    VenueView,
    register_mechanism,
)

__all__ = ["Tiered", "TieredVenue", "Version", "choose_version"]


@dataclass(frozen=True, slots=True)
class Version:
    """One line of the menu: ``version`` at ``quality_pct`` (absolute, 0-100) for ``price_fen``."""

    version: int
    quality_pct: int
    price_fen: int


def _half_up(amount: Fraction) -> int:
    return int(amount + Fraction(1, 2)) if amount >= 0 else -int(-amount + Fraction(1, 2))


def choose_version(value_fen: int, menu: tuple[tuple[int, int], ...]) -> int | None:
    """The version a buyer worth ``value_fen`` for the full data buys from a venue's ``menu``
    (``VenueView.menu``): the largest surplus ``value × quality/100 − price`` if positive, ties
    to the better version; None if no version is worth its price."""
    best: tuple[Fraction, int] | None = None
    for version, (quality_pct, price_fen) in enumerate(menu):
        surplus = Fraction(value_fen * quality_pct, 100) - price_fen
        if surplus > 0 and (best is None or surplus > best[0]):
            best = (surplus, version)
    return None if best is None else best[1]


@dataclass
class TieredVenue:
    """One listing's versions, each a posted price; ``qualities`` are each version's quality
    as a percent of the full data's (version 0: 100)."""

    good: str
    qualities: tuple[int, ...]
    kind: MechanismKind = "posted"
    last_price_fen: int | None = None
    asks: dict[int, LimitOrder] = field(default_factory=dict)
    bids_seen: list[tuple[int, int]] = field(default_factory=list)

    def submit(self, order: LimitOrder) -> list[Fill]:
        """Post a version's ask, or fill a buy order at its version's ask (see the module).

        Raises:
            MarketError: a version the menu does not have, or an ask of limited quantity.
        """
        if order.version >= len(self.qualities):
            raise MarketError(
                f"order {order.order}: {self.good} has versions 0-{len(self.qualities) - 1}, "
                f"not {order.version}"
            )
        if order.side == "sell":
            if order.quantity is not None:
                raise MarketError(f"tiered ask {order.order} must be unlimited")
            self.asks[order.version] = order
            return []
        self.bids_seen.append((order.version, order.price_fen))
        ask = self.asks.get(order.version)
        fills = take_posted_ask(order, ask, f"posted ask, version {order.version}", order.version)
        if fills:
            self.last_price_fen = fills[0].price_fen
        return fills

    def cancel(self, order: str) -> LimitOrder | None:
        for version, ask in list(self.asks.items()):
            if ask.order == order:
                return self.asks.pop(version)
        return None

    def close(self, now: int) -> list[Fill]:
        """Posted prices have no close."""
        return []

    def resting(self) -> list[LimitOrder]:
        """The asks, version 0 first."""
        return [self.asks[v] for v in sorted(self.asks)]

    def view(self) -> VenueView:
        """Version 0's ask as the best ask, and the menu of versions that have an ask (a
        version without one stops the menu, so position k is always version k)."""
        menu: list[tuple[int, int]] = []
        for version, quality in enumerate(self.qualities):
            if version not in self.asks:
                break
            menu.append((quality, self.asks[version].price_fen))
        top = self.asks.get(0)
        best_ask = None if top is None else top.price_fen
        return VenueView(self.kind, None, best_ask, self.last_price_fen, None, menu=tuple(menu))


@register_mechanism("tiered")
@dataclass(frozen=True)
class Tiered:
    """Versions of a listing at prices falling with their quality (see the module docstring).

    The quote is the top version's price: the strategy's proposal clipped to the posted-price
    bounds. :meth:`menu` prices every version; none below the floor (cost × ``floor_bp``).

    Attributes:
        noise_var_bp: each version's noise variance relative to the data's, in basis points;
            version 0 first, at 0, strictly increasing.
        gamma: the price exponent γ (price ∝ reliability^γ).
        floor_bp: the lowest price of any version, as a multiple of unit cost.
        cap_bp: the highest price of the top version.
    """

    kind: ClassVar[MechanismKind] = "posted"
    name: ClassVar[str] = "tiered"
    noise_var_bp: Sequence[Annotated[int, Field(ge=0, le=10_000_000)]] = (0, 2_500, 10_000)
    gamma: Annotated[int, Field(ge=1, le=4)] = 2
    floor_bp: BoundBp = 10_000
    cap_bp: BoundBp = 100_000

    def __post_init__(self) -> None:
        check_bounds("tiered pricing", self.floor_bp, self.cap_bp)
        noise = tuple(self.noise_var_bp)  # a scenario's list, kept as a tuple: frozen is frozen
        object.__setattr__(self, "noise_var_bp", noise)
        if not noise or noise[0] != 0 or any(b <= a for a, b in pairwise(noise)):
            raise MarketError(
                f"tiered noise_var_bp must start at 0 and increase strictly, got {list(noise)}"
            )
        if not 1 <= self.gamma <= 4:
            raise MarketError(f"tiered gamma must be within 1..4, got {self.gamma}")

    def reliability(self, version: int) -> Fraction:
        """κ_k = 1 / (1 + σ_k²): the share of the signal version ``version`` keeps."""
        return Fraction(10_000, 10_000 + self.noise_var_bp[version])

    def qualities(self) -> tuple[int, ...]:
        """Each version's quality as a percent of the full data's, rounded half up."""
        return tuple(_half_up(100 * self.reliability(k)) for k in range(len(self.noise_var_bp)))

    def menu(self, context: PricingContext) -> tuple[Version, ...]:
        """Every version at its quality (absolute, from the listing's) and price."""
        top = self.quote(context).price_fen
        floor = max(1, apply_bp(context.unit_cost_fen, self.floor_bp))
        return tuple(
            Version(
                k,
                _half_up(context.quality_pct * self.reliability(k)),
                max(floor, _half_up(top * self.reliability(k) ** self.gamma)) if k else top,
            )
            for k in range(len(self.noise_var_bp))
        )

    def quote(self, context: PricingContext) -> Quote:
        return clip_proposal(
            context, self.floor_bp, self.cap_bp, "top version by provider strategy"
        )

    def open_venue(self, good: str, opened_at: int) -> TieredVenue:
        return TieredVenue(good, self.qualities())
