"""Running a laboratory scenario for an experiment: one whole dxsim run, its trades back.

The run is a real one (exchange, signed ledger, invariants) into a scratch directory, under a
key secret made for it; what the experiment analyses is read back from the ledger (the
contracts: price, the buyer's unit value and the seller's unit cost, recorded as research
ground truth), so every figure an experiment reports is a fold over a verified log.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ledger import KeySecret, Store, parse_leaf
from scenarios.keys import run_keys
from scenarios.run import run_scenario
from scenarios.schema import Scenario

__all__ = ["LabTrade", "efficiency", "max_surplus", "run_lab"]

DAY = 86_400


@dataclass(frozen=True, slots=True)
class LabTrade:
    period: int
    price_fen: int
    value_fen: int
    cost_fen: int

    @property
    def surplus_fen(self) -> int:
        return self.value_fen - self.cost_fen


def run_lab(scenario: Scenario, seed: int) -> list[LabTrade]:
    """Run ``scenario`` (which has a ``[session]``) with ``seed``; its trades, in order.

    Raises:
        RuntimeError: the run broke an invariant (a bug, not an experimental result).
    """
    session = scenario.session
    if session is None:
        raise ValueError("a laboratory scenario needs a [session]")
    run = scenario.with_overrides(seed=seed)
    with tempfile.TemporaryDirectory(prefix="dxsim-lab-") as scratch:
        out = Path(scratch) / "run"
        result = run_scenario(
            run, out, keys=run_keys(KeySecret.generate(), seed), check_determinism=False
        )
        if not result.ok:
            broken = [i.detail for i in result.invariants if not i.ok]
            raise RuntimeError(f"a laboratory run broke an invariant: {broken[0]}")
        trades: list[LabTrade] = []
        store = Store(out / "ledger.db")
        try:
            for rows in store.iter_rows():
                for _seq, time, kind, _actor, leaf in rows:
                    if kind != "trade.contract":
                        continue
                    body = parse_leaf(leaf).body
                    period = int((time / DAY - session.start_day) // session.period_days)
                    research = body["research"]
                    trades.append(
                        LabTrade(
                            period,
                            body["price_fen"],
                            research["buyer_value_fen"],
                            research["provider_cost_fen"],
                        )
                    )
        finally:
            store.close()
    return trades


def max_surplus(buyers: list[list[int]], sellers: list[list[int]]) -> int:
    """The competitive equilibrium's surplus: the highest values matched with the lowest
    costs while value ≥ cost (the area between the demand and supply schedules)."""
    values = sorted((v for units in buyers for v in units), reverse=True)
    costs = sorted(c for units in sellers for c in units)
    return sum(v - c for v, c in zip(values, costs, strict=False) if v >= c)


def efficiency(trades: list[LabTrade], periods: int, best: int) -> float:
    """Allocative efficiency (Gode & Sunder 1993, §III): the surplus realised over all
    periods as a share of ``periods`` × the equilibrium surplus, in percent."""
    if best <= 0 or periods <= 0:
        return float("nan")
    return 100.0 * sum(t.surplus_fen for t in trades) / (periods * best)
