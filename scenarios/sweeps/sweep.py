"""Running a whole study into its output directory, resumably.

The directory holds ``dxsim-sweep.json`` (the study, its digest, status), ``rows/KEY.json``
(one finished replication each, written as it finishes), and at the end ``results.csv``,
``results.parquet`` (with pyarrow) and ``summary.csv``; with ``--keep-runs``, ``runs/vIII-rRRR``
(each replication's run directory). A rerun of the same study into the same directory skips
every replication whose row is there: the row's key is a digest of everything that decides it
(the scenario's text, its changes, the seed, the metrics), so a changed study reruns exactly
what it changed. dxsim never deletes or overwrites a file it did not write: a directory that
holds anything else, or another study's results, is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.cli_errors import UserError
from scenarios.sweeps.execute import Row, Task, execute, task_key
from scenarios.sweeps.study import Backend, Study, replication_seeds
from scenarios.sweeps.tables import (
    results_columns,
    summarise,
    summary_columns,
    tidy,
    write_csv,
    write_parquet,
)

__all__ = ["MANIFEST", "SweepOutcome", "plan_tasks", "run_study"]

MANIFEST = "dxsim-sweep.json"
OURS = frozenset({MANIFEST, "rows", "runs", "results.csv", "results.parquet", "summary.csv"})


@dataclass(frozen=True)
class SweepOutcome:
    out: Path
    rows: list[Row]
    reused: int  # replications whose rows a previous run of the study left
    ran: int
    parquet: bool


def plan_tasks(
    study: Study, out: Path | None, keep_runs: bool, ledger_url: str | None = None
) -> list[Task]:
    """Every (variant, replication) of the study, replication r with the r-th seed; with
    ``ledger_url`` each replication's ledger goes to its own schema of that database."""
    seeds = replication_seeds(study.config.seed, study.config.replications)
    tasks = []
    for variant in study.variants:
        for replication, seed in enumerate(seeds):
            keep = None
            if keep_runs and out is not None:
                keep = str(out / "runs" / f"v{variant.index:03d}-r{replication:03d}")
            tasks.append(
                Task(
                    variant=variant.index,
                    replication=replication,
                    seed=seed,
                    scenario_path=str(study.scenario_path),
                    overrides=(*study.fixed, *variant.overrides()),
                    metrics=tuple(study.config.metrics),
                    keep_dir=keep,
                    ledger_url=ledger_url,
                )
            )
    return tasks


def _open(out: Path, study: Study) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    foreign = sorted(p.name for p in out.iterdir() if p.name not in OURS)
    if foreign:
        raise UserError(
            f"{out}: holds files dxsim sweep did not write ({', '.join(foreign[:5])}); "
            "choose a new or empty directory"
        )
    manifest = out / MANIFEST
    if manifest.exists():
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        if previous.get("study") != study.config.name:
            raise UserError(
                f"{out}: holds the results of another study ({previous.get('study')!r}); "
                "choose a new or empty directory"
            )
    elif any(out.iterdir()):
        raise UserError(f"{out}: holds sweep files but no {MANIFEST}; choose a new directory")
    _manifest(out, study, "running")
    (out / "rows").mkdir(exist_ok=True)


def _manifest(out: Path, study: Study, status: str, **extra: Any) -> None:
    body = {
        "study": study.config.name,
        "study_file": str(study.path),
        "digest": study.digest,
        "variants": len(study.variants),
        "replications": study.config.replications,
        "status": status,
        **extra,
    }
    _atomic(out / MANIFEST, json.dumps(body, indent=2, sort_keys=True) + "\n")


def _atomic(path: Path, text: str) -> None:
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def _stored(path: Path, task: Task) -> Row | None:
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent, or cut short by a crash: run it again
    same = isinstance(row, dict) and (row.get("variant"), row.get("replication")) == (
        task.variant,
        task.replication,
    )
    return row if same and row.get("seed") == task.seed else None


def run_study(
    study: Study,
    out: Path,
    *,
    backend: Backend,
    workers: int = 0,
    scheduler: str | None = None,
    keep_runs: bool = False,
    ledger_url: str | None = None,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
    cores: int | None = None,
) -> SweepOutcome:
    """Run every replication not already in ``out``, then write the tables. With
    ``ledger_url`` (PostgreSQL) every replication keeps its ledger in its own schema there
    (``dxsim_sweep_KEY_aN``; the row file names it), verifiable with ``dxsim verify URL``.
    ``cores``: what one replication may use (see :func:`scenarios.sweeps.execute.execute`)."""
    _open(out, study)
    tasks = plan_tasks(study, out, keep_runs, ledger_url)
    keys = {task: task_key(task) for task in tasks}
    reused: list[Row] = []
    todo: list[Task] = []
    for task in tasks:
        row = _stored(out / "rows" / f"{keys[task]}.json", task)
        if row is not None:
            reused.append(row)
        else:
            todo.append(task)
    total, finished = len(tasks), len(reused)
    progress(finished, total)

    def done(task: Task, row: Row) -> None:
        nonlocal finished
        _atomic(out / "rows" / f"{keys[task]}.json", json.dumps(row, sort_keys=True) + "\n")
        finished += 1
        progress(finished, total)

    ran = execute(todo, backend, workers=workers, scheduler=scheduler, done=done, cores=cores)
    rows = tidy(study, [*reused, *ran])
    write_csv(out / "results.csv", results_columns(study), rows)
    parquet = write_parquet(out / "results.parquet", results_columns(study), rows)
    summary = [s.row() for s in summarise(study, rows)]
    write_csv(out / "summary.csv", summary_columns(study), summary)
    _manifest(out, study, "complete", backend=backend, reused=len(reused), ran=len(ran))
    return SweepOutcome(out, rows, len(reused), len(ran), parquet)
