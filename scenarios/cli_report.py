"""``dxsim report`` and ``dxsim export``: a run's ledger as a readable report, or as tables.

Both read the ledger alone, read-only (``Store(ledger_location(run_dir))``), and fold it once
(:func:`marketplace.timeseries.fold_series`); neither verifies it — ``dxsim verify`` and
``dxsim check`` do — but a ledger whose entries do not parse is refused with exit 1. They write
into a new directory (``RUN_DIR/report``, ``RUN_DIR/export`` by default) under the rule of
:mod:`scenarios.outdir`: ``--force`` replaces only the files a previous report or export wrote.
A run marked incomplete or failed is still reported (that is when one wants to look), with a
warning and exit 4.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from ledger import Store
from marketplace.errors import MarketError
from marketplace.metrics import Metrics
from marketplace.timeseries import TimeSeries, fold_series
from scenarios.cli_errors import EXIT_FAILED, EXIT_INCOMPLETE, UserError, fail, one_line_errors
from scenarios.export import export_ledger, planned_files
from scenarios.export_tables import FORMATS
from scenarios.outdir import OutputDir
from scenarios.rundir import RunManifest, ledger_location, read_manifest

__all__ = ["RunData", "read_run", "register"]

RunDirArg = Annotated[Path, typer.Argument(help="A run directory (from dxsim run).")]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Write into an existing directory, replacing only the files a previous run of "
        "this command wrote there.",
    ),
]


def _manifest(run_dir: Path) -> RunManifest:
    if not run_dir.exists():
        raise UserError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: not a directory; give a run directory")
    manifest = read_manifest(run_dir)
    if manifest is None:
        raise UserError(f"{run_dir} is not a dxsim run directory (no run.json)")
    return manifest


def _open_store(run_dir: Path) -> Store:
    return Store(ledger_location(run_dir))  # read-only: a reader never changes a ledger


class RunData:
    """One run as a report needs it: where it is, its manifest, and its folds."""

    def __init__(self, run_dir: Path, manifest: RunManifest, metrics: Metrics, series: TimeSeries):
        self.run_dir, self.manifest, self.metrics, self.series = run_dir, manifest, metrics, series

    @property
    def label(self) -> str:
        return self.run_dir.resolve().name or str(self.run_dir)


def read_run(run_dir: Path) -> RunData:
    """Fold one run's ledger (read-only) into its metrics and time series.

    Raises:
        UserError: not a run directory, or its ledger cannot be read.
        marketplace.MarketError: an entry does not parse.
    """
    manifest = _manifest(run_dir)
    store = _open_store(run_dir)
    try:
        metrics, series = fold_series(store)
    finally:
        store.close()
    return RunData(run_dir, manifest, metrics, series)


def _warn_incomplete(runs: list[RunManifest], names: list[Path]) -> bool:
    unfinished = [(n, m) for n, m in zip(names, runs, strict=True) if m.status != "complete"]
    for name, manifest in unfinished:
        sys.stderr.write(
            f"dxsim: warning: {name} is marked {manifest.status}"
            f"{f' ({manifest.error})' if manifest.error else ''}; its ledger may stop early\n"
        )
    return bool(unfinished)


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise UserError(
            "--format parquet needs pyarrow: pip install 'dxsim[export]' (or use csv, jsonl)"
        ) from exc


@one_line_errors
def export(
    run_dir: RunDirArg,
    fmt: Annotated[
        str, typer.Option("--format", help="Table format: csv, parquet or jsonl.")
    ] = "csv",
    out: Annotated[
        Path | None, typer.Option(help="Directory to write (default: RUN_DIR/export).")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Export a run's ledger as tidy tables: entries.<ext> (one row per entry), one table per
    entry kind with its body's fields as columns, metrics.<ext> (every figure of metrics.json,
    long) and timeseries.<ext> (the per-day folds). Money is integer fen, time sim-seconds."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: unknown format; allowed: {', '.join(FORMATS)}")
    if fmt == "parquet":
        _require_pyarrow()
    manifest = _manifest(run_dir)
    target = out if out is not None else run_dir / "export"
    store = _open_store(run_dir)
    started = time.perf_counter()
    try:
        written = OutputDir.open(target, what="export", force=force, planned=planned_files(fmt))
        try:
            rows = export_ledger(store, written, fmt)
        except MarketError as exc:
            fail(f"{run_dir}: the ledger cannot be folded: {exc}", EXIT_FAILED)
    finally:
        store.close()
    written.finish(
        run=str(run_dir), run_status=manifest.status, root=manifest.root, tables=fmt, rows=rows
    )
    seconds = time.perf_counter() - started
    sys.stdout.write(
        f"wrote {len(rows)} {fmt} tables ({rows.get('entries', 0):,} entries) to {target} "
        f"in {seconds:.1f} s\n"
    )
    if _warn_incomplete([manifest], [run_dir]):
        raise typer.Exit(EXIT_INCOMPLETE)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise UserError("dxsim report needs matplotlib: pip install 'dxsim[plots]'") from exc


def _scenario_name(run_dir: Path) -> str:
    """The scenario's name from ``scenario.json`` (the report says "?" if it is unreadable)."""
    try:
        data = json.loads((run_dir / "scenario.json").read_text(encoding="utf-8"))
        return str(data["run"]["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return "?"


def _labels(paths: list[Path]) -> list[str]:
    """Short names for the runs: their directory names, or their paths when those clash."""
    names = [p.resolve().name or str(p) for p in paths]
    return names if len(set(names)) == len(names) else [str(p) for p in paths]


@one_line_errors
def report(
    run_dir: RunDirArg,
    compare: Annotated[
        Path | None,
        typer.Option("--compare", help="A second run directory, set beside the first."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Directory to write (default: RUN_DIR/report).")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Write report.md and a self-contained report.html (PNGs embedded) with plots of prices,
    volume per stage, time to trade, backlogs, cross-border flows, concentration and fees,
    every one a fold over the run's ledger; with --compare, two runs side by side."""
    from scenarios.report_doc import ReportRun, render_html, render_markdown
    from scenarios.report_plots import PLOT_NAMES, RunView, draw_all

    _require_matplotlib()
    paths = [run_dir] if compare is None else [run_dir, compare]
    try:
        runs = [read_run(path) for path in paths]
    except MarketError as exc:
        fail(f"the ledger cannot be folded: {exc}", EXIT_FAILED)
    labels = _labels(paths)
    target = out if out is not None else run_dir / "report"
    written = OutputDir.open(  # refuses before the (slow) drawing
        target, what="report", force=force, planned=["report.md", "report.html", *PLOT_NAMES]
    )
    views = [RunView(label, r.metrics, r.series) for label, r in zip(labels, runs, strict=True)]
    plots, notes = draw_all(views)
    for plot in plots:
        written.file(plot.name).write_bytes(plot.png)
    described = [
        ReportRun(
            label,
            str(r.run_dir),
            _scenario_name(r.run_dir),
            r.manifest.seed,
            r.manifest.status,
            r.manifest.root,
            r.manifest.statements,
            r.metrics,
        )
        for label, r in zip(labels, runs, strict=True)
    ]
    written.file("report.md").write_text(render_markdown(described, plots, notes), "utf-8")
    written.file("report.html").write_text(render_html(described, plots, notes), "utf-8")
    written.finish(runs=[str(p) for p in paths], roots=[r.manifest.root for r in runs])
    sys.stdout.write(
        f"wrote {target / 'report.md'}, {target / 'report.html'} and {len(plots)} plots\n"
    )
    if _warn_incomplete([r.manifest for r in runs], paths):
        raise typer.Exit(EXIT_INCOMPLETE)


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(export)
