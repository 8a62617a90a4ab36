"""Shapley-Robust: the paper's worked example, the penalty's arithmetic, and the property it
exists for — copying its data does not raise a seller's robust share beyond ε."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.valuation import (
    LAMBDA_ROBUST,
    RidgeGain,
    TaskSpec,
    cosine_similarity,
    draw_task,
    exact_shapley,
    penalties,
    renormalised,
    seller_totals,
    shapley_robust,
)

#: The ε this suite allows (the experiment's default ``allocation.epsilon``): with exact
#: Shapley values only ridge's shrinkage of copies (≈ α/rows) moves the shares.
EPSILON = 0.01


def test_cosine_similarity() -> None:
    x = np.array([[1.0, 2.0, 0.0, -1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]])
    sim = cosine_similarity(x)
    assert sim[0, 1] == pytest.approx(1.0)  # a multiple of a column is the same data
    assert sim[0, 3] == pytest.approx(1.0)  # |⟨·,·⟩|: a sign flip too
    assert sim[0, 2] == pytest.approx(0.0)  # orthogonal
    assert sim[4].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]  # a zero column resembles nothing
    assert np.allclose(sim, sim.T) and np.all((sim >= 0) & (sim <= 1))


def test_example_4_5() -> None:
    """Two identical features at 1/2 each get e⁻¹/2 (λ = 1); after one copy, 3 × e⁻²/3."""
    before = shapley_robust(np.array([0.5, 0.5]), np.ones((2, 2)), lam=1.0)
    after = shapley_robust(np.full(3, 1 / 3), np.ones((3, 3)), lam=1.0)
    assert before[1] == pytest.approx(1 / (2 * math.e))
    assert after[1:].sum() == pytest.approx(2 / (3 * math.e**2))


@given(st.integers(0, 10))
def test_log_2_halves_per_exact_copy(copies: int) -> None:
    """(c + 1)·f(x + c) ≤ f(x) for f = exp(−x log 2) (Proposition 5.2): c copies cost 2⁻ᶜ."""
    discount = penalties(np.ones((copies + 1, copies + 1)), LAMBDA_ROBUST)
    assert discount == pytest.approx(np.full(copies + 1, 2.0**-copies))
    assert (copies + 1) * discount[0] <= 1 + 1e-12


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="lambda"):
        penalties(np.ones((2, 2)), -1.0)
    with pytest.raises(ValueError, match="expected"):
        shapley_robust(np.ones(3), np.ones((2, 2)))


def test_renormalised() -> None:
    assert renormalised(np.array([1.0, 3.0])).tolist() == [0.25, 0.75]
    assert renormalised(np.zeros(2)).tolist() == [0.0, 0.0]


def _replicator_shares(seed: int, copies: int, lam: float) -> tuple[float, float]:
    """B's (Shapley, robust) share of G(all) after ``copies`` exact copies of its columns."""
    spec = TaskSpec(train_rows=120, test_rows=120)
    data = draw_task(spec, np.random.default_rng(seed))
    sold = data.with_copies("B", copies, 0.0, np.random.default_rng(0))
    phi = exact_shapley(RidgeGain(sold, spec.ridge_alpha))
    columns = np.vstack([sold.train, sold.test])
    paid = shapley_robust(phi, cosine_similarity(columns), lam)
    total = phi.sum()
    return seller_totals(phi, sold.owners)["B"] / total, seller_totals(paid, sold.owners)[
        "B"
    ] / total


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 3))
def test_copies_do_not_raise_the_robust_share(seed: int, copies: int) -> None:
    _shapley, before = _replicator_shares(seed, 0, LAMBDA_ROBUST)
    _shapley, after = _replicator_shares(seed, copies, LAMBDA_ROBUST)
    assert after <= before + EPSILON


def test_without_the_discount_copying_pays() -> None:
    """The property above is not vacuous: with λ = 0 (plain Shapley) the same copies raise
    the replicator's share by more than ε, because its data overlaps the other seller's."""
    before, _ = _replicator_shares(11, 0, 0.0)
    after, undiscounted = _replicator_shares(11, 3, 0.0)
    assert undiscounted == pytest.approx(after)
    assert after > before + EPSILON
