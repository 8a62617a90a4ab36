"""Comparing policies on common random numbers: ``dxsim compare SCENARIO --policy A --policy B``.

Every variant runs the same scenario with only ``[crossborder] pack`` changed. Replication ``r``
of every variant uses the same seed (the scenario's seed + r), and every component draws from a
stream named for it (:mod:`scenarios.streams`), so a variant differs from another only where the
policy makes it differ: arrivals, values, datasets are the same numbers. Each headline figure is
reported as its mean per variant and the paired difference to the first policy, with a 95 %
confidence interval from Student's t distribution over the replications' differences (the paired
t interval: mean ± t₀.₉₇₅,ₙ₋₁ · s / √n).

Replications run in worker processes (the standard library's process pool, one per core by
default); each writes its ledger to a scratch directory, folds it, checks its invariants, and
removes it. A broken invariant in any replication is reported, never averaged over.
"""

from __future__ import annotations

import math
import multiprocessing
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import KeySecret
from marketplace.metrics import Metrics
from scenarios.keys import run_keys
from scenarios.plugins import loaded_plugins, restore_plugins
from scenarios.run import run_scenario
from scenarios.schema import Scenario

__all__ = ["HEADLINES", "Comparison", "Headline", "compare", "headline_figures"]


def _wait(m: Metrics, mechanism: str) -> float | None:
    found = m.crossborder["mechanism_wait_days"].get(mechanism)
    return None if found is None else found["p50"]


def _approved(m: Metrics, mechanism: str) -> float:
    return float(m.crossborder["decisions"].get(mechanism, {}).get("approved", 0))


#: (label, unit, figure): what a policy team looks at first.
HEADLINES: list[tuple[str, str, Callable[[Metrics], float | None]]] = [
    ("contracts", "", lambda m: m.trades),
    ("cross-border contracts", "", lambda m: m.cross_border_trades),
    ("delivered abroad", "", lambda m: m.crossborder["delivered_abroad"]),
    ("refused transfers", "", lambda m: sum(m.crossborder["refusals"].values())),
    ("refused value", "¥", lambda m: m.crossborder["refused_value_fen"] / 100),
    ("cancelled (mechanism refused)", "", lambda m: m.crossborder["cancelled_abroad"]),
    ("security assessments approved", "", lambda m: _approved(m, "security-assessment")),
    ("standard contracts filed", "", lambda m: _approved(m, "standard-contract")),
    ("certifications", "", lambda m: _approved(m, "certification")),
    ("security-assessment wait, median", "days", lambda m: _wait(m, "security-assessment")),
    ("standard-contract wait, median", "days", lambda m: _wait(m, "standard-contract")),
    ("regulator backlog, mean", "", lambda m: m.crossborder["regulator_backlog_time_mean"]),
    (
        "exporter-years past 100k people",
        "",
        lambda m: m.crossborder["exporter_years_over"]["pi_100k"],
    ),
    ("important data delivered abroad", "", lambda m: m.crossborder["important_delivered_abroad"]),
    ("contracts still in escrow at the end", "", lambda m: m.in_escrow),
    ("trade volume", "¥", lambda m: m.volume_fen / 100),
    ("total surplus", "¥", lambda m: m.total_surplus_fen / 100),
]


def headline_figures(metrics: Metrics) -> dict[str, float | None]:
    figures: dict[str, float | None] = {}
    for label, _unit, figure in HEADLINES:
        value = figure(metrics)
        figures[label] = None if value is None else float(value)
    return figures


@dataclass(frozen=True)
class _Task:
    scenario: str  # JSON of the variant's scenario
    policy: str
    replication: int
    secret: str


def _run_one(task: _Task) -> tuple[str, int, dict[str, float | None], list[str]]:
    """One replication in a worker: run, fold, check; the scratch directory is removed."""
    scenario = Scenario.model_validate_json(task.scenario)
    scratch = Path(tempfile.mkdtemp(prefix="dxsim-compare-"))
    try:
        keys = run_keys(KeySecret.from_hex(task.secret), scenario.run.seed)
        result = run_scenario(scenario, scratch / "run", keys=keys, check_determinism=False)
        broken = [f"{r.name}: {r.detail}" for r in result.invariants if not r.ok]
        return task.policy, task.replication, headline_figures(result.metrics), broken
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class Headline:
    label: str
    unit: str
    means: dict[str, float | None]
    differences: dict[str, tuple[float, float, float] | None]  # vs the first: mean, low, high

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "means": self.means,
            "paired_difference": {
                policy: None if d is None else {"mean": d[0], "ci95": [d[1], d[2]]}
                for policy, d in self.differences.items()
            },
        }


@dataclass(frozen=True)
class Comparison:
    scenario: str
    policies: list[str]
    replications: int
    seeds: list[int]
    days: float
    headlines: list[Headline]
    broken: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "policies": self.policies,
            "replications": self.replications,
            "seeds": self.seeds,
            "days": self.days,
            "headlines": [h.to_json() for h in self.headlines],
            "broken_invariants": self.broken,
        }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def paired_interval(differences: list[float]) -> tuple[float, float, float] | None:
    """Mean and 95 % paired t interval of ``differences`` (None for fewer than two)."""
    n = len(differences)
    if n < 2:
        return None
    mean = sum(differences) / n
    variance = sum((d - mean) ** 2 for d in differences) / (n - 1)
    from scipy import stats  # imported when used: it costs every dxsim command a second

    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(variance / n)
    return mean, mean - half, mean + half


def compare(
    scenario: Scenario,
    name: str,
    policies: list[str],
    replications: int,
    *,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run every policy × replication and summarise (see the module docstring)."""
    secret = KeySecret.generate().to_hex()  # scratch ledgers: any keys will do
    base_seed = scenario.run.seed
    seeds = [base_seed + r for r in range(replications)]
    tasks = []
    for policy in policies:
        section = scenario.crossborder.model_copy(update={"pack": policy})
        for replication, seed in enumerate(seeds):
            variant = scenario.model_copy(
                update={
                    "crossborder": section,
                    "run": scenario.run.model_copy(update={"seed": seed}),
                    "ledger": scenario.ledger.model_copy(update={"verify": "inline"}),
                }
            )
            tasks.append(_Task(variant.model_dump_json(), policy, replication, secret))
    results: dict[tuple[str, int], dict[str, float | None]] = {}
    broken: list[str] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=restore_plugins,
        initargs=(loaded_plugins(),),
    ) as pool:
        futures = [pool.submit(_run_one, task) for task in tasks]
        for done, future in enumerate(as_completed(futures), start=1):
            policy, replication, figures, problems = future.result()
            results[(policy, replication)] = figures
            broken += [f"{policy} replication {replication}: {p}" for p in problems]
            if progress is not None:
                progress(done, len(tasks))
    headlines = []
    first = policies[0]
    for label, unit, _figure in HEADLINES:
        means: dict[str, float | None] = {}
        differences: dict[str, tuple[float, float, float] | None] = {}
        for policy in policies:
            values = [results[(policy, r)][label] for r in range(replications)]
            means[policy] = _mean([v for v in values if v is not None])
        for policy in policies[1:]:
            pairs = [
                (results[(policy, r)][label], results[(first, r)][label])
                for r in range(replications)
            ]
            differences[policy] = paired_interval(
                [b - a for b, a in pairs if b is not None and a is not None]
            )
        headlines.append(Headline(label, unit, means, differences))
    return Comparison(name, policies, replications, seeds, scenario.run.days, headlines, broken)
