"""A synthetic prediction task whose features two sellers hold, and the gain game it defines.

The buyer wants to predict a target y. Some of what drives y is seen by both sellers, each
through its own noisy view (``shared_signals``), and some by one seller alone
(``own_signals``), so the sellers' data overlap the way real sources do — the overlap is what
lets a replicator take value from the other seller under Shapley fairness (Agarwal, Dahleh &
Sarkar, "A Marketplace for Data: An Algorithmic Solution", ACM EC 2019, §3.3.2 Example 3.1:
with identical features, copying moves the split from 1/2 to 2/3; with independent features it
moves nothing, because each copy only splits its own feature's value).

The gain G(S) of a set S of feature columns is the held-out R² of ridge regression on S,
clipped at 0: their gain function G maps a prediction to [0, 1] (their §2 and Appendix B, "by
construction the gain function G ∈ [0, 1]"), and a model that predicts worse than the
training mean gains nothing. Ridge shrinks a feature and its copies together, so exact copies
change G only through the shrinkage, by about α/rows (their Assumption 2 asks for no change
at all: α = 0 would give it exactly, at the price of an ill-posed fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from marketplace.valuation.shapley import MAX_PLAYERS, Coalitions, Worths, coalition_sizes, members

__all__ = ["SELLERS", "Dataset", "RidgeGain", "TaskSpec", "draw_task", "seller_totals"]

Matrix = npt.NDArray[np.float64]

#: The two sellers; the first columns are A's, then B's.
SELLERS = ("A", "B")
#: Coalitions fitted per batched solve: bounds the memory of the stacked Gram matrices.
_CHUNK = 32_768


class TaskSpec(BaseModel):
    """The prediction task's shape. Every signal has unit variance and enters y with its
    weight; each seller sees a signal as signal + view noise."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False, validate_default=True
    )

    train_rows: int = Field(default=300, ge=20, le=100_000)
    test_rows: int = Field(default=300, ge=20, le=100_000)
    #: Signals both sellers observe, each through its own noisy view.
    shared_signals: int = Field(default=1, ge=0, le=8)
    #: Signals each seller alone observes (this many per seller).
    own_signals: int = Field(default=1, ge=0, le=8)
    shared_weight: float = Field(default=1.0, ge=0, le=100)
    own_weight: float = Field(default=1.0, ge=0, le=100)
    #: Standard deviation of the noise between a signal and a seller's view of it.
    view_noise: float = Field(default=0.5, ge=0, le=100)
    #: Standard deviation of the target's own noise, which no feature explains.
    target_noise: float = Field(default=1.0, ge=0, le=100)
    ridge_alpha: float = Field(default=1.0, ge=0, le=1e6)

    @model_validator(mode="after")
    def _has_features(self) -> Self:
        if self.shared_signals + self.own_signals == 0:
            raise ValueError("shared_signals + own_signals must be at least 1: a seller needs data")
        return self


@dataclass(frozen=True)
class Dataset:
    """Feature columns (train and test rows), the target, and which seller owns each column."""

    train: Matrix
    test: Matrix
    train_y: npt.NDArray[np.float64]
    test_y: npt.NDArray[np.float64]
    owners: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def columns(self) -> int:
        return len(self.owners)

    def with_copies(
        self, seller: str, copies: int, noise: float, rng: np.random.Generator
    ) -> Dataset:
        """The dataset after ``seller`` sells each of its columns ``copies`` more times, each
        copy plus independent Gaussian noise of ``noise`` times the column's standard
        deviation (0: exact copies)."""
        own = [i for i, owner in enumerate(self.owners) if owner == seller]
        if not own:
            known = ", ".join(sorted(set(self.owners)))
            raise ValueError(f"seller {seller!r} owns no column; owners: {known}")
        rows = np.vstack([self.train, self.test])
        extra, labels = [], []
        for copy in range(1, copies + 1):
            for i in own:
                column = rows[:, i]
                scale = noise * float(np.std(column))
                extra.append(column + scale * rng.standard_normal(len(column)))
                labels.append(f"{self.labels[i]}+{copy}")
        if not extra:
            return self
        grown = np.hstack([rows, np.column_stack(extra)])
        cut = len(self.train)
        return Dataset(
            grown[:cut],
            grown[cut:],
            self.train_y,
            self.test_y,
            self.owners + (seller,) * len(extra),
            self.labels + tuple(labels),
        )


def draw_task(spec: TaskSpec, rng: np.random.Generator) -> Dataset:
    """One draw of the task: signals, views and target for train and test rows together."""
    rows = spec.train_rows + spec.test_rows
    shared = rng.standard_normal((rows, spec.shared_signals))
    own = {seller: rng.standard_normal((rows, spec.own_signals)) for seller in SELLERS}
    y = (
        spec.shared_weight * shared.sum(axis=1)
        + spec.own_weight * sum(own[s].sum(axis=1) for s in SELLERS)
        + spec.target_noise * rng.standard_normal(rows)
    )
    columns, owners, labels = [], [], []
    for seller in SELLERS:
        for kind, signals in (("shared", shared), ("own", own[seller])):
            for j in range(signals.shape[1]):
                view = signals[:, j] + spec.view_noise * rng.standard_normal(rows)
                columns.append(view)
                owners.append(seller)
                labels.append(f"{seller}.{kind}{j + 1}")
    x = np.column_stack(columns)
    cut = spec.train_rows
    return Dataset(x[:cut], x[cut:], y[:cut], y[cut:], tuple(owners), tuple(labels))


class RidgeGain:
    """The game G(S) = max(0, held-out R² of ridge regression on columns S).

    Fits are done from cross-products computed once (centred on the training means, so the
    intercept is not shrunk): for each coalition, β = (X_Sᵀ X_S + αI)⁻¹ X_Sᵀ y on the training
    rows and SSE = yᵀy − 2βᵀX_Sᵀy + βᵀX_SᵀX_Sβ on the test rows, every coalition of one size in
    one batched solve. R² is against the training mean's predictions, so G(∅) = 0.
    """

    def __init__(self, data: Dataset, alpha: float) -> None:
        if data.columns > MAX_PLAYERS:
            raise ValueError(f"{data.columns} columns: allowed at most {MAX_PLAYERS}")
        mean, y_mean = data.train.mean(axis=0), float(data.train_y.mean())
        train, test = data.train - mean, data.test - mean
        train_y, test_y = data.train_y - y_mean, data.test_y - y_mean
        self._gram, self._xy = train.T @ train, train.T @ train_y
        self._test_gram, self._test_xy = test.T @ test, test.T @ test_y
        self._sst = float(test_y @ test_y)
        self._alpha = alpha
        self._players = data.columns

    @property
    def players(self) -> int:
        return self._players

    def worth(self, coalitions: Coalitions) -> Worths:
        out = np.zeros(len(coalitions), dtype=np.float64)
        if self._sst == 0:
            return out  # a constant target: nothing to explain, nothing gained
        sizes = coalition_sizes(coalitions)
        for size in np.unique(sizes[sizes > 0]):
            (where,) = np.nonzero(sizes == size)
            for start in range(0, len(where), _CHUNK):
                chosen = where[start : start + _CHUNK]
                out[chosen] = self._r2(members(coalitions[chosen], int(size), self._players))
        return np.maximum(out, 0.0)

    def _r2(self, idx: npt.NDArray[np.int64]) -> Worths:
        rows, cols = idx[:, :, None], idx[:, None, :]
        lhs = self._gram[rows, cols] + self._alpha * np.eye(idx.shape[1])
        beta = np.linalg.solve(lhs, self._xy[idx][..., None])[..., 0]
        quad = np.einsum("ni,nij,nj->n", beta, self._test_gram[rows, cols], beta)
        sse = self._sst - 2 * np.einsum("ni,ni->n", beta, self._test_xy[idx]) + quad
        r2: Worths = 1.0 - sse / self._sst
        return r2


def seller_totals(values: Worths, owners: tuple[str, ...]) -> dict[str, float]:
    """Each seller's total over the columns it owns."""
    return {
        seller: float(sum(v for v, o in zip(values, owners, strict=True) if o == seller))
        for seller in SELLERS
    }
