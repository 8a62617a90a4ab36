"""Service-time and parameter distributions, chosen in the scenario by a ``dist`` tag.

Each is a frozen pydantic model with one method, ``sample(rng)``, drawing from a numpy
``Generator`` the caller owns (one stream per component, so variants share random numbers).

``reach()`` is the range a distribution's draws fall in: its support when it is bounded, else
the quantiles that leave out a tail of less than 10⁻¹⁷ (an exponential beyond 40 means, a
log-normal beyond 9 σ above its median). Scenario fields bound it (:func:`within`): a duration
may not reach below 0 days, a price not beyond the largest amount the exchange handles. So a
negative service time, a NaN parameter or a draw that would overflow a ledger field is refused
when the scenario is loaded, never clamped or discovered mid-run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Beta",
    "Constant",
    "Distribution",
    "Exponential",
    "LogNormal",
    "Triangular",
    "Uniform",
    "UniformInt",
    "within",
]

#: An exponential's draws stay below 40 means, a log-normal's below 9 sigma above its median,
#: with probability 1 - 10⁻¹⁷ or more (e^-40 ≈ 4·10⁻¹⁸; P(Z > 9) ≈ 1.1·10⁻¹⁹).
EXPONENTIAL_REACH_MEANS = 40.0
LOGNORMAL_REACH_SIGMAS = 9.0
_CONFIG = ConfigDict(
    frozen=True, extra="forbid", strict=True, allow_inf_nan=False, validate_default=True
)


class _Dist(BaseModel):
    model_config = _CONFIG

    def sample(self, rng: np.random.Generator) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def reach(self) -> tuple[float, float]:  # pragma: no cover - abstract
        """The (low, high) range the draws fall in (see the module docstring)."""
        raise NotImplementedError


class Constant(_Dist):
    dist: Literal["constant"] = "constant"
    value: float

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    def mean(self) -> float:
        return self.value

    def reach(self) -> tuple[float, float]:
        return self.value, self.value


class Uniform(_Dist):
    dist: Literal["uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def reach(self) -> tuple[float, float]:
        return self.low, self.high


class UniformInt(_Dist):
    """Integers ``low..high`` inclusive."""

    dist: Literal["uniform-int"] = "uniform-int"
    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> UniformInt:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.integers(self.low, self.high + 1))

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def reach(self) -> tuple[float, float]:
        return float(self.low), float(self.high)


class Exponential(_Dist):
    dist: Literal["exponential"] = "exponential"
    mean_value: float = Field(gt=0, alias="mean")

    model_config = ConfigDict(**_CONFIG, populate_by_name=True)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_value))

    def mean(self) -> float:
        return self.mean_value

    def reach(self) -> tuple[float, float]:
        return 0.0, self.mean_value * EXPONENTIAL_REACH_MEANS


class LogNormal(_Dist):
    """Log-normal given its median and the sigma of the underlying normal (right-skewed sizes,
    prices and valuations)."""

    dist: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0)
    sigma: float = Field(ge=0, le=10)

    @field_validator("sigma")
    @classmethod
    def _no_negative_zero(cls, sigma: float) -> float:
        return sigma + 0.0  # -0.0 passes ">= 0", and numpy refuses it as "sigma < 0"

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(math.log(self.median), self.sigma))

    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    def reach(self) -> tuple[float, float]:
        spread = math.exp(LOGNORMAL_REACH_SIGMAS * self.sigma)
        return self.median / spread, self.median * spread


class Beta(_Dist):
    """Beta on ``[low, high]`` (quality scores)."""

    dist: Literal["beta"] = "beta"
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Beta:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be > low ({self.low})")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return self.low + (self.high - self.low) * float(rng.beta(self.a, self.b))

    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    def reach(self) -> tuple[float, float]:
        return self.low, self.high


class Triangular(_Dist):
    dist: Literal["triangular"] = "triangular"
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def reach(self) -> tuple[float, float]:
        return self.low, self.high


Distribution = Annotated[
    Constant | Uniform | UniformInt | Exponential | LogNormal | Beta | Triangular,
    Field(discriminator="dist"),
]


def within(low: float, high: float, unit: str) -> AfterValidator:
    """A field constraint: the distribution's draws must fall in ``[low, high]`` ``unit``.

    Use as ``Annotated[Distribution, within(0, 36_500, "days")]``.
    """

    def check(dist: _Dist) -> _Dist:
        lowest, highest = dist.reach()
        if lowest < low or highest > high:
            bounded = isinstance(dist, Constant | Uniform | UniformInt | Beta | Triangular)
            tail = "" if bounded else " (all but a 1e-17 tail)"
            name = getattr(dist, "dist", "the")
            raise ValueError(
                f"{name} draws reach [{lowest:.4g}, {highest:.4g}] {unit}{tail}; "
                f"allowed: values within [{low:g}, {high:g}] {unit}"
            )
        return dist

    checker: Callable[[_Dist], _Dist] = check
    return AfterValidator(checker)
