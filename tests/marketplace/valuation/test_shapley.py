"""Shapley values: a game worked by hand, the four axioms on any game, and sampling that
converges to the exact values and always adds up."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.valuation import exact_shapley, grand_worth, sampled_shapley, sampling_error
from marketplace.valuation.shapley import MAX_EXACT_PLAYERS, coalition_sizes, members
from tests.marketplace.valuation.games import TableGame, from_dict, games

# Three partners: none earns alone, pairs earn 90 (0+1), 80 (0+2), 70 (1+2), all three 120.
# Over the six orders of arrival player 0 adds 0, 0, 90, 50, 80, 50 (mean 45), player 1 adds
# 90, 40, 0, 0, 40, 70 (mean 40) and player 2 adds 30, 80, 30, 70, 0, 0 (mean 35).
PARTNERS = from_dict(
    3,
    {
        frozenset({0, 1}): 90,
        frozenset({0, 2}): 80,
        frozenset({1, 2}): 70,
        frozenset({0, 1, 2}): 120,
    },
)


def games_of(players: int) -> st.SearchStrategy[TableGame]:
    worth = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    size = 1 << players
    return st.lists(worth, min_size=size, max_size=size).map(lambda t: TableGame(np.array(t)))


def test_three_partners_worked_by_hand() -> None:
    assert exact_shapley(PARTNERS) == pytest.approx([45, 40, 35])
    assert grand_worth(PARTNERS) == 120


def test_one_player_gets_its_own_worth_over_the_empty_one() -> None:
    assert exact_shapley(TableGame(np.array([2.0, 7.0]))) == pytest.approx([5.0])


@given(games())
def test_efficiency(game: TableGame) -> None:
    assert exact_shapley(game).sum() == pytest.approx(game.table[-1] - game.table[0], abs=1e-9)


def _swap(mask: int, i: int, j: int) -> int:
    bi, bj = (mask >> i) & 1, (mask >> j) & 1
    return (mask & ~((1 << i) | (1 << j))) | (bi << j) | (bj << i)


@given(games(), st.data())
def test_symmetry(game: TableGame, data: st.DataObject) -> None:
    n = game.players
    if n < 2:
        return
    i, j = data.draw(st.permutations(range(n)))[:2]
    symmetric = TableGame(
        np.array([game.table[m] + game.table[_swap(m, i, j)] for m in range(1 << n)])
    )
    values = exact_shapley(symmetric)
    assert values[i] == pytest.approx(values[j], abs=1e-9)


@given(games(), st.data())
def test_null_player(game: TableGame, data: st.DataObject) -> None:
    n = game.players
    k = data.draw(st.integers(0, n - 1))
    null = TableGame(np.array([game.table[m & ~(1 << k)] for m in range(1 << n)]))
    assert exact_shapley(null)[k] == pytest.approx(0.0, abs=1e-9)


@given(st.integers(1, 5).flatmap(lambda n: st.tuples(games_of(n), games_of(n))))
def test_additivity(pair: tuple[TableGame, TableGame]) -> None:
    v, w = pair
    both = TableGame(v.table + w.table)
    assert exact_shapley(both) == pytest.approx(exact_shapley(v) + exact_shapley(w), abs=1e-9)


@settings(max_examples=30)
@given(games(), st.integers(1, 50), st.integers(0, 2**32))
def test_every_sampled_permutation_adds_up(game: TableGame, permutations: int, seed: int) -> None:
    """Each order's marginal contributions telescope to v(N) − v(∅), so their mean does too."""
    values = sampled_shapley(game, permutations, np.random.default_rng(seed))
    assert values.sum() == pytest.approx(game.table[-1] - game.table[0], abs=1e-7)


def test_sampling_converges_to_the_exact_values() -> None:
    rng = np.random.default_rng(7)
    game = TableGame(rng.uniform(0, 1, 1 << 8))
    exact = exact_shapley(game)
    few = np.abs(sampled_shapley(game, 20, np.random.default_rng(1)) - exact).max()
    many = np.abs(sampled_shapley(game, 20_000, np.random.default_rng(1)) - exact).max()
    assert many < 0.01 < few


def test_sampling_is_deterministic_for_a_seed() -> None:
    first = sampled_shapley(PARTNERS, 100, np.random.default_rng(3))
    again = sampled_shapley(PARTNERS, 100, np.random.default_rng(3))
    other = sampled_shapley(PARTNERS, 100, np.random.default_rng(4))
    assert first.tolist() == again.tolist() != other.tolist()


def test_theorem_5_3_error_bound() -> None:
    # ε = sqrt(n·log(2/δ)/(2K)): 10 players, 1000 permutations, δ = 0.05
    assert sampling_error(10, 1000, 0.05) == pytest.approx(math.sqrt(10 * math.log(40) / 2000))
    with pytest.raises(ValueError):
        sampling_error(10, 0, 0.05)


def test_sizes_and_members() -> None:
    masks = np.array([0, 1, 6, 7, 0b101], dtype=np.int64)
    assert coalition_sizes(masks).tolist() == [0, 1, 2, 3, 2]
    assert members(np.array([6, 5], dtype=np.int64), 2, 3).tolist() == [[1, 2], [0, 2]]


def test_too_many_players_for_exact_values() -> None:
    class Big:
        players = MAX_EXACT_PLAYERS + 1

        def worth(self, coalitions: np.ndarray) -> np.ndarray:
            raise AssertionError("never asked")

    with pytest.raises(ValueError, match=r"allowed 1\.\.22"):
        exact_shapley(Big())
    with pytest.raises(ValueError, match="permutations"):
        sampled_shapley(PARTNERS, 0, np.random.default_rng(0))
