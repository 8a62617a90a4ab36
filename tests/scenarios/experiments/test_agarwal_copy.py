"""agarwal-copy reproduces the paper's claims, and its verdicts can fail: without the
discount (λ = 0) the "robust" rule pays for copies, and Shapley's growth is found."""

from __future__ import annotations

from typing import Any

from scenarios.experiments import Outcome, Plan
from scenarios.experiments.agarwal_copy import EXPERIMENT, AgarwalCopy


def _run(reps: int = 4, **sections: dict[str, Any]) -> Outcome:
    config = AgarwalCopy.model_validate({"task": {"train_rows": 150, "test_rows": 150}, **sections})
    return EXPERIMENT.run(config, Plan(reps, seed=3))


def _figure(outcome: Outcome, label: str) -> Any:
    return next(f for f in outcome.figures if f.label == label)


def test_the_paper_is_borne_out() -> None:
    outcome = _run(copies={"max": 3})
    verdicts = {f.label: f.agrees for f in outcome.figures if f.agrees is not None}
    assert len(verdicts) == 3 + 3 + 3  # Shapley k=1..3, Robust k=1..3, the three examples
    assert all(verdicts.values()), verdicts
    shapley = [_figure(outcome, f"B, Shapley, k={k}").mean for k in range(4)]
    robust = [_figure(outcome, f"B, Robust, k={k}").mean for k in range(4)]
    assert shapley == sorted(shapley) and robust == sorted(robust, reverse=True)
    assert abs(shapley[0] - 0.5) < 0.1  # symmetric sellers split about evenly before copying


def test_without_the_discount_the_robust_verdict_fails() -> None:
    outcome = _run(copies={"max": 2}, allocation={"robust_lambda": 0.0})
    assert _figure(outcome, "B, Robust, k=2").agrees is False
    assert _figure(outcome, "B, Robust, k=2").values == _figure(outcome, "B, Shapley, k=2").values


def test_with_independent_sellers_shapley_does_not_grow() -> None:
    """With no shared signal a copy only splits its own column's value (§3.3.2): the verdict
    "grows with k" is not found, which is the point of the shared signals."""
    outcome = _run(reps=6, task={"shared_signals": 0, "own_signals": 2}, copies={"max": 1})
    assert _figure(outcome, "B, Shapley, k=1").agrees is False


def test_sampling_beyond_exact_up_to() -> None:
    outcome = _run(copies={"max": 2}, allocation={"exact_up_to": 4, "permutations": 500})
    assert any("sampled from 500 permutations" in note for note in outcome.notes)
    assert "k = 1, 2:" in " ".join(outcome.notes)
    assert _figure(outcome, "B, Shapley, k=2").agrees


def test_nothing_to_share() -> None:
    """A target no feature predicts leaves the shares undefined, not made up."""
    outcome = _run(task={"shared_weight": 0.0, "own_weight": 0.0}, copies={"max": 1})
    figure = _figure(outcome, "B, Shapley, k=1")
    assert figure.mean is None and figure.defined == 0 and figure.agrees is False


def test_noisy_copies_are_noted() -> None:
    outcome = _run(reps=2, copies={"max": 1, "noise": 0.05})
    assert any("outside Theorem 5.4" in note for note in outcome.notes)
