"""``dxsim sweep STUDY.toml``: run a study (grid or design table × replications) on the serial,
processes or dask backend and write its tables (:mod:`scenarios.sweeps`)."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledger.store import is_url
from marketplace.tomlfile import ConfigError
from scenarios.cli_errors import UserError, one_line_errors
from scenarios.sweeps import Study, load_study, run_study
from scenarios.sweeps.sensitivity import (
    DesignSpec,
    Parameter,
    analyse,
    read_spec,
    sidecar,
    write_design,
    write_indices,
)
from scenarios.sweeps.study import STUDIES_DIR, Backend
from scenarios.sweeps.tables import Summary, summarise

__all__ = ["read_design", "register"]

#: Most rows a design table may have (one variant each).
MAX_DESIGN_ROWS = 100_000


def read_design(path: Path) -> list[dict[str, Any]]:
    """A design table: a CSV whose header names field paths and whose rows are variants; each
    cell is a TOML value (``0.25``, ``8``, ``true``), or else a string."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise UserError(f"{path}: the design table has no header row")
            rows: list[dict[str, Any]] = []
            for number, raw in enumerate(reader, start=2):
                if len(rows) >= MAX_DESIGN_ROWS:
                    raise UserError(f"{path}: more than {MAX_DESIGN_ROWS:,} design rows")
                if None in raw or any(v is None for v in raw.values()):
                    raise UserError(f"{path}:{number}: the row does not have one cell per column")
                rows.append({key: _cell(text) for key, text in raw.items()})
    except OSError as exc:
        raise UserError(f"{path}: cannot read the design table ({exc.strerror})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: not a CSV design table ({exc})") from None
    if not rows:
        raise UserError(f"{path}: the design table has no rows")
    return rows


def _resolve(study_file: Path) -> Path:
    """A study file, or the name of a built-in study (``scenarios/studies/NAME.toml``)."""
    if study_file.is_file():
        return study_file
    builtin = STUDIES_DIR / f"{study_file}.toml"
    if study_file.suffix != ".toml" and builtin.is_file():
        return builtin
    known = ", ".join(sorted(p.stem for p in STUDIES_DIR.glob("*.toml"))) or "none"
    raise UserError(f"{study_file}: no such study file; built-in studies: {known}")


def _cell(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _format(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _table(study: Study, summary: list[Summary]) -> Table:
    table = Table(title=f"{study.config.name}: mean [95 % CI], paired difference to variant 0")
    table.add_column("variant", justify="right")
    for axis in study.axes:
        table.add_column(axis)
    table.add_column("metric")
    table.add_column("mean [95 % CI]", justify="right")
    table.add_column("Δ base [95 % CI]", justify="right")
    for s in summary:
        value, diff = s.value, s.paired
        shown = f"{_format(value.mean)} [{_format(value.low)}, {_format(value.high)}]"
        delta = (
            "base"
            if s.variant == study.variants[0].index
            else f"{_format(diff.mean)} [{_format(diff.low)}, {_format(diff.high)}]"
        )
        table.add_row(
            str(s.variant), *(str(s.fields.get(a)) for a in study.axes), s.metric, shown, delta
        )
    return table


@one_line_errors
def sweep_command(
    study_file: Annotated[Path, typer.Argument(help="The study (TOML).", show_default=False)],
    out: Annotated[
        Path | None, typer.Option(help="Output directory (default runs/sweeps/NAME).")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="serial, processes or dask (default: the study's).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler's address (tcp://host:port); default a LocalCluster."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, max=1024, help="Worker processes (0: one per core).")
    ] = None,
    design: Annotated[
        Path | None, typer.Option(help="A design table (CSV: one row per variant) for the grid.")
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=1, max=10_000, help="Override the study's replications.")
    ] = None,
    keep_runs: Annotated[
        bool, typer.Option("--keep-runs", help="Keep every replication's run directory.")
    ] = False,
    ledger_url: Annotated[
        str | None,
        typer.Option(help="Keep each replication's ledger in this database, a schema each."),
    ] = None,
) -> None:
    """Run a study: every variant × replication on common random numbers; write results.csv,
    results.parquet and summary.csv; a rerun into the same directory resumes."""
    study_file = _resolve(study_file)
    rows = read_design(design) if design is not None else None
    try:
        study = load_study(study_file, rows, design)
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    if replications is not None:
        study = study.with_replications(replications)
    if ledger_url is not None and not is_url(ledger_url):
        raise UserError(f"--ledger-url {ledger_url!r} is not a URL (scheme://...)")
    if scheduler is not None and (backend or study.config.backend) != "dask":
        raise UserError("--scheduler needs --backend dask")
    chosen: Backend = study.config.backend
    if backend is not None:
        if backend not in ("serial", "processes", "dask"):
            raise UserError(f"--backend {backend!r}; allowed: serial, processes, dask")
        chosen = backend  # type: ignore[assignment]
    spec = read_spec(design) if design is not None else None
    target = out if out is not None else Path("runs") / "sweeps" / study.config.name
    console = Console(stderr=True)
    columns = (
        TextColumn(f"[bold]{study.config.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("runs", total=len(study.variants) * study.config.replications)
        outcome = run_study(
            study,
            target,
            backend=chosen,
            workers=study.config.workers if workers is None else workers,
            scheduler=scheduler,
            keep_runs=keep_runs,
            ledger_url=ledger_url,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    shown = Console()
    shown.print(_table(study, summarise(study, outcome.rows)))
    files = (
        "results.csv, results.parquet, summary.csv"
        if outcome.parquet
        else ("results.csv, summary.csv (no pyarrow: no Parquet)")
    )
    shown.print(
        f"{outcome.ran} replications run, {outcome.reused} reused; {files} in {target}",
        highlight=False,
    )
    if spec is not None:
        indices = analyse(spec, outcome.rows, study.config.metrics)
        write_indices(target / "sensitivity.csv", indices)
        shown.print(_indices_table(spec, indices))
        shown.print(f"sensitivity indices ({spec.method}) in {target / 'sensitivity.csv'}")


def _indices_table(spec: DesignSpec, indices: list[dict[str, Any]]) -> Table:
    keys = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma"), "latin": ("delta", "S1")}
    shown = keys[spec.method]
    table = Table(title=f"sensitivity ({spec.method}, {spec.n} base samples)")
    for column in ("metric", "field", *shown):
        table.add_column(column, justify="left" if column in ("metric", "field") else "right")
    for row in indices:
        cells = [row.get("note", "") if k not in row else _format(row[k]) for k in shown]
        table.add_row(row["metric"], row["parameter"], *cells)
    return table


def _parameter(text: str, integer: bool) -> Parameter:
    path, sep, bounds = text.partition("=")
    low, colon, high = bounds.partition(":")
    try:
        if not (sep and colon):
            raise ValueError("need PATH=LOW:HIGH")
        return Parameter(path=path.strip(), low=float(low), high=float(high), integer=integer)
    except (ValueError, ValidationError) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise UserError(f"--param {text!r}: {reason} (e.g. run.days=30:90)") from None


@one_line_errors
def design_command(
    out: Annotated[Path, typer.Argument(help="The design table to write (a new .csv).")],
    method: Annotated[str, typer.Option(help="sobol, morris or latin.")] = "sobol",
    n: Annotated[
        int,
        typer.Option(
            min=2,
            max=1_000_000,
            help="Base samples (sobol: n × (fields + 2) rows; morris: n trajectories; latin: n).",
        ),
    ] = 16,
    param: Annotated[
        list[str] | None, typer.Option(help="A real field: PATH=LOW:HIGH. Repeatable.")
    ] = None,
    int_param: Annotated[
        list[str] | None,
        typer.Option(help="An integer field (rounded): PATH=LOW:HIGH. Repeatable."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1)] = 1,
    levels: Annotated[int, typer.Option(min=2, max=64, help="Morris grid levels.")] = 4,
) -> None:
    """Draw a SALib design for `dxsim sweep STUDY --design OUT.csv`, which then also writes
    sensitivity.csv (Sobol' S1/ST, Morris mu*/sigma, or delta for a Latin hypercube)."""
    if method not in ("sobol", "morris", "latin"):
        raise UserError(f"--method {method!r}; allowed: sobol, morris, latin")
    parameters = [_parameter(t, False) for t in param or []]
    parameters += [_parameter(t, True) for t in int_param or []]
    if not parameters:
        raise UserError("name at least one field to sample: --param or --int-param PATH=LO:HI")
    paths = [p.path for p in parameters]
    if len(set(paths)) != len(paths):
        raise UserError("a field is sampled twice")
    spec = DesignSpec(method=method, n=n, seed=seed, parameters=tuple(parameters), levels=levels)  # type: ignore[arg-type]
    rows = write_design(out, spec)
    typer.echo(f"OK  {rows} design rows ({method}) in {out}; its spec in {sidecar(out)}")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
    app.command("design")(design_command)
