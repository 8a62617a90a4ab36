"""A policy pack behind the trade-time hook (:class:`marketplace.crossborder_hook.TransferGate`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketplace.crossborder.engine import Pack
from marketplace.crossborder_hook import GateDecision

__all__ = ["PackGate"]


@dataclass(frozen=True)
class PackGate:
    """Decides each transfer with ``pack``; the facts are a trusted dict of the Transfer's shape."""

    pack: Pack

    def evaluate(self, facts: dict[str, Any]) -> GateDecision:
        d = self.pack.evaluate(facts)
        return GateDecision(d.outcome, d.any_of, d.lead_time_days, d.rules, d.fastest)
