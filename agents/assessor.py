"""Rights assessors: each reviews for its specialty, taking applications from that step's queue."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from agents.participant import Participant
from agents.populations import AssessorPopulation
from agents.strategies import ReviewObservation, ReviewStrategy
from marketplace.rights import Application

__all__ = ["Assessor"]


class Assessor(Participant[AssessorPopulation]):
    strategy: ReviewStrategy

    def review_applications(self) -> Generator[simpy.Event, Any, None]:
        """Process: one application at a time, forever; the registry decides once every step
        has passed (or one has failed)."""
        env, rights = self.exchange.env, self.exchange.rights
        while True:
            application: Application = yield rights.next_application(self.spec.specialty)
            days = self.spec.review_days.sample(self.rng)
            yield env.timeout(days)
            dataset = application.listing.spec
            seen = ReviewObservation(
                quality_pct=dataset.quality_pct,
                classification=dataset.classification,
                sensitive=dataset.sensitive_pi_subjects > 0,
                draw=float(self.rng.random()),
            )
            decision = self.strategy.decide(seen)
            rights.review(self.identity, application, decision.approved, decision.reasons, days)
