"""The synthetic task: deterministic for a seed, copies as stated, and a gain game that is
held-out R² of ridge regression, checked against a direct fit."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from marketplace.valuation import RidgeGain, TaskSpec, draw_task

SPEC = TaskSpec(train_rows=80, test_rows=60, shared_signals=2, own_signals=1)


def test_same_seed_same_task() -> None:
    a = draw_task(SPEC, np.random.default_rng(5))
    b = draw_task(SPEC, np.random.default_rng(5))
    c = draw_task(SPEC, np.random.default_rng(6))
    assert np.array_equal(a.train, b.train) and np.array_equal(a.test_y, b.test_y)
    assert not np.array_equal(a.train, c.train)


def test_columns_and_owners() -> None:
    data = draw_task(SPEC, np.random.default_rng(1))
    assert data.train.shape == (80, 6) and data.test.shape == (60, 6)
    assert data.owners == ("A",) * 3 + ("B",) * 3
    assert data.labels[:3] == ("A.shared1", "A.shared2", "A.own1")
    # the sellers' views of one shared signal are correlated; their own signals are not
    corr = np.corrcoef(np.vstack([data.train, data.test]).T)
    assert corr[0, 3] > 0.5 and abs(corr[2, 5]) < 0.3


def test_copies() -> None:
    data = draw_task(SPEC, np.random.default_rng(1))
    exact = data.with_copies("B", 2, 0.0, np.random.default_rng(2))
    assert exact.columns == 12 and exact.owners[6:] == ("B",) * 6
    assert np.array_equal(exact.train[:, 6], exact.train[:, 3])
    assert exact.labels[6] == "B.shared1+1"
    noisy = data.with_copies("B", 1, 0.1, np.random.default_rng(2))
    gap = np.vstack([noisy.train, noisy.test])[:, 6] - np.vstack([data.train, data.test])[:, 3]
    column_sd = np.std(np.vstack([data.train, data.test])[:, 3])
    assert np.std(gap) == pytest.approx(0.1 * column_sd, rel=0.2)
    assert data.with_copies("A", 0, 0.0, np.random.default_rng(2)) is data
    with pytest.raises(ValueError, match="owns no column"):
        data.with_copies("C", 1, 0.0, np.random.default_rng(2))


def _direct_r2(
    data_train: np.ndarray, y: np.ndarray, test: np.ndarray, test_y: np.ndarray, alpha: float
) -> float:
    """Ridge with an unpenalised intercept, fitted the textbook way."""
    mean, y_mean = data_train.mean(axis=0), y.mean()
    x = data_train - mean
    beta = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ (y - y_mean))
    predicted = (test - mean) @ beta + y_mean
    return float(1 - np.sum((test_y - predicted) ** 2) / np.sum((test_y - y_mean) ** 2))


def test_gain_is_held_out_ridge_r2() -> None:
    data = draw_task(SPEC, np.random.default_rng(3))
    game = RidgeGain(data, alpha=2.0)
    masks = np.array([0, 0b1, 0b101, 0b111111], dtype=np.int64)
    got = game.worth(masks)
    assert got[0] == 0.0
    for mask, value in zip(masks[1:], got[1:], strict=True):
        cols = [i for i in range(6) if mask >> i & 1]
        want = _direct_r2(data.train[:, cols], data.train_y, data.test[:, cols], data.test_y, 2.0)
        assert value == pytest.approx(max(want, 0.0), abs=1e-9)
    assert 0 < got[-1] < 1


def test_gain_is_clipped_at_zero() -> None:
    """A feature of pure noise predicts worse than the training mean: it gains nothing."""
    data = draw_task(SPEC, np.random.default_rng(4))
    rng = np.random.default_rng(9)
    noise = type(data)(
        rng.standard_normal((80, 1)),
        rng.standard_normal((60, 1)),
        data.train_y,
        data.test_y,
        ("A",),
        ("noise",),
    )
    direct = _direct_r2(noise.train, noise.train_y, noise.test, noise.test_y, 0.0)
    assert direct < 0
    assert RidgeGain(noise, 0.0).worth(np.array([1], dtype=np.int64))[0] == 0.0


def test_exact_copies_barely_change_the_gain() -> None:
    """Assumption 2 of the paper, as nearly as ridge allows: shrinkage changes by ~α/rows."""
    data = draw_task(SPEC, np.random.default_rng(3))
    full = np.array([(1 << 6) - 1], dtype=np.int64)
    copied = data.with_copies("B", 3, 0.0, np.random.default_rng(0))
    before = RidgeGain(data, 1.0).worth(full)[0]
    after = RidgeGain(copied, 1.0).worth(np.array([(1 << 15) - 1], dtype=np.int64))[0]
    assert after == pytest.approx(before, abs=0.01)


def test_spec_is_validated() -> None:
    with pytest.raises(ValidationError, match="at least 1"):
        TaskSpec(shared_signals=0, own_signals=0)
    with pytest.raises(ValidationError, match="Extra inputs"):
        TaskSpec.model_validate({"rows": 3})
    with pytest.raises(ValidationError):
        TaskSpec.model_validate({"train_rows": "300"})  # strict: a string is not a count
