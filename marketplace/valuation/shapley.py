"""The Shapley value of a cooperative game, exactly or by sampling permutations.

A game here is a set of ``players`` (numbered 0..n-1) and a worth for every coalition, asked
for many coalitions at once: a coalition is a bitmask (bit ``i`` set: player ``i`` is in it),
and :meth:`Game.worth` takes an array of masks and returns an array of worths. Asking in bulk
is what makes exact values over a dozen players cheap when each worth is a model fit (see
:mod:`marketplace.valuation.task`, which fits every coalition of one size in one batched
solve).

The Shapley value of player ``i`` is its marginal contribution averaged over coalitions,
weighted by how many orders of arrival put exactly that coalition before it:

    φᵢ = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S))

(Shapley, "A Value for n-Person Games", Contributions to the Theory of Games II, Annals of
Mathematics Studies 28, 1953, §3; in the data-market setting, Agarwal, Dahleh & Sarkar, "A
Marketplace for Data: An Algorithmic Solution", ACM EC 2019, Theorem 3.1, eq. (2)). It is the
one allocation with balance (efficiency), symmetry, the null ("zero element") player and
additivity (their Property 3.3). :func:`exact_shapley` enumerates all 2ⁿ coalitions;
:func:`sampled_shapley` averages marginal contributions over permutations drawn uniformly,
which is unbiased for every player at once (Castro, Gómez & Tejada, "Polynomial calculation of
the Shapley value based on sampling", Computers & Operations Research 36(5), 2009, §3;
Agarwal et al. §4.3.1, Algorithm 2, draw permutations per player instead and bound the error
in their Theorem 5.3: K > n·log(2/δ)/(2ε²) permutations give max-error < ε with probability
1 − δ for worths in [0, 1]).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_EXACT_PLAYERS",
    "MAX_PLAYERS",
    "Coalitions",
    "Game",
    "Worths",
    "coalition_sizes",
    "exact_shapley",
    "grand_worth",
    "members",
    "sampled_shapley",
    "sampling_error",
]

Coalitions = npt.NDArray[np.int64]  # bitmasks: bit i set means player i is in the coalition
Worths = npt.NDArray[np.float64]

#: Masks are int64: at most 62 players (bit 63 is the sign).
MAX_PLAYERS = 62
#: 2²² coalitions is 4 M worths (32 MB) and minutes of model fits: beyond it, sample.
MAX_EXACT_PLAYERS = 22


class Game(Protocol):
    """A cooperative game with transferable utility, its worths asked for in bulk."""

    @property
    def players(self) -> int:
        """How many players (at most :data:`MAX_PLAYERS`)."""
        ...

    def worth(self, coalitions: Coalitions) -> Worths:
        """v(S) for each mask S; the empty coalition's worth is whatever the game says."""
        ...


def coalition_sizes(coalitions: Coalitions) -> npt.NDArray[np.int64]:
    """How many players each mask holds (a vectorised popcount)."""
    sizes = np.zeros(coalitions.shape, dtype=np.int64)
    rest = coalitions.copy()
    while np.any(rest):
        sizes += rest & 1
        rest >>= 1
    return sizes


def members(coalitions: Coalitions, size: int, players: int) -> npt.NDArray[np.int64]:
    """The players of masks that all hold ``size`` players, as rows of ascending indices."""
    bits = (coalitions[:, None] >> np.arange(players, dtype=np.int64)) & 1
    # A stable sort of "not in" puts each row's members first, in index order.
    order = np.argsort(1 - bits, axis=1, kind="stable")
    return order[:, :size].astype(np.int64)


def _check_players(n: int, most: int) -> None:
    if not 1 <= n <= most:
        raise ValueError(f"a game of {n} players: allowed 1..{most}")


def grand_worth(game: Game) -> float:
    """v(N), the worth of all players together: what balance divides."""
    return float(game.worth(np.array([(1 << game.players) - 1], dtype=np.int64))[0])


def exact_shapley(game: Game) -> Worths:
    """Every player's Shapley value by enumerating all 2ⁿ coalitions (eq. (2) of Agarwal et
    al., Theorem 3.1). The worths are asked for once, in one call."""
    n = game.players
    _check_players(n, MAX_EXACT_PLAYERS)
    masks = np.arange(1 << n, dtype=np.int64)
    worth = np.asarray(game.worth(masks), dtype=np.float64)
    sizes = coalition_sizes(masks)
    # weight[s] = s! (n - s - 1)! / n!, in logs so that n = 22 does not overflow a float
    lgamma = np.vectorize(math.lgamma)
    s = np.arange(n, dtype=np.float64)
    weight = np.exp(lgamma(s + 1) + lgamma(n - s) - math.lgamma(n + 1))
    values = np.empty(n, dtype=np.float64)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        gains = worth[without | (1 << i)] - worth[without]
        values[i] = float(np.sum(weight[sizes[without]] * gains))
    return values


def sampling_error(players: int, permutations: int, delta: float) -> float:
    """The ε of Agarwal et al.'s Theorem 5.3 for a sample of ``permutations``: solving their
    K > n·log(2/δ)/(2ε²) for ε, every sampled value is within ε of the exact one with
    probability 1 − δ (for worths in [0, 1], as a clipped R² is)."""
    if permutations < 1 or not 0 < delta < 1:
        raise ValueError("permutations must be at least 1 and delta in (0, 1)")
    return math.sqrt(players * math.log(2 / delta) / (2 * permutations))


def sampled_shapley(game: Game, permutations: int, rng: np.random.Generator) -> Worths:
    """Shapley values estimated from ``permutations`` orders of arrival drawn uniformly: each
    order gives every player its marginal contribution to those before it, and the estimate is
    their mean (Castro, Gómez & Tejada 2009, §3). The prefixes of all orders are valued in one
    call, each distinct coalition once, so small games cost no more than exact values."""
    n = game.players
    _check_players(n, MAX_PLAYERS)
    if permutations < 1:
        raise ValueError(f"permutations = {permutations}: allowed at least 1")
    orders = rng.permuted(np.tile(np.arange(n, dtype=np.int64), (permutations, 1)), axis=1)
    bits = np.left_shift(np.int64(1), orders)
    after = np.cumsum(bits, axis=1)  # distinct bits: the running sum is the running union
    before = after - bits
    distinct, where = np.unique(np.concatenate([before, after], axis=None), return_inverse=True)
    worth = np.asarray(game.worth(distinct), dtype=np.float64)[where].reshape(2, *orders.shape)
    gains = worth[1] - worth[0]
    totals = np.zeros(n, dtype=np.float64)
    np.add.at(totals, orders.ravel(), gains.ravel())
    return totals / permutations
