"""The exchange operator: runs the settlement and hosting-billing cycles."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from marketplace.exchange import Exchange

__all__ = ["Operator"]


class Operator:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def run_settlement_cycles(self) -> Generator[simpy.Event, Any, None]:
        every = self.exchange.config.operation.settlement_every_days
        while True:
            yield self.exchange.env.timeout(every)
            self.exchange.operation.settle()

    def run_hosting_billing(self) -> Generator[simpy.Event, Any, None]:
        every = self.exchange.config.fees.hosting_period_days
        while True:
            yield self.exchange.env.timeout(every)
            self.exchange.storage.bill_hosting()
