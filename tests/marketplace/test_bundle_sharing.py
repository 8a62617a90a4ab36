"""Sharing a bundle's royalty pool among its sources: sampled Shapley shares add up to the whole
(efficiency), favour the better source, and stay within their error bound of the exact values;
the replication-robust rule pays a duplicated source no more for being bought twice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.entries_rights import SharingTerms
from marketplace.valuation import RidgeGain, exact_shapley, sampled_shapley
from marketplace.valuation.bundle import RIDGE_ALPHA, bundle_task, share_bundle


def test_a_sole_source_takes_the_whole_pool() -> None:
    shares = share_bundle([40], np.random.default_rng(1))
    assert shares.shares == (1.0,) and shares.error == 0.0


@settings(max_examples=25, deadline=None)
@given(
    qualities=st.lists(st.integers(0, 100), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_shapley_shares_add_up_to_the_pool(qualities: list[int], seed: int) -> None:
    shares = share_bundle(qualities, np.random.default_rng(seed), permutations=50)
    assert all(share >= 0 for share in shares.shares)
    assert sum(shares.shares) == pytest.approx(1.0, abs=1e-9)  # efficiency: the pool, paid


def test_the_better_source_earns_the_larger_share() -> None:
    better = [share_bundle([95, 20], np.random.default_rng(s)).shares for s in range(10)]
    assert sum(first > second for first, second in better) >= 9


def test_sampled_values_are_within_the_bound_of_the_exact_ones() -> None:
    rng = np.random.default_rng(7)
    data = bundle_task([70, 50, 30], rng)
    game = RidgeGain(data, RIDGE_ALPHA)
    exact = exact_shapley(game)
    shares = share_bundle([70, 50, 30], np.random.default_rng(8), permutations=2_000)
    sampled = sampled_shapley(game, 2_000, np.random.default_rng(9))
    assert np.max(np.abs(sampled - exact)) <= shares.error  # ε of Theorem 5.3 at δ = 0.05


def test_robust_sharing_does_not_reward_a_duplicate() -> None:
    """Buying the same quality of data twice splits the pool three ways under Shapley with the
    duplicates taking more together than one alone; the robust rule discounts similar columns."""
    plain = share_bundle([60, 60, 60], np.random.default_rng(3), permutations=500)
    robust = share_bundle(
        [60, 60, 60], np.random.default_rng(3), permutations=500, rule="shapley-robust"
    )
    assert sum(robust.shares) < sum(plain.shares)  # the robust rule leaves part unpaid
    assert all(r <= p + 1e-9 for r, p in zip(robust.shares, plain.shares, strict=True))


def test_a_licence_royalty_is_its_share_of_the_pool() -> None:
    shares = share_bundle([80, 40], np.random.default_rng(2))
    terms = [SharingTerms.of(1_500, share, shares, 2) for share in shares.shares]
    assert sum(t.royalty_bp for t in terms) <= 1_500
    assert all(t.rule == "shapley" and t.sources == 2 for t in terms)
    assert terms[0].royalty_bp == 1_500 * terms[0].share_ppm // 1_000_000
