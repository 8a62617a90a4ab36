"""Rights assessors: take applications from the queue, review, decide."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from agents.populations import AssessorPopulation
from agents.strategies import ReviewObservation, ReviewStrategy, make_strategy
from ledger import Identity
from marketplace.exchange import Exchange
from marketplace.rights import Application

__all__ = ["Assessor"]


class Assessor:
    def __init__(
        self,
        identity: Identity,
        exchange: Exchange,
        spec: AssessorPopulation,
        rng: np.random.Generator,
    ) -> None:
        self.identity = identity
        self.exchange = exchange
        self.spec = spec
        self.rng = rng
        self.strategy: ReviewStrategy = make_strategy("review", spec.strategy, spec.strategy_params)

    def review_applications(self) -> Generator[simpy.Event, Any, None]:
        """Process: one application at a time, forever."""
        env, rights = self.exchange.env, self.exchange.rights
        while True:
            application: Application = yield rights.next_application()
            days = max(0.0, self.spec.review_days.sample(self.rng))
            yield env.timeout(days)
            dataset = application.listing.spec
            seen = ReviewObservation(
                quality_pct=dataset.quality_pct,
                classification=dataset.classification,
                sensitive=dataset.sensitive_pi_subjects > 0,
                draw=float(self.rng.random()),
            )
            decision = self.strategy.decide(seen)
            rights.decide(self.identity, application, decision.approved, decision.reasons, days)
