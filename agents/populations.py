"""Population specs: how many agents of a kind, and the distributions their parameters come from.

The scenario schema composes these (a discriminated union on ``kind``); the composition root turns
each into agents with their own random streams.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.strategies import STRATEGIES, StrategyKind, make_strategy, strategy_names
from marketplace.distributions import Beta, Distribution, LogNormal, UniformInt
from marketplace.errors import MarketError
from marketplace.pricing import MECHANISMS, make_mechanism

__all__ = ["AssessorPopulation", "BuyerPopulation", "Population", "ProviderPopulation"]

Licence = Literal["download", "api", "compute-in-place"]


def _default_licence_weights() -> dict[Licence, int]:
    return {"download": 5, "api": 3, "compute-in-place": 2}


DEFAULT_CATEGORIES = ["mobility", "finance", "health", "retail", "energy", "manufacturing"]
#: ISO 3166-1 alpha-2, upper case ("CN", "SG", "HK", "DE"...).
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class _Population(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int = Field(ge=0)
    strategy: str
    strategy_params: dict[str, Any] = Field(default_factory=dict)

    strategy_kind: ClassVar[StrategyKind]

    @field_validator("strategy")
    @classmethod
    def _strategy_exists(cls, name: str) -> str:
        if name not in STRATEGIES[cls.strategy_kind]:
            allowed = ", ".join(repr(n) for n in strategy_names(cls.strategy_kind))
            raise ValueError(f"unknown {cls.strategy_kind} strategy {name!r}; allowed: {allowed}")
        return name

    @model_validator(mode="after")
    def _strategy_params_fit(self) -> _Population:
        make_strategy(self.strategy_kind, self.strategy, self.strategy_params)
        return self


class ProviderPopulation(_Population):
    """Data providers: each brings datasets to market over the listing window."""

    kind: Literal["provider"] = "provider"
    strategy_kind: ClassVar[StrategyKind] = "pricing"
    strategy: str = "demand-adaptive"
    endowment_fen: int = Field(default=5_000_000, ge=0)
    datasets: Distribution = UniformInt(low=2, high=6)
    listing_window_days: float = Field(default=60.0, ge=0)
    categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1)
    size_mb: Distribution = LogNormal(median=2_000, sigma=1.2)
    records_per_mb: int = Field(default=5_000, ge=0)
    personal_share: float = Field(default=0.4, ge=0, le=1)
    pi_subjects: Distribution = LogNormal(median=50_000, sigma=1.0)
    sensitive_share: float = Field(default=0.1, ge=0, le=1)
    important_share: float = Field(default=0.05, ge=0, le=1)
    core_share: float = Field(default=0.0, ge=0, le=1)
    origin: Country = "CN"
    quality_pct: Distribution = Beta(a=5, b=3, low=0, high=100)
    unit_cost_fen: Distribution = LogNormal(median=200_000, sigma=0.6)
    pricing: str = "posted"
    pricing_params: dict[str, Any] = Field(default_factory=dict)
    reprice_every_days: float = Field(default=14.0, gt=0)

    @field_validator("pricing")
    @classmethod
    def _known_mechanism(cls, name: str) -> str:
        if name not in MECHANISMS:
            allowed = ", ".join(repr(n) for n in sorted(MECHANISMS))
            raise ValueError(f"unknown pricing mechanism {name!r}; allowed: {allowed}")
        return name

    @model_validator(mode="after")
    def _mechanism_params(self) -> ProviderPopulation:
        try:
            make_mechanism(self.pricing, self.pricing_params)
        except (TypeError, MarketError) as exc:
            raise ValueError(f"pricing_params for {self.pricing!r}: {exc}") from None
        return self


class BuyerPopulation(_Population):
    """Data buyers: Poisson arrivals of needs, each with a private value for the data."""

    kind: Literal["buyer"] = "buyer"
    strategy_kind: ClassVar[StrategyKind] = "purchase"
    strategy: str = "best-surplus"
    endowment_fen: int = Field(default=50_000_000, ge=0)
    arrival_rate_per_day: float = Field(default=0.1, gt=0)
    value_fen: Distribution = LogNormal(median=600_000, sigma=0.8)
    categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1)
    consideration_set: int = Field(default=20, gt=0)
    licence_weights: dict[Licence, int] = Field(default_factory=_default_licence_weights)
    duration_days: int = Field(default=365, gt=0)
    home: Country = "CN"
    cross_border_share: float = Field(default=0.0, ge=0, le=1)
    foreign_destinations: list[Country] = Field(default_factory=lambda: ["SG", "HK", "DE", "US"])

    @model_validator(mode="after")
    def _somewhere_to_go(self) -> BuyerPopulation:
        if self.cross_border_share > 0 and not self.foreign_destinations:
            raise ValueError("cross_border_share > 0 needs at least one foreign_destinations entry")
        return self

    @field_validator("licence_weights")
    @classmethod
    def _some_weight(cls, weights: dict[str, int]) -> dict[str, int]:
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("licence weights must be >= 0 and not all zero")
        return weights


class AssessorPopulation(_Population):
    """Rights assessors: each reviews one application at a time."""

    kind: Literal["assessor"] = "assessor"
    strategy_kind: ClassVar[StrategyKind] = "review"
    strategy: str = "quality-logistic"
    endowment_fen: int = Field(default=0, ge=0)
    review_days: Distribution = LogNormal(median=2.0, sigma=0.5)


Population = ProviderPopulation | BuyerPopulation | AssessorPopulation
