"""Scenario commands of the ``dxsim`` CLI: run, validate, scenarios, demo."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.audit import audit
from ledger.identity import PASSPHRASE_ENV, Keystore
from marketplace.entries import check_body
from scenarios.build import LOG_ID, KeySource, World
from scenarios.catalog import builtin_scenarios, describe, resolve
from scenarios.cli_errors import EXIT_FAILED, UserError, one_line_errors
from scenarios.load import ScenarioError, load
from scenarios.report import invariant_lines, summary_table
from scenarios.run import RunResult, run_scenario
from scenarios.schema import Scenario

__all__ = ["register"]

ScenarioArg = Annotated[str, typer.Argument(help="Scenario file, or a built-in name (baseline).")]


def _load(name_or_path: str) -> tuple[Scenario, str]:
    path = resolve(name_or_path)
    try:
        scenario = load(path, Scenario)
    except ScenarioError as exc:
        raise UserError(str(exc)) from exc
    return scenario, path.read_text(encoding="utf-8")


def _keystore(directory: Path | None) -> KeySource | None:
    """Identities from an encrypted keystore; the passphrase from the environment or a prompt."""
    if directory is None:
        return None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if not passphrase:
        if not sys.stdin.isatty():
            raise UserError(f"--keystore needs a passphrase: set {PASSPHRASE_ENV}")
        passphrase = typer.prompt("keystore passphrase", hide_input=True)
    store = Keystore(directory, passphrase.encode())
    store.identity(LOG_ID, "log")  # a wrong passphrase fails here, before anything is written
    return lambda identity_id, role: store.identity(identity_id, role)


def _execute(
    scenario: Scenario,
    source: str,
    out: Path,
    check_determinism: bool,
    console: Console,
    keys: KeySource | None = None,
) -> RunResult:
    days = scenario.run.days
    started = time.perf_counter()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("{task.fields[entries]:>9,} entries"),
        TextColumn("{task.fields[rate]:>7,.0f} trades/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(scenario.run.name, total=days, entries=0, rate=0.0)

        def progress(world: World, now: float) -> None:
            elapsed = max(1e-9, time.perf_counter() - started)
            rate = world.exchange.trading.contracts_signed / elapsed
            bar.update(task, completed=now, entries=world.ledger.size, rate=rate)

        result = run_scenario(
            scenario,
            out,
            source_text=source,
            progress=progress,
            check_determinism=check_determinism,
            keys=keys,
        )
    return result


def _report(result: RunResult, console: Console) -> None:
    table = summary_table(result)
    console.print(table)
    lines = invariant_lines(result)
    for line in lines:
        console.print(line, highlight=False)
    with (result.out / "summary.txt").open("w", encoding="utf-8") as out:
        plain = Console(file=out, width=100, color_system=None, force_terminal=False)
        plain.print(table)
        for line in lines:
            plain.print(line, highlight=False)


@one_line_errors
def run(
    scenario: ScenarioArg,
    seed: Annotated[
        int | None, typer.Option(min=0, max=2**63 - 1, help="Override the scenario's seed.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (must be new).")] = None,
    days: Annotated[
        float | None, typer.Option(min=0.001, max=36_500, help="Override sim-days.")
    ] = None,
    no_rerun: Annotated[
        bool, typer.Option("--no-rerun", help="Skip the same-seed rerun (invariant 5).")
    ] = False,
    keystore: Annotated[
        Path | None,
        typer.Option(help="Sign with random keys kept encrypted (PKCS#8) in this directory."),
    ] = None,
) -> None:
    """Run a scenario into a run directory and check the five invariants."""
    loaded, source = _load(scenario)
    loaded = loaded.with_overrides(seed=seed, days=days)
    target = out or Path("runs") / f"{loaded.run.name}-seed{loaded.run.seed}"
    console = Console(stderr=False)
    keys = _keystore(keystore)
    result = _execute(loaded, source, target, not no_rerun, console, keys)
    _report(result, console)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


@one_line_errors
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario file without running it."""
    loaded, _source = _load(scenario)
    kinds = ", ".join(f"{p.count} {p.kind}s" for p in loaded.population)
    sys.stdout.write(
        f"OK  {loaded.run.name}: {kinds}; {loaded.run.days:g} days, seed {loaded.run.seed}\n"
    )


def scenarios() -> None:
    """List the built-in scenarios."""
    for name, path in builtin_scenarios().items():
        sys.stdout.write(f"{name:<16} {describe(path)}\n")


@one_line_errors
def demo(
    out: Annotated[Path, typer.Option(help="Run directory (replaced).")] = Path("runs/demo"),
) -> None:
    """Run the baseline scenario into runs/demo, then verify its ledger from scratch."""
    if out.exists():
        shutil.rmtree(out)
    loaded, source = _load("baseline")
    console = Console()
    result = _execute(loaded, source, out, True, console)
    _report(result, console)
    report = audit(out, body_check=check_body)
    console.print(f"dxsim verify {out}", style="bold")
    sys.stdout.write(report.summary() + "\n")
    if not (result.ok and report.ok):
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(validate)
    app.command()(scenarios)
    app.command()(demo)
