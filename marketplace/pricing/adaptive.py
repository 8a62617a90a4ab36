"""Adaptive posted price: learn the revenue-maximising price online, by multiplicative weights.

The marketplace of A. Agarwal, M. Dahleh & T. Sarkar ("A Marketplace for Data: An Algorithmic
Solution", ACM EC 2019) sets the price of data online with the Multiplicative Weights
algorithm over a finite grid of prices, treating each price as an expert and the buyers'
bids as the feedback, and shows that the resulting posted price has vanishing regret
against the best fixed price in hindsight. The algorithm is Hedge (S. Arora, E. Hazan & S.
Kale, "The Multiplicative Weights Update Method: a Meta-Algorithm and Applications", Theory
of Computing 8(6), 2012, §2.1; Y. Freund & R. E. Schapire, JCSS 55(1), 1997):

- each grid price ``p_i`` has a weight ``w_i``; the posted price is drawn with probability
  ``w_i / Σ w`` (from a uniform number in the quote's context: the mechanism owns no RNG);
- after a round the venue has seen buy limits ``b`` (``PostedVenue.bids_seen``: refused bids
  are information too). Full information: price ``p`` would have earned ``p`` from every bid
  ``b ≥ p``, so every expert learns, not only the one played. Its gain is that revenue per
  bid, scaled by the top price into [0, 1] (so a busy round does not swamp the others), and
  ``w_i ← w_i · exp(η g_i)``;
- with ``η = √(8 ln N / T)`` for N prices and T rounds, the expected regret against the best
  fixed grid price is at most ``√(T ln N / 2)`` in these units (N. Cesa-Bianchi & G. Lugosi,
  *Prediction, Learning, and Games*, Cambridge University Press, 2006, Theorem 2.2), i.e.
  ``√(T ln N / 2) · max price`` fen when each round has one buyer.

The grid is geometric between the exchange's bounds (cost × ``floor_bp`` to cost × ``cap_bp``):
a price's relative error is what matters, as in R. Kleinberg & T. Leighton's posted-price
analysis ("The Value of Knowing a Demand Curve", FOCS 2003). :func:`regret` recomputes, from
the bids and the prices a run's ledger recorded, how much the posted prices lost against the
best fixed grid price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, ClassVar

from pydantic import Field

from marketplace.errors import MarketError
from marketplace.money import apply_bp
from marketplace.pricing.posted import BoundBp, check_bounds
from marketplace.pricing.posted_venue import PostedVenue
from marketplace.pricing.protocol import (
    MechanismKind,
    PricingContext,
    Quote,
    register_mechanism,
)

__all__ = [
    "AdaptivePosted",
    "Hedge",
    "geometric_grid",
    "learning_rate",
    "regret",
    "regret_bound",
    "revenue",
]


def revenue(price_fen: int, bids: Sequence[int]) -> int:
    """What posting ``price_fen`` would have earned from ``bids``: the price from each bid that
    reaches it."""
    return price_fen * sum(1 for b in bids if b >= price_fen)


def regret(
    bids_by_round: Sequence[Sequence[int]], prices_chosen: Sequence[int], grid: Sequence[int]
) -> int:
    """Revenue of the best fixed grid price in hindsight minus that of the prices posted, in fen.

    Raises:
        MarketError: the rounds and the prices do not pair up, or the grid is empty.
    """
    if len(bids_by_round) != len(prices_chosen):
        raise MarketError(
            f"regret needs one posted price per round: {len(bids_by_round)} rounds, "
            f"{len(prices_chosen)} prices"
        )
    if not grid:
        raise MarketError("regret needs a non-empty price grid")
    earned = sum(revenue(p, bids) for p, bids in zip(prices_chosen, bids_by_round, strict=True))
    best = max(sum(revenue(p, bids) for bids in bids_by_round) for p in grid)
    return best - earned


def learning_rate(prices: int, rounds: int) -> float:
    """``η = √(8 ln N / T)``, the rate that minimises Hedge's regret bound over T rounds."""
    return math.sqrt(8 * math.log(max(prices, 2)) / max(rounds, 1))


def regret_bound(prices: int, rounds: int, max_price_fen: int) -> float:
    """``√(T ln N / 2) · max price``: Hedge's bound on expected regret, in fen, with one buyer
    per round (Cesa-Bianchi & Lugosi 2006, Theorem 2.2)."""
    return math.sqrt(rounds * math.log(prices) / 2) * max_price_fen


def geometric_grid(low_fen: int, high_fen: int, points: int) -> tuple[int, ...]:
    """``points`` prices from ``low`` to ``high`` in equal ratios, rounded to whole fen;
    duplicates (a narrow range in few fen) kept once."""
    low, high = max(1, low_fen), max(1, low_fen, high_fen)
    if points == 1 or low == high:
        return (low,)
    ratio = high / low
    prices = {low, high} | {round(low * ratio ** (i / (points - 1))) for i in range(points)}
    return tuple(sorted(prices))


@dataclass
class Hedge:
    """Multiplicative weights over ``grid``, kept as log-weights so that no weight overflows."""

    grid: tuple[int, ...]
    eta: float
    log_weights: list[float] = field(default_factory=list)
    rounds: int = 0

    def __post_init__(self) -> None:
        if not self.grid:
            raise MarketError("Hedge needs at least one price")
        if not self.log_weights:
            self.log_weights = [0.0] * len(self.grid)

    def probabilities(self) -> tuple[float, ...]:
        top = max(self.log_weights)
        weights = [math.exp(w - top) for w in self.log_weights]
        total = math.fsum(weights)
        return tuple(w / total for w in weights)

    def update(self, bids: Sequence[int]) -> None:
        """One round of full-information feedback; a round without bids teaches nothing."""
        if not bids:
            return
        scale = max(self.grid) * len(bids)
        for i, price in enumerate(self.grid):
            self.log_weights[i] += self.eta * revenue(price, bids) / scale
        self.rounds += 1

    def draw(self, u: float) -> int:
        """The grid price at uniform ``u`` in [0, 1) of the weights' cumulative distribution."""
        cumulative = 0.0
        for price, probability in zip(self.grid, self.probabilities(), strict=True):
            cumulative += probability
            if u < cumulative:
                return price
        return self.grid[-1]  # u within rounding of 1


@register_mechanism("adaptive-posted")
@dataclass(frozen=True)
class AdaptivePosted:
    """A posted price drawn from Hedge's weights, one learner per listing.

    The mechanism learns from the venues it opened: at each quote it takes the bids that
    listing's venue saw since the last quote (and empties ``bids_seen``), updates the weights,
    and draws the next price with ``context.draw``. The strategy's proposal is ignored.

    Attributes:
        points: the number of grid prices N.
        floor_bp: the lowest grid price, as a multiple of unit cost in basis points.
        cap_bp: the highest.
        horizon: T, the number of rounds the learning rate is tuned for.
        eta: the learning rate; None for ``√(8 ln N / T)``.
    """

    kind: ClassVar[MechanismKind] = "posted"
    name: ClassVar[str] = "adaptive-posted"
    points: Annotated[int, Field(ge=1, le=1_000)] = 9
    floor_bp: BoundBp = 10_000
    cap_bp: BoundBp = 50_000
    horizon: Annotated[int, Field(ge=1, le=10_000_000)] = 100
    eta: Annotated[float, Field(gt=0, le=100)] | None = None
    _learners: dict[str, Hedge] = field(default_factory=dict, init=False, repr=False, compare=False)
    _venues: dict[str, PostedVenue] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        check_bounds("adaptive posted price", self.floor_bp, self.cap_bp)
        if self.points < 1 or self.horizon < 1:
            raise MarketError("adaptive posted price needs points >= 1 and horizon >= 1")

    def learner(self, context: PricingContext) -> Hedge:
        """The listing's learner, its grid fixed by the unit cost at the first quote."""
        if context.listing not in self._learners:
            cost = context.unit_cost_fen
            grid = geometric_grid(
                apply_bp(cost, self.floor_bp), apply_bp(cost, self.cap_bp), self.points
            )
            eta = self.eta if self.eta is not None else learning_rate(len(grid), self.horizon)
            self._learners[context.listing] = Hedge(grid, eta)
        return self._learners[context.listing]

    def quote(self, context: PricingContext) -> Quote:
        learner = self.learner(context)
        venue = self._venues.get(context.listing)
        if venue is not None:
            learner.update(venue.bids_seen)
            venue.bids_seen.clear()
        price = learner.draw(context.draw)
        chance = learner.probabilities()[learner.grid.index(price)]
        return Quote(
            price,
            f"Hedge over {len(learner.grid)} prices after {learner.rounds} rounds: "
            f"drew {price} (probability {chance:.3f})",
            grid=tuple(learner.grid),
        )

    def open_venue(self, good: str, opened_at: int) -> PostedVenue:
        venue = PostedVenue(good)
        self._venues[good] = venue
        return venue
