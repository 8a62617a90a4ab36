"""``dxsim experiment NAME`` and ``dxsim experiments``: rerun a published result.

``dxsim experiment NAME`` loads the experiment's built-in TOML (or ``--scenario FILE``),
applies ``--set KEY=VALUE`` overrides, runs ``--reps`` replications from ``--seed``, prints
the table (or ``--format json``), and writes ``NAME.json`` and ``NAME.png`` into ``--out``
(default ``runs/experiments/NAME``) under the rule of :mod:`scenarios.outdir`: a new or empty
directory, or one where a previous ``dxsim experiment`` wrote every file (the default
directory is then replaced, like ``dxsim demo``; an explicit ``--out`` needs ``--force``), and
never over a file dxsim did not write. An experiment's own options (``--market 3``) are
shortcuts for ``--set`` (:class:`scenarios.experiments.Shortcut`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scenarios.cli_errors import UserError, one_line_errors
from scenarios.experiments import Experiment, Plan, experiments, find, load_config
from scenarios.experiments.config import Override, parse_override
from scenarios.experiments.output import document, has_plot, plot_png, table
from scenarios.outdir import OutputDir, owned_files

__all__ = ["register"]

FORMATS = ("table", "json")
COMMON = "--reps --seed --scenario --set --out --force --format --workers --no-plot --show --list"


def _list() -> None:
    for name, experiment in experiments().items():
        sys.stdout.write(f"{name:<16} {experiment.title}\n{'':<16} {experiment.source}\n")
        for shortcut in experiment.shortcuts:
            sys.stdout.write(
                f"{'':<16} {shortcut.flag} (--set {shortcut.key}=...): {shortcut.help}\n"
            )


def _shortcut_sets(experiment: Experiment[Any], extra: list[str]) -> list[Override]:
    """``--flag VALUE`` / ``--flag=VALUE`` words left over by typer, as ``--set`` overrides."""
    flags = {shortcut.flag: shortcut.key for shortcut in experiment.shortcuts}
    own = " ".join(flags) or "none"
    sets: list[Override] = []
    words = iter(extra)
    for word in words:
        flag, eq, value = word.partition("=")
        if flag not in flags:
            raise UserError(
                f"{word}: no such option of dxsim experiment {experiment.name}; allowed: "
                f"{COMMON}; its own: {own}"
            )
        if not eq:
            value = next(words, "")
            if not value or value.startswith("--"):
                raise UserError(f"{flag} needs a value")
        sets.append(parse_override(f"{flags[flag]}={value}", shown=f"{flag} {value}"))
    return sets


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise UserError(
            "the plot needs matplotlib: pip install 'dxsim[plots]' (or pass --no-plot)"
        ) from exc


def _open_out(out: Path | None, name: str, force: bool) -> OutputDir:
    """The output directory, refused before the run if it would replace foreign files."""
    target = out if out is not None else Path("runs") / "experiments" / name
    replace = force or (
        out is None and target.is_dir() and owned_files(target, "experiment") is not None
    )
    return OutputDir.open(
        target, what="experiment", force=replace, planned=[f"{name}.json", f"{name}.png"]
    )


@one_line_errors
def experiment_command(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="The experiment (dxsim experiments lists them).")
    ] = None,
    reps: Annotated[
        int | None,
        typer.Option(min=2, max=100_000, help="Replications (default: the experiment's)."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="The root seed.")] = 1,
    scenario: Annotated[
        Path | None,
        typer.Option(help="A configuration file to use instead of the built-in one."),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE: replace one configuration value (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for NAME.json and NAME.png (default runs/experiments/NAME)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a previous dxsim experiment's files in --out (only those)."
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    workers: Annotated[
        int | None,
        typer.Option(
            min=0, max=64, help="Worker processes (0: one per core; default: the experiment's)."
        ),
    ] = None,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Write no PNG.")] = False,
    show: Annotated[
        bool, typer.Option("--show", help="Print the built-in configuration and stop.")
    ] = False,
    list_all: Annotated[bool, typer.Option("--list", help="List the experiments.")] = False,
) -> None:
    """Rerun a published result: our figures (mean ± 95 % CI) beside the published, and a PNG.

    An experiment's own options (dxsim experiments lists them) stand for --set KEY=VALUE.
    """
    if list_all:
        _list()
        return
    if name is None:
        raise UserError(f"give an experiment; allowed: {', '.join(experiments())}")
    experiment = find(name)
    if show:
        sys.stdout.write(experiment.builtin.read_text(encoding="utf-8"))
        return
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: unknown format; allowed: {', '.join(FORMATS)}")
    every_set = [*map(parse_override, sets or []), *_shortcut_sets(experiment, list(ctx.args))]
    config = load_config(experiment.config, scenario or experiment.builtin, every_set)
    if not no_plot:
        _require_matplotlib()
    written = _open_out(out, experiment.name, force)
    count = experiment.reps if reps is None else reps
    processes = (experiment.workers if workers is None else workers) or os.cpu_count() or 1
    started = time.perf_counter()
    columns = (
        TextColumn(f"[bold]{experiment.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("replications", total=count)
        plan = Plan(count, seed, processes, lambda done, _n: bar.update(task, completed=done))
        outcome = experiment.run(config, plan)
    seconds = time.perf_counter() - started
    result = document(experiment, config, outcome, plan)
    text = json.dumps(result, sort_keys=True, indent=1, allow_nan=False) + "\n"
    written.file(f"{experiment.name}.json").write_text(text, encoding="utf-8")
    files = [f"{experiment.name}.json"]
    if not no_plot and has_plot(outcome):
        written.file(f"{experiment.name}.png").write_bytes(plot_png(experiment, outcome, plan))
        files.append(f"{experiment.name}.png")
    written.finish(experiment=experiment.name, seed=seed, replications=count)
    where = ", ".join(str(written.path / f) for f in files)
    if fmt == "json":
        sys.stdout.write(json.dumps(result, sort_keys=True, allow_nan=False) + "\n")
    else:
        console = Console()
        console.print(table(experiment, outcome, plan))
        for note in outcome.notes:
            console.print(note, highlight=False, soft_wrap=True)
        console.print(f"wrote {where}", highlight=False, soft_wrap=True)
    sys.stderr.write(f"dxsim: {experiment.name}: {count} replications in {seconds:.1f} s\n")


@one_line_errors
def experiments_command() -> None:
    """List the experiments (dxsim experiment NAME runs one)."""
    _list()


def register(app: typer.Typer) -> None:
    settings = {"allow_extra_args": True, "ignore_unknown_options": True}
    app.command("experiment", context_settings=settings)(experiment_command)
    app.command("experiments")(experiments_command)
