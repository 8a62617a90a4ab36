"""The trade-time hook for cross-border transfers.

When a contract's destination differs from the data's origin, trading asks a :class:`TransferGate`
for a decision on the transfer facts (in the fixed format of ``specs/crossborder-facts.md``).
A ``conditional`` decision lists mechanisms, any one of which makes the transfer lawful; the
operation stage completes the fastest one (a SimPy delay of its lead time, recorded as a
``crossborder.mechanism`` entry) before it delivers. The rules engine with real policy packs plugs
in here; :class:`OpenBorders` is the explicit no-policy baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["GateDecision", "OpenBorders", "TransferGate"]

Outcome = Literal["allowed", "conditional", "forbidden", "needs-information"]


@dataclass(frozen=True, slots=True)
class GateDecision:
    """``any_of``: mechanisms any one of which makes the transfer lawful; ``fastest``: the one
    the exchange will complete, taking ``lead_time_days``."""

    outcome: Outcome
    any_of: tuple[str, ...]
    lead_time_days: int
    rules: tuple[str, ...]
    fastest: str | None = None


class TransferGate(Protocol):
    def evaluate(self, facts: dict[str, Any]) -> GateDecision: ...


@dataclass(frozen=True)
class OpenBorders:
    """No policy pack: every transfer is allowed, and the decision says so."""

    def evaluate(self, facts: dict[str, Any]) -> GateDecision:
        return GateDecision("allowed", (), 0, ("open-borders/no-policy-pack",))
