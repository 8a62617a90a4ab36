"""Service-time and parameter distributions, chosen in the scenario by a ``dist`` tag.

Each is a frozen pydantic model with one method, ``sample(rng)``, drawing from a numpy
``Generator`` the caller owns (one stream per component, so variants share random numbers).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Beta",
    "Constant",
    "Distribution",
    "Exponential",
    "LogNormal",
    "Triangular",
    "Uniform",
    "UniformInt",
]


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def sample(self, rng: np.random.Generator) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


class Constant(_Dist):
    dist: Literal["constant"] = "constant"
    value: float

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    def mean(self) -> float:
        return self.value


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


class Exponential(_Dist):
    dist: Literal["exponential"] = "exponential"
    mean_value: float = Field(gt=0, alias="mean")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_value))

    def mean(self) -> float:
        return self.mean_value


class LogNormal(_Dist):
    """Log-normal given its median and the sigma of the underlying normal (right-skewed sizes,
    prices and valuations)."""

    dist: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(math.log(self.median), self.sigma))

    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)


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


Distribution = Annotated[
    Constant | Uniform | UniformInt | Exponential | LogNormal | Beta | Triangular,
    Field(discriminator="dist"),
]
