"""The top floor: scenario files and their schema, the composition root, runs, and the CLI."""

from scenarios.build import World, build
from scenarios.load import ScenarioError, load
from scenarios.run import RunResult, run_scenario
from scenarios.schema import Scenario

__all__ = ["RunResult", "Scenario", "ScenarioError", "World", "build", "load", "run_scenario"]
