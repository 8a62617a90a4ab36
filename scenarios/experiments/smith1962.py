"""``dxsim experiment smith1962``: Smith's test 1 run on the exchange.

V. L. Smith, "An Experimental Study of Competitive Market Behavior", Journal of Political
Economy 70(2), 1962, §III, test 1 (chart 1): 11 buyers with one unit each, valued at $3.25
down to $0.75, and 11 sellers with one unit each, costing $0.75 up to $3.25, in steps of
$0.25; supply meets demand at $2.00 with 6 units. The market is a continuous double auction
over several trading periods, units restored each period. Smith's human traders converged on
the equilibrium within the periods; his measure of it is the *coefficient of convergence*
α = 100 σ₀ / P₀, where σ₀ is the root mean square deviation of a period's trade prices from
the equilibrium price P₀ (§III).

Here the traders are machines (the scenario's ``strategy``: ZI-C by default, after Gode &
Sunder 1993, or ZIP, Cliff 1997) trading in the built-in ``smith1962`` scenario through the
exchange's order book; each replication is a whole dxsim run with its own seed, and each
figure is folded from that run's contracts. The published figures beside ours are the
equilibrium Smith's design induces; the verdict on the last period is the issue's test:
its mean price within $0.10 of $2.00.
"""

from __future__ import annotations

import math
import statistics
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.populations_lab import TraderPopulation
from scenarios.catalog import resolve
from scenarios.experiments.base import Experiment, Figure, Outcome, Plan, PlotSpec, Replication
from scenarios.experiments.lab_runs import LabTrade, efficiency, max_surplus, run_lab
from scenarios.load import load
from scenarios.schema import Scenario

__all__ = ["EXPERIMENT", "Smith1962", "convergence_alpha"]

SOURCE = "Smith 1962, chart 1"


class Smith1962(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    #: The laboratory scenario (a built-in name or a file): its traders and session.
    scenario: str = "smith1962"
    strategy: Literal["zi-c", "zi-u", "zip", "truthful", "shading"] = "zi-c"
    periods: int = Field(default=5, ge=1, le=100)
    shouts_per_period: int = Field(default=400, ge=1, le=100_000)
    equilibrium_price_fen: int = Field(default=200, ge=1)
    equilibrium_quantity: int = Field(default=6, ge=0)
    #: The test on the last period: its mean price within this many fen of equilibrium.
    tolerance_fen: int = Field(default=10, ge=0)


def convergence_alpha(prices: list[int], equilibrium_fen: int) -> float:
    """Smith's α = 100 σ₀ / P₀, σ₀ the root mean square deviation of ``prices`` from the
    equilibrium ``P₀`` (NaN for a period without trades)."""
    if not prices:
        return float("nan")
    sigma = math.sqrt(sum((p - equilibrium_fen) ** 2 for p in prices) / len(prices))
    return 100.0 * sigma / equilibrium_fen


def scenario_of(config: Smith1962) -> Scenario:
    """The laboratory scenario with the experiment's strategy, periods and shouts."""
    base = load(resolve(config.scenario), Scenario)
    if base.session is None:
        raise ValueError(f"{config.scenario} has no [session]: not a laboratory scenario")
    session = base.session.model_copy(
        update={"periods": config.periods, "shouts_per_period": config.shouts_per_period}
    )
    days = session.start_day + session.periods * session.period_days + 1
    population = [
        TraderPopulation.model_validate(p.model_dump() | {"strategy": config.strategy})
        if isinstance(p, TraderPopulation)
        else p
        for p in base.population
    ]
    scenario = base.model_copy(update={"session": session, "population": population})
    return scenario.with_overrides(days=days)


def schedules(scenario: Scenario) -> tuple[list[list[int]], list[list[int]]]:
    traders = [p for p in scenario.population if isinstance(p, TraderPopulation)]
    buyers = [units for p in traders if p.side == "buy" for units in p.units_fen]
    sellers = [units for p in traders if p.side == "sell" for units in p.units_fen]
    return buyers, sellers


def _replicate(config: Smith1962, replication: Replication) -> list[LabTrade]:
    return run_lab(scenario_of(config), replication.seed)


def _mean(values: list[int]) -> float:
    return statistics.fmean(values) if values else float("nan")


def run(config: Smith1962, plan: Plan) -> Outcome:
    scenario = scenario_of(config)
    best = max_surplus(*schedules(scenario))
    runs = plan.map(_replicate, config)
    p0 = config.equilibrium_price_fen
    figures: list[Figure] = []
    for period in range(config.periods):
        prices = [[t.price_fen for t in trades if t.period == period] for trades in runs]
        last = period == config.periods - 1
        means = tuple(_mean(p) / 100 for p in prices)
        mean_of_means = statistics.fmean([m for m in means if math.isfinite(m)] or [math.nan])
        figures.append(
            Figure(
                f"period {period + 1}: mean price ($)",
                means,
                f"{p0 / 100:.2f} (equilibrium)",
                SOURCE,
                abs(mean_of_means * 100 - p0) <= config.tolerance_fen if last else None,
                series="mean price ($)",
                x=period + 1,
            )
        )
        figures.append(
            Figure(
                f"period {period + 1}: α (%)",
                tuple(convergence_alpha(p, p0) for p in prices),
                "falls by period" if period else "—",
                SOURCE if period else "",
                digits=1,
            )
        )
        figures.append(
            Figure(
                f"period {period + 1}: trades",
                tuple(float(len(p)) for p in prices),
                str(config.equilibrium_quantity),
                SOURCE,
                digits=1,
            )
        )
    figures.append(
        Figure(
            "efficiency, all periods (%)",
            tuple(efficiency(trades, config.periods, best) for trades in runs),
            "—",
            "",
            digits=1,
        )
    )
    notes = (
        f"{config.strategy} traders, {config.shouts_per_period} shouts a period, "
        f"{plan.reps} runs of the '{config.scenario}' scenario (each a whole, verified dxsim run).",
        f"Verdict: the last period's mean price within ${config.tolerance_fen / 100:.2f} of "
        f"${p0 / 100:.2f}.",
    )
    plot = PlotSpec("Smith (1962) test 1 on the exchange", "trading period", "mean price ($)")
    return Outcome(tuple(figures), notes, plot)


EXPERIMENT = Experiment(
    name="smith1962",
    title="Smith's test 1: a double auction converging on its competitive equilibrium",
    source=SOURCE,
    config=Smith1962,
    run=run,
    reps=20,
    workers=0,
)
