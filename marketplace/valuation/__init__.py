"""Valuing data by what it adds to a buyer's prediction: Shapley values over feature columns,
exact or sampled, and the replication-robust discount of Agarwal, Dahleh & Sarkar (ACM EC
2019). Pure functions over numpy arrays: no SimPy, no ledger."""

from marketplace.valuation.robust import (
    LAMBDA_ROBUST,
    cosine_similarity,
    penalties,
    renormalised,
    shapley_robust,
)
from marketplace.valuation.shapley import (
    MAX_EXACT_PLAYERS,
    MAX_PLAYERS,
    Coalitions,
    Game,
    Worths,
    exact_shapley,
    grand_worth,
    sampled_shapley,
    sampling_error,
)
from marketplace.valuation.task import (
    SELLERS,
    Dataset,
    RidgeGain,
    TaskSpec,
    draw_task,
    seller_totals,
)

__all__ = [
    "LAMBDA_ROBUST",
    "MAX_EXACT_PLAYERS",
    "MAX_PLAYERS",
    "SELLERS",
    "Coalitions",
    "Dataset",
    "Game",
    "RidgeGain",
    "TaskSpec",
    "Worths",
    "cosine_similarity",
    "draw_task",
    "exact_shapley",
    "grand_worth",
    "penalties",
    "renormalised",
    "sampled_shapley",
    "sampling_error",
    "seller_totals",
    "shapley_robust",
]
