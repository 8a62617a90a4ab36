"""Run a scenario into a run directory, then check the five invariants on what it wrote.

A run directory holds everything needed to re-check a study: ``scenario.toml`` (the file as
given), ``scenario.json`` (the resolved scenario with every default and override), ``ledger.db``,
``metrics.json`` (a fold over the ledger), ``invariants.json`` and ``summary.txt``.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from marketplace.invariants import InvariantResult, check_invariants
from marketplace.metrics import Metrics, fold
from scenarios.build import KeySource, World, build
from scenarios.cli_errors import UserError
from scenarios.schema import Scenario

__all__ = ["RunResult", "prepare_run_dir", "run_scenario"]

Progress = Callable[[World, float], None]


@dataclass(frozen=True)
class RunResult:
    out: Path
    scenario: Scenario
    root: bytes
    entries: int
    trades: int
    seconds: float
    metrics: Metrics
    invariants: list[InvariantResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.invariants)


def prepare_run_dir(out: Path) -> None:
    """Create ``out``; refuse one that already holds files (a ledger is never overwritten)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} already exists and is not empty; choose another --out")
    out.mkdir(parents=True, exist_ok=True)


def _simulate(
    scenario: Scenario, ledger_path: Path, progress: Progress | None, keys: KeySource | None
) -> World:
    world = build(scenario, ledger_path, keys=keys)
    world.run(None if progress is None else (lambda now, _size: progress(world, now)))
    return world


def run_scenario(
    scenario: Scenario,
    out: Path,
    *,
    source_text: str | None = None,
    progress: Progress | None = None,
    check_determinism: bool = True,
    keys: KeySource | None = None,
) -> RunResult:
    """Simulate ``scenario`` into ``out`` and check every invariant of DESIGN.md §6.

    With ``check_determinism`` the scenario runs a second time into a scratch directory and the
    two final Merkle roots must be equal (invariant 5); without it, that invariant reports
    "not checked".
    """
    prepare_run_dir(out)
    if source_text is not None:
        (out / "scenario.toml").write_text(source_text, encoding="utf-8")
    (out / "scenario.json").write_text(scenario.model_dump_json(indent=2) + "\n", encoding="utf-8")
    started = time.perf_counter()
    world = _simulate(scenario, out / "ledger.db", progress, keys)
    seconds = time.perf_counter() - started
    expected_root = None
    if check_determinism:
        with tempfile.TemporaryDirectory(prefix="dxsim-rerun-") as scratch:
            rerun = _simulate(scenario, Path(scratch) / "ledger.db", None, keys)
            expected_root = rerun.ledger.root()
    metrics = fold(out)
    invariants = check_invariants(
        out, expected_root=expected_root, live_balances=world.exchange.accounts.snapshot()
    )
    result = RunResult(
        out=out,
        scenario=scenario,
        root=world.ledger.root(),
        entries=world.ledger.size,
        trades=world.exchange.trading.contracts_signed,
        seconds=seconds,
        metrics=metrics,
        invariants=invariants,
    )
    (out / "metrics.json").write_text(
        json.dumps(metrics.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "invariants.json").write_text(
        json.dumps([{"name": r.name, "ok": r.ok, "detail": r.detail} for r in invariants], indent=2)
        + "\n",
        encoding="utf-8",
    )
    return result
