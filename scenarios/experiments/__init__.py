"""Experiments: published results rerun as dxsim studies (``dxsim experiment NAME``).

Each experiment is a configuration (``NAME.toml`` beside this module, a pydantic model) and a
small analysis over seeded replications; it reports its figures beside the published ones
(:mod:`scenarios.experiments.base`). To add one, write a module with an ``EXPERIMENT =
Experiment(...)`` and its TOML file here, and add it to :data:`BUILTIN`.
"""

from __future__ import annotations

from typing import Any

from scenarios.cli_errors import UserError
from scenarios.experiments import agarwal_copy
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
BUILTIN: tuple[Experiment[Any], ...] = (agarwal_copy.EXPERIMENT,)


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
