"""Policy packs behind the trade-time hook (:class:`marketplace.crossborder_hook.TransferGate`).

A world may need several jurisdictions' rules at once: data leaving China is read by a PRC pack,
data leaving the EEA by ``gdpr-ch5``, data leaving the US by ``us-doj-bulk``. A pack that does not
apply to a transfer says so (``allowed``, ``<pack>/not-applicable``), so the gate consults every
pack and combines: any ``forbidden`` refuses the transfer; else any ``needs-information`` refuses
it too, naming the missing facts (the exchange never guesses them); else each ``conditional``
pack adds a requirement, all of which must be met before data moves; else it is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from marketplace.crossborder.decision import Decision
from marketplace.crossborder.engine import Pack
from marketplace.crossborder_hook import GateDecision, Requirement

__all__ = ["PackGate", "requirement_of"]

YEAR_DAYS = 365


def requirement_of(decision: Decision, pack: Pack) -> Requirement:
    """A conditional decision as the requirement the clearance stage must meet."""
    assert decision.fastest is not None
    valid = {m: int(v["years"]) * YEAR_DAYS for m, v in decision.validity.items()}
    leads = {m: pack.mechanisms[m].lead_time_days for m in decision.any_of}
    return Requirement(
        pack=decision.pack,
        any_of=decision.any_of,
        fastest=decision.fastest,
        lead_time_days=decision.lead_time_days,
        rules=decision.rules,
        lead_times=leads,
        valid_days=valid,
    )


@dataclass(frozen=True)
class PackGate:
    """Decides each transfer with every pack of ``packs``; facts are a trusted dict of the
    Transfer's shape."""

    packs: Sequence[Pack]

    def __post_init__(self) -> None:
        if not self.packs:
            raise ValueError("a pack gate needs at least one pack")

    def decisions(self, facts: dict[str, Any]) -> list[Decision]:
        return [pack.evaluate(facts) for pack in self.packs]

    def evaluate(self, facts: dict[str, Any]) -> GateDecision:
        decisions = self.decisions(facts)
        refusals: tuple[Literal["forbidden", "needs-information"], ...] = (
            "forbidden",
            "needs-information",
        )
        for outcome in refusals:
            hit = [d for d in decisions if d.outcome == outcome]
            if hit:
                rules = tuple(r for d in hit for r in d.rules)
                missing = tuple(sorted({m for d in hit for m in d.missing}))
                return GateDecision(outcome, rules, (), missing)
        requirements = tuple(
            requirement_of(d, pack)
            for d, pack in zip(decisions, self.packs, strict=True)
            if d.outcome == "conditional"
        )
        rules = tuple(r for d in decisions for r in d.rules)
        return GateDecision("conditional" if requirements else "allowed", rules, requirements)
