"""``dxsim experiment agarwal-copy``: does copying data raise a seller's revenue share?

Two sellers hold the features of a buyer's prediction task (:mod:`marketplace.valuation.task`);
the revenue is divided among feature columns by their Shapley value, and by the
replication-robust variant of Agarwal, Dahleh & Sarkar, "A Marketplace for Data: An
Algorithmic Solution", ACM EC 2019 (arXiv 1805.08125), §4.3.2 Algorithm 3. Then one seller
sells each of its columns k = 0..K more times and the experiment reports its share under both
rules, over replications with fresh data. The paper's claims beside ours:

* Shapley is not robust: the replicator's share grows with copies (§3.3.2, Example 3.1, with
  identical features: 1/2 → 2/3 after one copy; Proposition 5.1).
* Shapley-Robust with λ = log 2 is ε-robust to replication: the replicator's share with its
  copies stays at most its share without them plus ε (Property 3.4, Theorem 5.4). Here the
  Shapley values are exact up to ``allocation.exact_up_to`` columns, so ε covers only what
  ridge's shrinkage and the held-out noise make of exact copies (Assumption 2), and sampling
  beyond; ``allocation.epsilon`` is the tolerance the verdict uses.

A share is a fraction of the buyer's gain G(all columns), the revenue: Shapley shares of the
two sellers add up to 1 (balance); Shapley-Robust pays less, the rest unpaid, as the paper's
rule is (it cannot be both balanced and robust, Proposition 5.1); the renormalised variant is
shown only for comparison. Examples 3.1 and 4.5 are also computed as stated, on each
replication's data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from marketplace.valuation import (
    LAMBDA_ROBUST,
    MAX_EXACT_PLAYERS,
    MAX_PLAYERS,
    Dataset,
    RidgeGain,
    TaskSpec,
    Worths,
    cosine_similarity,
    draw_task,
    exact_shapley,
    grand_worth,
    sampled_shapley,
    sampling_error,
    seller_totals,
    shapley_robust,
)
from scenarios.compare import paired_interval
from scenarios.experiments.base import Experiment, Figure, Outcome, Plan, PlotSpec, Replication

__all__ = ["EXPERIMENT", "AgarwalCopy", "AllocationSection", "CopiesSection"]

PAPER = "Agarwal, Dahleh & Sarkar, ACM EC 2019"


class _Section(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False, validate_default=True
    )


class CopiesSection(_Section):
    """Who copies its data, up to how many times, and how exactly."""

    seller: Literal["A", "B"] = "B"
    #: The table has a row for every k = 0..max copies of each of the seller's columns.
    max: int = Field(default=5, ge=1, le=30)
    #: Each copy is the column plus Gaussian noise of this many of its standard deviations (0:
    #: exact copies, what Theorem 5.4 covers; noisy copies are outside it).
    noise: float = Field(default=0.0, ge=0, le=10)


class AllocationSection(_Section):
    """How the Shapley values are computed and how hard the robust rule discounts."""

    #: "exact" enumerates every coalition; "sampled" averages permutations (Castro et al.
    #: 2009); "auto" is exact up to ``exact_up_to`` columns and sampled beyond.
    method: Literal["auto", "exact", "sampled"] = "auto"
    exact_up_to: int = Field(default=12, ge=1, le=MAX_EXACT_PLAYERS)
    permutations: int = Field(default=2000, ge=1, le=200_000)
    #: λ of Algorithm 3; log 2 = 0.693... is Theorem 5.4's.
    robust_lambda: float = Field(default=LAMBDA_ROBUST, ge=0, le=20)
    #: The ε of the robustness verdict: the share with copies may exceed it without by this.
    epsilon: float = Field(default=0.01, ge=0, le=1)


class AgarwalCopy(_Section):
    """The whole configuration of ``agarwal-copy`` (``scenarios/experiments/agarwal-copy.toml``)."""

    task: TaskSpec = TaskSpec()
    copies: CopiesSection = CopiesSection()
    allocation: AllocationSection = AllocationSection()

    @property
    def columns_per_seller(self) -> int:
        return self.task.shared_signals + self.task.own_signals

    def columns(self, copies: int) -> int:
        """How many feature columns are on sale with ``copies`` copies of the replicator's."""
        return self.columns_per_seller * (2 + copies)

    def located_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Problems of the whole (see :func:`marketplace.tomlfile.validate`)."""
        most = self.columns(self.copies.max)
        if most > MAX_PLAYERS:
            return [
                (
                    ("copies", "max"),
                    f"{self.copies.max} copies make {most} columns; allowed: at most "
                    f"{MAX_PLAYERS} (fewer copies or signals)",
                )
            ]
        if self.allocation.method == "exact" and most > MAX_EXACT_PLAYERS:
            return [
                (
                    ("allocation", "method"),
                    f"'exact' over {most} columns is 2^{most} model fits; allowed: 'exact' up to "
                    f"{MAX_EXACT_PLAYERS} columns, else 'auto' or 'sampled'",
                )
            ]
        return []


@dataclass(frozen=True)
class _Draw:
    """One replication's figures: the replicator's shares for k = 0..max, and the examples."""

    shapley: tuple[float, ...]
    robust: tuple[float, ...]
    renormalised: tuple[float, ...]
    gain: float
    example: tuple[float, float, float]  # Shapley after a copy; robust (λ=1) before, after


def _values(game: RidgeGain, allocation: AllocationSection, rng: np.random.Generator) -> Worths:
    exact = allocation.method == "exact" or (
        allocation.method == "auto" and game.players <= allocation.exact_up_to
    )
    return exact_shapley(game) if exact else sampled_shapley(game, allocation.permutations, rng)


#: A gain below this is no gain: its shares are undefined (floating-point dust would make a
#: share of nothing any number at all).
_NOTHING = 1e-9


def _share(part: float, whole: float) -> float:
    return part / whole if whole > _NOTHING else math.nan


def _example(data: Dataset, alpha: float) -> tuple[float, float, float]:
    """Examples 3.1 and 4.5: A and B sell one identical feature, then B sells it twice."""
    column = np.vstack([data.train[:, :1], data.test[:, :1]])
    cut = len(data.train)
    results = []
    for copies in (0, 1):
        x = np.hstack([column] * (2 + copies))
        owners = ("A", "B") + ("B",) * copies
        game = RidgeGain(
            Dataset(x[:cut], x[cut:], data.train_y, data.test_y, owners, owners), alpha
        )
        phi = exact_shapley(game)
        robust = shapley_robust(phi, cosine_similarity(x), lam=1.0)
        total = grand_worth(game)
        results.append(
            (
                _share(seller_totals(phi, owners)["B"], total),
                _share(seller_totals(robust, owners)["B"], total),
            )
        )
    return results[1][0], results[0][1], results[1][1]


def _replicate(config: AgarwalCopy, replication: Replication) -> _Draw:
    data = draw_task(config.task, replication.generator("task"))
    seller = config.copies.seller
    shapley, robust, renormalised, gains = [], [], [], []
    for k in range(config.copies.max + 1):
        sold = data.with_copies(seller, k, config.copies.noise, replication.generator(f"copy/{k}"))
        game = RidgeGain(sold, config.task.ridge_alpha)
        phi = _values(game, config.allocation, replication.generator(f"shapley/{k}"))
        columns = np.vstack([sold.train, sold.test])
        paid = shapley_robust(phi, cosine_similarity(columns), config.allocation.robust_lambda)
        total = grand_worth(game)  # what the Shapley values add up to, exact or sampled
        gains.append(total)
        shapley.append(_share(seller_totals(phi, sold.owners)[seller], total))
        robust.append(_share(seller_totals(paid, sold.owners)[seller], total))
        renormalised.append(_share(seller_totals(paid, sold.owners)[seller], float(paid.sum())))
    return _Draw(
        tuple(shapley),
        tuple(robust),
        tuple(renormalised),
        gains[0],
        _example(data, config.task.ridge_alpha),
    )


def _paired(after: list[float], before: list[float]) -> tuple[float, float, float] | None:
    pairs = zip(after, before, strict=True)
    return paired_interval([a - b for a, b in pairs if math.isfinite(a - b)])


#: The rules compared: (name in the table, the series it draws, what the paper says about it).
_RULES = (
    ("Shapley", "Shapley"),
    ("Robust", "Shapley-Robust (the paper's: not renormalised)"),
    ("Robust renorm.", "Shapley-Robust, renormalised"),
)


def _shares(draw: _Draw, rule: str) -> tuple[float, ...]:
    match rule:
        case "Shapley":
            return draw.shapley
        case "Robust":
            return draw.robust
        case _:
            return draw.renormalised


def _claim(rule: str, k: int, eps: float, diff: tuple[float, float, float] | None) -> Figure:
    """The published claim for ``rule`` after ``k`` copies, and whether the paired difference
    to k = 0 (mean, low, high) bears it out; the label and values are filled in by the caller."""
    if k and rule == "Shapley":
        # the share grows: the whole 95 % interval of the increase lies above 0
        agrees = diff is not None and diff[1] > 0
        return Figure("", (), "grows with k", "§3.3.2 Ex 3.1", agrees)
    if k and rule == "Robust":
        # ε-robust: the whole 95 % interval of the increase lies at or below ε
        agrees = diff is not None and diff[2] <= eps
        return Figure("", (), "≤ k=0 + ε", "§5.4 Thm 5.4", agrees)
    if rule == "Robust renorm." and k == 0:
        return Figure("", (), "—", "not in paper")
    return Figure("", ())


def _share_rows(config: AgarwalCopy, draws: list[_Draw]) -> list[Figure]:
    who = config.copies.seller
    figures = []
    for rule, series in _RULES:
        base = [_shares(d, rule)[0] for d in draws]
        for k in range(config.copies.max + 1):
            values = [_shares(d, rule)[k] for d in draws]
            claim = _claim(rule, k, config.allocation.epsilon, _paired(values, base) if k else None)
            figures.append(
                replace(
                    claim,
                    label=f"{who}, {rule}, k={k}",
                    values=tuple(values),
                    series=series,
                    x=float(k),
                )
            )
    return figures


#: Examples 3.1 and 4.5 of the paper: (label, the published value, as printed, where).
_EXAMPLES = (
    ("Ex 3.1 Shapley, 1 copy", 2 / 3, "2/3", "§3.3.2 Ex 3.1"),
    ("Ex 4.5 λ=1, no copy", 1 / (2 * math.e), "1/(2e)", "§4.3.2 Ex 4.5"),
    ("Ex 4.5 λ=1, 1 copy", 2 / (3 * math.e**2), "2/(3e²)", "§4.3.2 Ex 4.5"),
)


def _rows(config: AgarwalCopy, draws: list[_Draw]) -> list[Figure]:
    figures = [Figure("R², all columns, k=0", tuple(d.gain for d in draws))]
    figures += _share_rows(config, draws)
    for i, (label, value, shown, source) in enumerate(_EXAMPLES):
        values = tuple(d.example[i] for d in draws)
        close = all(abs(v - value) <= 1e-3 for v in values)
        figures.append(Figure(label, values, f"{shown} = {value:.3f}", source, close))
    return figures


def _notes(config: AgarwalCopy) -> tuple[str, ...]:
    alloc = config.allocation
    who, eps = config.copies.seller, alloc.epsilon
    notes = [
        f"Source: {PAPER}, 'A Marketplace for Data: An Algorithmic Solution' (arXiv 1805.08125).",
        f"{who}, RULE, k=K: seller {who}'s share of the buyer's gain G(all columns) (held-out R² "
        f"of ridge, α = {config.task.ridge_alpha:g}) after K copies of each of its columns. "
        f"Robust: Algorithm 3, each column paid its Shapley value × exp(−λ Σ cosine similarity "
        f"to the others), λ = {alloc.robust_lambda:.4g}, the rest unpaid; Robust renorm.: the "
        "same payments scaled to add up to G.",
        f"agrees: the 95 % interval of the paired change from k=0 lies above 0 (Shapley) or at "
        f"or below ε = {eps:g} (Robust); for the examples, every replication within 0.001.",
    ]
    sampled = [
        k
        for k in range(config.copies.max + 1)
        if alloc.method == "sampled"
        or (alloc.method == "auto" and config.columns(k) > alloc.exact_up_to)
    ]
    if sampled:
        worst = sampling_error(config.columns(config.copies.max), alloc.permutations, 0.05)
        notes.append(
            f"k = {', '.join(map(str, sampled))}: Shapley values sampled from "
            f"{alloc.permutations} permutations (Castro, Gómez & Tejada 2009); Theorem 5.3 "
            f"bounds their error by {worst:.3f} with probability 0.95 (a loose bound)."
        )
    if config.copies.noise > 0:
        notes.append(
            f"Copies carry noise ({config.copies.noise:g} sd): similarity below 1, outside "
            "Theorem 5.4's exact copies."
        )
    return tuple(notes)


def run(config: AgarwalCopy, plan: Plan) -> Outcome:
    """Every replication draws its own task; the figures are their shares (module docstring)."""
    draws = plan.map(_replicate, config)
    who = config.copies.seller
    return Outcome(
        tuple(_rows(config, draws)),
        _notes(config),
        PlotSpec(
            f"Seller {who}'s share of the revenue as it copies its data",
            f"copies of each of {who}'s columns (k)",
            f"{who}'s share of the buyer's gain",
        ),
    )


EXPERIMENT = Experiment(
    name="agarwal-copy",
    title="revenue shares by Shapley value vs Shapley-Robust when a seller copies its data",
    source=f"{PAPER}, §3.3 and §4.3 (arXiv 1805.08125)",
    config=AgarwalCopy,
    run=run,
    reps=50,
)
