"""Percentiles by nearest rank (Hyndman & Fan 1996, definition 1: the inverse of the empirical
distribution function): a percentile is always an observed value, so prices stay integer fen."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["nearest_rank"]


def nearest_rank(ordered: Sequence[int], pct: int) -> int | None:
    """The ``pct``-th percentile of ascending ``ordered`` by nearest rank (None when empty).

    Nearest rank: the value at rank ``ceil(pct/100 · n)`` (1-based, at least 1), i.e. the smallest
    observation with at least ``pct`` % of the data at or below it. Exact on integers.
    """
    if not ordered:
        return None
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[rank - 1]
