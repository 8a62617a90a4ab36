"""Behaviour as pure strategies: ``decide(observation) -> decision``, chosen in a scenario by name.

Strategies never touch SimPy or the exchange, so they are unit-tested alone. A researcher adds one
by writing a small class and registering it::

    @register("pricing", "undercut")
    @dataclass(frozen=True)
    class Undercut:
        step_bp: int = 500

        def decide(self, seen: PriceObservation) -> int:
            rival = min(seen.rival_prices_fen, default=seen.current_fen or seen.unit_cost_fen)
            return max(seen.unit_cost_fen, rival - rival * self.step_bp // 10_000)

and naming it in the scenario: ``strategy = "undercut"``, ``strategy_params = {step_bp = 300}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import Field

from marketplace.params import checked_params
from marketplace.state import Offer

__all__ = [
    "STRATEGIES",
    "ClearanceObservation",
    "ClearanceVerdict",
    "Offer",
    "PriceObservation",
    "PurchaseObservation",
    "ReviewDecision",
    "ReviewObservation",
    "StrategyKind",
    "make_strategy",
    "register",
    "strategy_names",
    "value_of",
]

StrategyKind = Literal["pricing", "purchase", "review", "clearance", "trading"]
STRATEGIES: dict[StrategyKind, dict[str, Callable[..., Any]]] = {
    "pricing": {},
    "purchase": {},
    "review": {},
    "clearance": {},
    "trading": {},  # prices submitted at venues: agents/trading_strategies.py registers them
}
T = TypeVar("T", bound=type)


def register(kind: StrategyKind, name: str) -> Callable[[T], T]:
    """Class decorator: make a strategy available to scenarios as ``kind``/``name``."""

    def add(cls: T) -> T:
        if name in STRATEGIES[kind]:
            raise ValueError(f"{kind} strategy {name!r} is registered twice")
        STRATEGIES[kind][name] = cls
        return cls

    return add


def strategy_names(kind: StrategyKind) -> list[str]:
    return sorted(STRATEGIES[kind])


def make_strategy(kind: StrategyKind, name: str, params: dict[str, Any] | None = None) -> Any:
    try:
        factory = STRATEGIES[kind][name]
    except KeyError:
        allowed = ", ".join(repr(n) for n in strategy_names(kind))
        raise ValueError(f"unknown {kind} strategy {name!r}; allowed: {allowed}") from None
    checked = checked_params(f"{kind} strategy {name!r}", factory, params or {})
    try:
        return factory(**checked)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{kind} strategy {name!r}: {exc}") from None


#: A markup or rate in basis points, up to 100× (1 000 000 bp): more is a typo, not a strategy.
BasisPoints = Annotated[int, Field(ge=0, le=1_000_000)]


def _logistic(z: float) -> float:
    """``1 / (1 + e^-z)`` without overflow for any finite ``z`` (the two-branch form)."""
    if z >= 0:
        return 1 / (1 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1 + e)


# -- observations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceObservation:
    """What a provider sees when (re)pricing a listing; ``rival_prices_fen`` are the prices of
    the competing offers listed nearest to it (a bounded survey, see ``RIVALS_SURVEYED``).

    ``unit_cost_fen`` is what one licence must bring in for the provider to break even: its
    unit cost grossed up by the exchange's supplier fee, so every strategy prices over the
    fees it will pay."""

    unit_cost_fen: int
    current_fen: int | None
    sales_since_last: int
    days_since_last: float
    quality_pct: int
    rival_prices_fen: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PurchaseObservation:
    """What a buyer sees: its value for perfect-quality data, and the offers of its category."""

    value_fen: int
    offers: tuple[Offer, ...]


@dataclass(frozen=True, slots=True)
class ReviewObservation:
    """What an assessor sees; ``draw`` is a uniform [0, 1) number from the assessor's stream."""

    quality_pct: int
    classification: str
    sensitive: bool
    draw: float


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    approved: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClearanceObservation:
    """What a regulator or certifier sees of an application; ``draw`` is uniform on [0, 1)."""

    mechanism: str
    important: bool
    sensitive: bool
    renewal: bool
    draw: float


@dataclass(frozen=True, slots=True)
class ClearanceVerdict:
    approved: bool
    reasons: tuple[str, ...]


class PricingStrategy(Protocol):
    def decide(self, seen: PriceObservation) -> int: ...


class PurchaseStrategy(Protocol):
    def decide(self, seen: PurchaseObservation) -> str | None: ...


class ReviewStrategy(Protocol):
    def decide(self, seen: ReviewObservation) -> ReviewDecision: ...


class ClearanceStrategy(Protocol):
    def decide(self, seen: ClearanceObservation) -> ClearanceVerdict: ...


# -- providers: pricing ---------------------------------------------------------------------


@register("pricing", "markup")
@dataclass(frozen=True)
class Markup:
    """A fixed markup over unit cost, whatever the market does."""

    markup_bp: BasisPoints = 5000

    def decide(self, seen: PriceObservation) -> int:
        return seen.unit_cost_fen + seen.unit_cost_fen * self.markup_bp // 10_000


@register("pricing", "demand-adaptive")
@dataclass(frozen=True)
class DemandAdaptive:
    """Tâtonnement on a posted price: raise it after brisk sales, cut it after none.

    Starts at ``start_markup_bp`` over cost; after each review period, multiplies the price by
    ``1 + step`` if sales reached ``target_sales``, by ``1 - step`` if there were none, never below
    cost (Walrasian price adjustment in discrete form).
    """

    start_markup_bp: BasisPoints = 8000
    step_bp: Annotated[int, Field(ge=0, le=10_000)] = 1000
    target_sales: Annotated[int, Field(ge=1, le=1_000_000)] = 2

    def decide(self, seen: PriceObservation) -> int:
        if seen.current_fen is None:
            return seen.unit_cost_fen + seen.unit_cost_fen * self.start_markup_bp // 10_000
        price = seen.current_fen
        if seen.sales_since_last >= self.target_sales:
            price += price * self.step_bp // 10_000
        elif seen.sales_since_last == 0:
            price -= price * self.step_bp // 10_000
        return max(seen.unit_cost_fen, price)


# -- buyers: purchase -----------------------------------------------------------------------


def value_of(value_fen: int, offer: Offer) -> int:
    """A buyer values data in proportion to its quality (``value_fen`` is for perfect data)."""
    return value_fen * offer.quality_pct // 100


@register("purchase", "best-surplus")
@dataclass(frozen=True)
class BestSurplus:
    """Buy the certified offer with the largest positive surplus (value − price); ties by id."""

    def decide(self, seen: PurchaseObservation) -> str | None:
        best: tuple[int, str] | None = None
        for offer in seen.offers:
            if not offer.certified:
                continue
            surplus = value_of(seen.value_fen, offer) - offer.price_fen
            if surplus > 0 and (best is None or (surplus, offer.listing) > best):
                best = (surplus, offer.listing)
        return None if best is None else best[1]


@register("purchase", "cheapest")
@dataclass(frozen=True)
class Cheapest:
    """Buy the cheapest certified offer worth its price."""

    def decide(self, seen: PurchaseObservation) -> str | None:
        fitting = [
            (o.price_fen, o.listing)
            for o in seen.offers
            if o.certified and value_of(seen.value_fen, o) >= o.price_fen
        ]
        return min(fitting)[1] if fitting else None


@register("purchase", "naive")
@dataclass(frozen=True)
class Naive:
    """Best surplus, ignoring whether the offer is certified (the exchange must refuse those)."""

    def decide(self, seen: PurchaseObservation) -> str | None:
        best: tuple[int, str] | None = None
        for offer in seen.offers:
            surplus = value_of(seen.value_fen, offer) - offer.price_fen
            if surplus > 0 and (best is None or (surplus, offer.listing) > best):
                best = (surplus, offer.listing)
        return None if best is None else best[1]


# -- assessors: review ----------------------------------------------------------------------


@register("review", "quality-logistic")
@dataclass(frozen=True)
class QualityLogistic:
    """Approve with probability ``1 / (1 + exp(-(quality - midpoint) / scale))``.

    Sensitive personal information and important data shift the midpoint up by
    ``strictness_pct``: the assessor asks more of data whose misuse costs more.
    """

    midpoint_pct: Annotated[float, Field(ge=-1_000, le=1_000)] = 45.0
    scale_pct: Annotated[float, Field(gt=0, le=1_000)] = 8.0
    strictness_pct: Annotated[float, Field(ge=-1_000, le=1_000)] = 10.0

    def __post_init__(self) -> None:
        if not self.scale_pct > 0:
            raise ValueError("scale_pct must be > 0")

    def decide(self, seen: ReviewObservation) -> ReviewDecision:
        midpoint = self.midpoint_pct
        reasons: list[str] = []
        if seen.sensitive:
            midpoint += self.strictness_pct
            reasons.append("sensitive personal information: stricter review")
        if seen.classification != "general":
            midpoint += self.strictness_pct
            reasons.append(f"{seen.classification} data: stricter review")
        probability = _logistic((seen.quality_pct - midpoint) / self.scale_pct)
        approved = seen.draw < probability
        reasons.append(
            f"quality {seen.quality_pct} vs midpoint {midpoint:g}: "
            f"{'approved' if approved else 'rejected'}"
        )
        return ReviewDecision(approved, tuple(reasons))


# -- regulators and certifiers: clearance -------------------------------------------------


@register("clearance", "risk-weighted")
@dataclass(frozen=True)
class RiskWeighted:
    """Approve with probability ``approval_rate``, less ``important_penalty`` for important data
    and ``sensitive_penalty`` for sensitive personal information (the risks a security
    assessment weighs, 2022 Measures Art. 8), more ``renewal_bonus`` for a renewal of an
    approval already held."""

    approval_rate: Annotated[float, Field(ge=0, le=1)] = 0.9
    important_penalty: Annotated[float, Field(ge=0, le=1)] = 0.15
    sensitive_penalty: Annotated[float, Field(ge=0, le=1)] = 0.05
    renewal_bonus: Annotated[float, Field(ge=0, le=1)] = 0.05

    def decide(self, seen: ClearanceObservation) -> ClearanceVerdict:
        chance = self.approval_rate
        reasons: list[str] = []
        if seen.important:
            chance -= self.important_penalty
            reasons.append("important data: stricter review")
        if seen.sensitive:
            chance -= self.sensitive_penalty
            reasons.append("sensitive personal information")
        if seen.renewal:
            chance += self.renewal_bonus
            reasons.append("renewal of an approval held")
        chance = min(1.0, max(0.0, chance))
        approved = seen.draw < chance
        reasons.append(f"{'approved' if approved else 'refused'} (probability {chance:.2f})")
        return ClearanceVerdict(approved, tuple(reasons))
