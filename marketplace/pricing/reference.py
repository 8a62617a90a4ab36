"""The exchange's reference price: what comparable data recently traded for, quality-adjusted.

Exchanges publish evaluations of data products by the *market approach*: the value of a data
asset is inferred from recent transactions in comparable assets, adjusted for the differences
between them (China Appraisal Society, 《数据资产评估指导意见》 *Guiding Opinions on Data Asset
Appraisal*, 2023: the market approach beside the cost and income approaches; the group
standard T/SCSDSJFZYJH 016-2024 《数据要素价值评估 市场法》 *Valuation of Data Elements — Market
Approach*, 2024, builds it on a library of reference transactions). The Shanghai Data Exchange
admits data evaluation service providers as one class of its members (上海数据交易所数商管理规范
(试行), 2022, Art. 4), and the reference price is the service the simulated exchange offers in
their place.

:class:`ReferencePrices` follows the market approach with the simplest defensible choices:

- *comparable* means the same category;
- the *adjustment* is for quality: each contract's price is scaled to what it would have been
  at full quality (``price × 100 / quality``), in proportion, as buyers here value data
  (``agents.strategies.value_of``); the reference for quality ``q`` is the comparable
  full-quality price times ``q / 100``;
- the *window* is the last ``window`` contracts of the category, optionally no older than
  ``max_age_s``;
- the *statistic* is the median, not a (volume-weighted) mean: a licence is one unit, so a
  volume weight would only count contracts, and the median ignores a few outlying deals
  (its breakdown point is 50 %: F. R. Hampel, "The Influence Curve and Its Role in Robust
  Estimation", Journal of the American Statistical Association 69(346), 1974), which
  matters when a sealed-bid auction or a negotiation ends far from the posted prices. An even
  count takes the mean of the two middle prices.

All in exact fractions, rounded half up to whole fen, never below one fen.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction

from marketplace.errors import MarketError

__all__ = ["Comparable", "ReferencePrices"]


@dataclass(frozen=True, slots=True)
class Comparable:
    """One contract the reference draws on."""

    quality_pct: int
    price_fen: int
    at: int

    @property
    def full_quality_fen(self) -> Fraction:
        """The price scaled to full quality: the quality adjustment."""
        return Fraction(self.price_fen * 100, self.quality_pct)


def _half_up(amount: Fraction) -> int:
    return int(amount + Fraction(1, 2))


#: A common multiple of every quality percentage (1..100): ``price·100·(L // q)`` orders the
#: full-quality prices ``price·100 / q`` exactly, with integer compares instead of Fractions'.
_QUALITY_LCM = math.lcm(*range(1, 101))


def _median(comparables: list[Comparable]) -> Fraction:
    """The median full-quality price, exact (the mean of the middle two when even)."""
    ordered = sorted(comparables, key=lambda c: c.price_fen * 100 * (_QUALITY_LCM // c.quality_pct))
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle].full_quality_fen
    return (ordered[middle - 1].full_quality_fen + ordered[middle].full_quality_fen) / 2


@dataclass
class ReferencePrices:
    """Comparable contracts by category, and the reference price they give.

    Attributes:
        window: how many of a category's latest contracts count.
        max_age_s: contracts older than this (sim seconds, at the time asked) do not count;
            None: no limit.
    """

    window: int = 20
    max_age_s: int | None = None
    _trades: dict[str, deque[Comparable]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.window < 1:
            raise MarketError(f"reference window must be >= 1, got {self.window}")
        if self.max_age_s is not None and self.max_age_s < 0:
            raise MarketError(f"reference max_age_s must be >= 0, got {self.max_age_s}")

    def record(self, category: str, quality_pct: int, price_fen: int, at: int) -> None:
        """A contract of ``category`` at ``price_fen`` for data of ``quality_pct``.

        Raises:
            MarketError: a quality outside 1-100 (a price cannot be scaled from quality 0) or
                a price below one fen.
        """
        if not 1 <= quality_pct <= 100:
            raise MarketError(f"reference: quality must be within 1-100, got {quality_pct}")
        if price_fen < 1:
            raise MarketError(f"reference: price must be >= 1 fen, got {price_fen}")
        trades = self._trades.setdefault(category, deque(maxlen=self.window))
        trades.append(Comparable(quality_pct, price_fen, at))

    def comparables(self, category: str, now: int | None = None) -> tuple[Comparable, ...]:
        """The contracts a reference for ``category`` at ``now`` draws on, oldest first."""
        trades = self._trades.get(category, ())
        if self.max_age_s is None or now is None:
            return tuple(trades)
        return tuple(t for t in trades if now - t.at <= self.max_age_s)

    def reference(self, category: str, quality_pct: int, now: int | None = None) -> int | None:
        """The reference price for data of ``quality_pct`` in ``category``; None before any
        comparable contract.

        Raises:
            MarketError: a quality outside 0-100.
        """
        if not 0 <= quality_pct <= 100:
            raise MarketError(f"reference: quality must be within 0-100, got {quality_pct}")
        comparables = self.comparables(category, now)
        if not comparables:
            return None
        full = _median(list(comparables))
        return max(1, _half_up(full * quality_pct / 100))
