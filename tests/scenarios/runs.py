"""Short runs of the built-in scenarios for the report and export tests (a few seconds each)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from scenarios.catalog import resolve
from scenarios.cli import app
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.run import RunResult, run_scenario
from scenarios.schema import Scenario
from tests.keys import TEST_SECRET


def short_run(
    name: str, out: Path, *, days: float, seed: int | None = None, force: bool = False
) -> RunResult:
    """Run built-in scenario ``name`` for ``days`` into ``out`` (no determinism rerun)."""
    scenario = load(resolve(name), Scenario).with_overrides(days=days, seed=seed)
    return run_scenario(
        scenario,
        out,
        keys=run_keys(TEST_SECRET, scenario.run.seed),
        source_text=resolve(name).read_text(encoding="utf-8"),
        check_determinism=False,
        force=force,
    )


@dataclass(frozen=True)
class Done:
    """What a command did, in the shape of ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Done:
    """Run ``dxsim ARGS`` in this process (an interpreter start costs a second; the subprocess
    tests of the entry point itself are in test_cli_run and test_exit_codes)."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)
