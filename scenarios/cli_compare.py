"""``dxsim compare``: policies side by side on common random numbers (see scenarios.compare)."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from marketplace.crossborder import PackError, load_pack
from scenarios.cli_errors import EXIT_FAILED, UserError, one_line_errors
from scenarios.cli_run import ScenarioArg, _load
from scenarios.compare import Comparison, compare

__all__ = ["register"]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    text = f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"¥{text}" if unit == "¥" else text


def _table(result: Comparison) -> Table:
    first = result.policies[0]
    table = Table(
        title=(
            f"dxsim compare: {result.scenario}, {result.replications} replications × "
            f"{result.days:g} days, seeds {result.seeds[0]}..{result.seeds[-1]} "
            "(common random numbers)"
        )
    )
    table.add_column("figure")
    for policy in result.policies:
        table.add_column(f"{policy} (mean)", justify="right")
    for policy in result.policies[1:]:
        table.add_column(f"{policy} − {first}, 95 % CI", justify="right")
    for headline in result.headlines:
        unit = f" ({headline.unit})" if headline.unit and headline.unit != "¥" else ""
        row = [headline.label + unit]
        row += [_number(headline.means[p], headline.unit) for p in result.policies]
        for policy in result.policies[1:]:
            d = headline.differences[policy]
            row.append(
                "n/a"
                if d is None
                else f"{_number(d[0], headline.unit)} "
                f"[{_number(d[1], headline.unit)}, {_number(d[2], headline.unit)}]"
            )
        table.add_row(*row)
    return table


@one_line_errors
def compare_command(
    scenario: ScenarioArg,
    policy: Annotated[
        list[str],
        typer.Option("--policy", help="A policy pack (name or file); give two or more."),
    ],
    reps: Annotated[int, typer.Option(min=2, max=1000, help="Replications per policy.")] = 10,
    days: Annotated[
        float | None, typer.Option(min=1, max=36_500, help="Override sim-days.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=2**62, help="First replication's seed.")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=0, max=64, help="Worker processes (0: one per core).")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compare policies on common random numbers, with paired 95 % confidence intervals.

    Runs the scenario under each policy for the same seeds and prints each headline figure's
    means and the paired difference to the first policy.
    """
    if len(policy) < 2:
        raise UserError("give at least two --policy packs to compare")
    for name in policy:
        try:
            load_pack(name)
        except PackError as exc:
            raise UserError(f"--policy {name}: {exc}") from exc
    loaded, _source = _load(scenario)
    loaded = loaded.with_overrides(seed=seed, days=days)
    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]compare"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=as_json) as bar:
        task = bar.add_task("runs", total=len(policy) * reps)
        result = compare(
            loaded,
            loaded.run.name,
            policy,
            reps,
            workers=workers or os.cpu_count() or 1,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), sort_keys=True) + "\n")
    else:
        out = Console()
        out.print(_table(result))
        for problem in result.broken:
            out.print(f"FAIL  {problem}", highlight=False)
    if result.broken:
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)
