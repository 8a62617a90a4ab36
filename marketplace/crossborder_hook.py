"""The trade-time hook for cross-border transfers.

When a contract's destination differs from the data's origin, trading asks a :class:`TransferGate`
for a decision on the transfer's facts (in the fixed format of ``specs/crossborder-facts.md``).
``forbidden`` and ``needs-information`` are refusals; ``conditional`` carries one
:class:`Requirement` per policy pack that asked for something: each lists mechanisms any one of
which meets it, and the clearance stage (:mod:`marketplace.clearance`) obtains one per
requirement before any data moves. :class:`OpenBorders` is the explicit no-policy baseline; a
policy pack plugs in through :class:`marketplace.crossborder.PackGate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

__all__ = ["GateDecision", "OpenBorders", "Requirement", "TransferGate"]

Outcome = Literal["allowed", "conditional", "forbidden", "needs-information"]
_NONE: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Requirement:
    """What one pack requires: any one of ``any_of``; ``fastest`` by the pack's legal lead time
    (``lead_time_days`` working days); ``valid_days`` per mechanism where the law sets how long
    a passed mechanism lasts."""

    pack: str
    any_of: tuple[str, ...]
    fastest: str
    lead_time_days: int
    rules: tuple[str, ...]
    lead_times: Mapping[str, int] = field(default_factory=lambda: _NONE)
    valid_days: Mapping[str, int] = field(default_factory=lambda: _NONE)


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The combined decision of every pack consulted; ``rules`` are the ids that fired."""

    outcome: Outcome
    rules: tuple[str, ...]
    requirements: tuple[Requirement, ...] = ()
    missing: tuple[str, ...] = ()


class TransferGate(Protocol):
    def evaluate(self, facts: dict[str, Any]) -> GateDecision: ...


@dataclass(frozen=True)
class OpenBorders:
    """No policy pack: every transfer is allowed, and the decision says so."""

    def evaluate(self, facts: dict[str, Any]) -> GateDecision:
        return GateDecision("allowed", ("open-borders/no-policy-pack",))
