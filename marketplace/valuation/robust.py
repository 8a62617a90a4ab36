"""Shapley-Robust: Shapley values discounted for similarity, so that copying data does not pay.

Shapley fairness rewards replication: with two sellers of one identical feature each getting
1/2, a seller who sells its feature twice gets 2/3, though the buyer's accuracy is unchanged
(Agarwal, Dahleh & Sarkar, "A Marketplace for Data: An Algorithmic Solution", ACM EC 2019,
§3.3.2, Example 3.1). Their remedy (§4.3.2, Algorithm 3, SHAPLEY-ROBUST) multiplies each
feature's Shapley value by a penalty for how much it resembles every other feature on sale:

    ψ(m) = φ(m) · exp(−λ Σ_{j ≠ m} SM(X_m, X_j))

with a similarity metric SM into [0, 1] (their Definition 4.1), for example the cosine
similarity |⟨X₁, X₂⟩| / (‖X₁‖₂ ‖X₂‖₂) (their Example 4.3). With λ = log 2 the result is
ε-robust to replication — a seller's features and all their copies together earn at most what
the originals earned alone, plus ε (their Property 3.4 and Theorem 5.4; ε comes from sampling
the Shapley values, and the theorem assumes the model is unchanged by exact copies, their
Assumption 2). The paper does not renormalise: the discounted values no longer add up to the
revenue, and cannot while staying robust (their Proposition 5.1), so :func:`shapley_robust`
returns them as they are and :func:`renormalised` is offered only to compare against.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from marketplace.valuation.shapley import Worths

__all__ = ["LAMBDA_ROBUST", "cosine_similarity", "penalties", "renormalised", "shapley_robust"]

Matrix = npt.NDArray[np.float64]

#: λ = log 2, the smallest λ for which exp(−λx) meets the robustness condition
#: (c + 1)·f(x + c) ≤ f(x) for every number of copies c (Agarwal et al. Proposition 5.2,
#: Theorem 5.4).
LAMBDA_ROBUST = math.log(2)


def cosine_similarity(columns: Matrix) -> Matrix:
    """|⟨Xᵢ, Xⱼ⟩| / (‖Xᵢ‖ ‖Xⱼ‖) for every pair of columns (Agarwal et al. Example 4.3).

    A column of zeros carries no data and resembles nothing: its similarities are 0 (1 with
    itself), where the formula would divide by zero.
    """
    norms = np.linalg.norm(columns, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    unit = columns / safe
    similarity = np.clip(np.abs(unit.T @ unit), 0.0, 1.0)
    np.fill_diagonal(similarity, 1.0)
    return similarity


def penalties(similarity: Matrix, lam: float) -> Worths:
    """exp(−λ Σ_{j ≠ m} SM(X_m, X_j)) for each feature m (Algorithm 3, step 2)."""
    if lam < 0 or not math.isfinite(lam):
        raise ValueError(f"lambda = {lam}: allowed a finite value of at least 0")
    others = similarity.sum(axis=1) - np.diag(similarity)
    discount: Worths = np.exp(-lam * others)
    return discount


def shapley_robust(shapley: Worths, similarity: Matrix, lam: float = LAMBDA_ROBUST) -> Worths:
    """Each feature's Shapley value times its similarity penalty (Algorithm 3), not
    renormalised: what the rule pays each feature, the rest of the revenue unpaid."""
    if similarity.shape != (len(shapley), len(shapley)):
        raise ValueError(
            f"similarity is {similarity.shape}; expected ({len(shapley)}, {len(shapley)})"
        )
    return shapley * penalties(similarity, lam)


def renormalised(values: Worths) -> Worths:
    """``values`` scaled to add up to 1 (a budget-balanced variant, which Proposition 5.1 of
    Agarwal et al. shows cannot also be robust to replication). All zeros stay zeros."""
    total = float(values.sum())
    return values / total if total != 0 else np.zeros_like(values)
