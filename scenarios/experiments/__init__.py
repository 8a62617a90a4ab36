"""Experiments: published results rerun as dxsim studies (``dxsim experiment NAME``).

Each experiment is a configuration (``NAME.toml`` beside this module, a pydantic model) and a
small analysis over seeded replications; it reports its figures beside the published ones
(:mod:`scenarios.experiments.base`). To add one, write a module with an ``EXPERIMENT =
Experiment(...)`` and its TOML file here, and add it to :data:`BUILTIN`.

One that runs whole dxsim simulations gives each replication's seed to its scenario and runs
replications in worker processes (``workers=0``: one per core)::

    def _one(config: Smith1962, replication: Replication) -> list[float]:
        scenario = load(resolve(config.scenario), Scenario).with_overrides(
            seed=replication.seed, days=config.days
        )
        with tempfile.TemporaryDirectory() as scratch:
            keys = run_keys(KeySecret.generate(), scenario.run.seed)
            result = run_scenario(scenario, Path(scratch) / "run", keys=keys,
                                  check_determinism=False)
        return [...]  # its figures, from result.metrics

    def run(config: Smith1962, plan: Plan) -> Outcome:
        per_replication = plan.map(_one, config)
        return Outcome(tuple(Figure(...) for ...), notes=(...), plot=PlotSpec(...))

    EXPERIMENT = Experiment(name="smith1962", title=..., source=..., config=Smith1962,
                            run=run, reps=10, workers=0,
                            shortcuts=(Shortcut("--market", "market", "market 1..5"),))
"""

from __future__ import annotations

from typing import Any

from scenarios.cli_errors import UserError
from scenarios.experiments import agarwal_copy, gode_sunder, smith1962
from scenarios.experiments.base import (
    EXPERIMENTS_DIR,
    Experiment,
    Figure,
    Outcome,
    Plan,
    PlotSpec,
    Replication,
    Shortcut,
    interval,
)
from scenarios.experiments.config import ExperimentError, load_config

__all__ = [
    "BUILTIN",
    "EXPERIMENTS_DIR",
    "Experiment",
    "ExperimentError",
    "Figure",
    "Outcome",
    "Plan",
    "PlotSpec",
    "Replication",
    "Shortcut",
    "experiments",
    "find",
    "interval",
    "load_config",
]

#: The built-in experiments, in the order ``dxsim experiment --list`` shows them.
BUILTIN: tuple[Experiment[Any], ...] = (
    smith1962.EXPERIMENT,
    gode_sunder.EXPERIMENT,
    agarwal_copy.EXPERIMENT,
)


def experiments() -> dict[str, Experiment[Any]]:
    """Every experiment by name."""
    return {experiment.name: experiment for experiment in BUILTIN}


def find(name: str) -> Experiment[Any]:
    """The experiment called ``name``.

    Raises:
        UserError: there is none; the message lists the names there are.
    """
    found = experiments()
    if name not in found:
        raise UserError(f"unknown experiment {name!r}; allowed: {', '.join(found)}")
    return found[name]
