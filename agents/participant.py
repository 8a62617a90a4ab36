"""What every market participant has: an identity, the exchange, its population spec, its own
random stream, and the strategy its spec names."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np

from agents.populations import (
    AssessorPopulation,
    BuyerPopulation,
    CertifierPopulation,
    ProviderPopulation,
    RegulatorPopulation,
)
from agents.strategies import make_strategy
from ledger import Identity
from marketplace.exchange import Exchange

__all__ = ["Participant"]

SpecT = TypeVar(
    "SpecT",
    ProviderPopulation,
    BuyerPopulation,
    AssessorPopulation,
    RegulatorPopulation | CertifierPopulation,
)


class Participant(Generic[SpecT]):
    def __init__(
        self, identity: Identity, exchange: Exchange, spec: SpecT, rng: np.random.Generator
    ) -> None:
        self.identity = identity
        self.exchange = exchange
        self.spec: SpecT = spec
        self.rng = rng
        self.strategy: Any = make_strategy(spec.strategy_kind, spec.strategy, spec.strategy_params)
