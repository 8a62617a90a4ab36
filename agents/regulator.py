"""Regulators and certifiers: staff who take cross-border applications from a queue and decide.

A regulator population is the CAC's staff for one route (security assessments, or the provincial
CAC's standard-contract filing desk); a certifier population, the certification bodies. Each
agent takes one application at a time, spends a review time in working days (counted on the
run's calendar), and signs its decision.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from agents.participant import Participant
from agents.populations import CertifierPopulation, RegulatorPopulation
from agents.strategies import ClearanceObservation, ClearanceStrategy
from marketplace.calendar import DAY_SECONDS
from marketplace.clearance import ClearanceRequest
from marketplace.entries_crossborder import Route

__all__ = ["ClearanceStaff"]


class ClearanceStaff(Participant[RegulatorPopulation | CertifierPopulation]):
    strategy: ClearanceStrategy

    @property
    def route(self) -> Route:
        spec = self.spec
        return spec.handles if isinstance(spec, RegulatorPopulation) else "certification"

    def review_applications(self) -> Generator[simpy.Event, Any, None]:
        """Process: one application at a time, forever."""
        exchange = self.exchange
        clearance, env = exchange.clearance, exchange.env
        while True:
            request: ClearanceRequest = yield clearance.next_application(self.route)
            working_days = math.ceil(self.spec.review_working_days.sample(self.rng))
            now = exchange.now_s()
            done = clearance.calendar.after_working_days(now, working_days)
            yield env.timeout((done - now) / DAY_SECONDS)
            spec = request.contract.listing.spec
            seen = ClearanceObservation(
                mechanism=request.mechanism,
                important=spec.classification != "general",
                sensitive=spec.sensitive_pi_subjects > 0,
                renewal=request.renewal,
                draw=float(self.rng.random()),
            )
            verdict = self.strategy.decide(seen)
            clearance.decide(
                [self.identity], request, verdict.approved, working_days, list(verdict.reasons)
            )
