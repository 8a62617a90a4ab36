"""Sharing a bundle's revenue among its co-providers by what each source adds.

A data merchant's product built from several licensed sources pays its licensors out of one
royalty pool. How to split it? By each source's Shapley value in the buyer's prediction game
(Ghorbani & Zou, "Data Shapley: Equitable Valuation of Data for Machine Learning", ICML 2019:
the unique split that is efficient, symmetric, null-player and additive, estimated by sampling
permutations; Agarwal, Dahleh & Sarkar, ACM EC 2019, for the replication-robust variant that
stops a source from earning more by being bought twice).

Each source is a set of feature columns of one synthetic prediction task: every source sees the
task's shared signals through its own noisy view (so sources overlap, as real ones do), and
one signal of its own. A source's view noise falls with its quality: a 100 % source sees its
signals exactly, a 0 % one through noise twice their spread. The worth of a coalition of
columns is the held-out R² of ridge regression on them (:class:`RidgeGain`); a source's value is
the sum of its columns' values, so the robust discount, which is per column, applies as the
paper defines it. The shares are the sources' values over the grand coalition's worth (Shapley
shares add up to 1; robust shares to less, the rest of the pool unpaid, Proposition 5.1); a
source whose value is negative (it makes the prediction worse) is paid nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from marketplace.valuation.robust import cosine_similarity, shapley_robust
from marketplace.valuation.shapley import grand_worth, sampled_shapley, sampling_error
from marketplace.valuation.task import Dataset, RidgeGain

__all__ = ["BundleShares", "SharingRule", "bundle_task", "share_bundle"]

SharingRule = Literal["shapley", "shapley-robust"]
#: Task shape: rows, signals and noise of the synthetic prediction game.
TRAIN_ROWS = 200
TEST_ROWS = 200
SHARED_SIGNALS = 1
TARGET_NOISE = 1.0
RIDGE_ALPHA = 1.0
#: A 0 % source sees its signals through noise of this many standard deviations.
WORST_VIEW_NOISE = 2.0


@dataclass(frozen=True)
class BundleShares:
    """Each source's share of the pool (in source order), and the sampling error bound: with
    probability ``1 − delta`` every column's sampled value is within ``error`` of its exact
    one (Agarwal et al. Theorem 5.3, from Hoeffding's inequality)."""

    shares: tuple[float, ...]
    error: float
    permutations: int
    delta: float
    rule: SharingRule


def bundle_task(qualities: Sequence[int], rng: np.random.Generator) -> Dataset:
    """The prediction task a bundle of sources with these quality percentages serves: one
    shared signal seen by every source, one signal of each source's own; owners name sources by
    index ("0", "1", ...)."""
    rows = TRAIN_ROWS + TEST_ROWS
    shared = rng.standard_normal((rows, SHARED_SIGNALS))
    own = rng.standard_normal((rows, len(qualities)))
    y = shared.sum(axis=1) + own.sum(axis=1) + TARGET_NOISE * rng.standard_normal(rows)
    columns, owners, labels = [], [], []
    for source, quality in enumerate(qualities):
        noise = WORST_VIEW_NOISE * (100 - min(100, max(0, quality))) / 100
        views = [*(shared[:, j] for j in range(SHARED_SIGNALS)), own[:, source]]
        for j, signal in enumerate(views):
            columns.append(signal + noise * rng.standard_normal(rows))
            owners.append(str(source))
            labels.append(f"{source}.{'own' if j == SHARED_SIGNALS else f'shared{j + 1}'}")
    x = np.column_stack(columns)
    return Dataset(
        x[:TRAIN_ROWS], x[TRAIN_ROWS:], y[:TRAIN_ROWS], y[TRAIN_ROWS:], tuple(owners), tuple(labels)
    )


def share_bundle(
    qualities: Sequence[int],
    rng: np.random.Generator,
    *,
    rule: SharingRule = "shapley",
    permutations: int = 200,
    delta: float = 0.05,
) -> BundleShares:
    """The sources' shares of the bundle's royalty pool, by sampled Shapley value (or its
    replication-robust discount). One source takes the whole pool (robust or not: it resembles
    no other source)."""
    if not qualities:
        raise ValueError("a bundle has at least one source")
    if len(qualities) == 1:
        return BundleShares((1.0,), 0.0, 0, delta, rule)
    data = bundle_task(qualities, rng)
    game = RidgeGain(data, RIDGE_ALPHA)
    values = sampled_shapley(game, permutations, rng)
    if rule == "shapley-robust":
        values = shapley_robust(values, cosine_similarity(np.vstack([data.train, data.test])))
    whole = grand_worth(game)
    per_source = [
        float(sum(v for v, owner in zip(values, data.owners, strict=True) if owner == str(s)))
        for s in range(len(qualities))
    ]
    # A source that hurts the prediction (a negative value) earns nothing; dividing by the
    # larger of v(N) and the positive values keeps the shares within the pool.
    paid = [max(0.0, value) for value in per_source]
    scale = max(whole, sum(paid))
    if scale <= 0:  # the bundle predicts nothing: split evenly, as symmetry would
        shares = tuple(1.0 / len(qualities) for _ in qualities)
    else:
        shares = tuple(value / scale for value in paid)
    error = sampling_error(game.players, permutations, delta)
    return BundleShares(shares, error, permutations, delta, rule)
