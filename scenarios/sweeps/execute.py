"""Running a study's replications: one pure task per (variant, replication), three backends.

A task carries everything its run needs (the scenario file, its ``--set`` changes, the seed),
so it gives the same row wherever it runs: in this process (``serial``), in local worker
processes (``processes``, :class:`concurrent.futures.ProcessPoolExecutor`) or on a Dask cluster
(``dask``: ``dask.distributed``, a LocalCluster or a scheduler's address). Rows are sorted by
(variant, replication) afterwards, so the tables are byte-identical on every backend.

A row's ``digest`` is the run's keyless statement digest (DESIGN.md §2: every entry's statement,
in order, without signatures), so it names the run's content whatever keys signed it: each
replication signs with a fresh key secret, which never leaves the worker.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from ledger import KeySecret, LedgerError
from ledger.store import without_password
from scenarios.cli_errors import UserError
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.run import RunResult, run_scenario
from scenarios.schema import Scenario
from scenarios.sweeps.study import Backend

__all__ = ["Row", "Task", "execute", "metric_value", "run_task", "task_key"]

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Task:
    variant: int
    replication: int
    seed: int
    scenario_path: str
    overrides: tuple[str, ...]
    metrics: tuple[str, ...]
    keep_dir: str | None = None  # keep the run directory here (``--keep-runs``)
    ledger_url: str | None = None  # a database for the ledger, one schema per replication
    #: Cores one replication may use: 2 lets a run verify on the second core (serial); the
    #: parallel backends give each replication one, since the replications fill the cores.
    #: The ledger is the same either way, so it is not part of the task's key.
    cores: int = 2


def task_key(task: Task) -> str:
    """What decides a task's row: its scenario text, changes, seed and metrics (resume key)."""
    text = Path(task.scenario_path).read_text(encoding="utf-8")
    parts = [text, *task.overrides, str(task.seed), *task.metrics]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def metric_value(figures: dict[str, Any], name: str) -> int | float | None:
    """A figure of ``metrics.json`` by dotted name (``brokers.licences``); None if the run
    has none (a median of no trades). A figure that is not a number is an error."""
    node: Any = figures
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if node is None or isinstance(node, bool):
        return None if node is None else int(node)
    if isinstance(node, int | float):
        return node if not (isinstance(node, float) and math.isnan(node)) else None
    raise UserError(f"metric {name!r} is not a number (it is a {type(node).__name__})")


def with_schema(url: str, schema: str) -> str:
    """``url`` naming ``schema`` (``?schema=NAME``, the ledger store's convention)."""
    return make_url(url).update_query_dict({"schema": schema}).render_as_string(hide_password=False)


#: How many schemas a replication tries before giving up (each interrupted attempt leaves one:
#: a ledger is never rewritten, so a rerun writes the next ``_aN`` rather than drop the last).
MAX_ATTEMPTS = 50


def _run(task: Task, scenario: Scenario, out: Path) -> tuple[RunResult, str | None]:
    """Run into ``out`` (and the task's database, in the first schema not already used)."""
    if task.ledger_url is None:
        keys = run_keys(KeySecret.generate(), task.seed)
        force = task.keep_dir is not None  # a kept run an interrupted sweep left is replaced
        result = run_scenario(
            scenario, out, keys=keys, check_determinism=False, force=force, cores=task.cores
        )
        return result, None
    key = task_key(task)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        # Never --force here: replacing a run whose ledger is in a database drops its schema.
        # Each attempt has its own directory and schema, and an earlier one is left as it is.
        target = out if attempt == 1 else out.with_name(f"{out.name}-a{attempt}")
        if target.exists():
            continue
        url = with_schema(task.ledger_url, f"dxsim_sweep_{key}_a{attempt}")
        keys = run_keys(KeySecret.generate(), task.seed)
        try:
            result = run_scenario(
                scenario,
                target,
                keys=keys,
                check_determinism=False,
                ledger_url=url,
                cores=task.cores,
            )
        except LedgerError as exc:
            if "already holds a ledger" not in str(exc):
                raise
            continue
        return result, without_password(url)
    raise UserError(
        f"replication {task.replication} of variant {task.variant}: {MAX_ATTEMPTS} schemas "
        f"dxsim_sweep_{key}_a* (or their run directories) are taken"
    )


def run_task(task: Task) -> Row:
    """Run one replication and return its row (variant, replication, seed, metrics, digest)."""
    scenario = load(Path(task.scenario_path), Scenario, list(task.overrides))
    scenario = scenario.with_overrides(seed=task.seed)
    scratch = None if task.keep_dir else tempfile.mkdtemp(prefix="dxsim-sweep-")
    out = Path(task.keep_dir) if task.keep_dir else Path(scratch or ".") / "run"
    try:
        result, ledger = _run(task, scenario, out)
        if not result.ok:
            failed = ", ".join(r.name for r in result.invariants if r.checked and not r.ok)
            raise UserError(
                f"variant {task.variant} replication {task.replication}: invariants failed "
                f"({failed}); keep the run with --keep-runs to inspect it"
            )
        figures = result.metrics.to_json()
        row: Row = {"variant": task.variant, "replication": task.replication, "seed": task.seed}
        row.update({name: metric_value(figures, name) for name in task.metrics})
        row["digest"] = result.statements
        if ledger is not None:
            row["ledger"] = ledger  # where the replication's ledger stays (not in the tables)
        return row
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _workers(requested: int) -> int:
    return requested or os.cpu_count() or 1


def execute(
    tasks: Sequence[Task],
    backend: Backend,
    *,
    workers: int = 0,
    scheduler: str | None = None,
    done: Callable[[Task, Row], None] = lambda _t, _r: None,
    cores: int | None = None,
) -> list[Row]:
    """Run ``tasks`` on ``backend``; ``done`` is called (in this process) as each finishes.

    ``cores`` is what one replication may use (the ledger is the same either way): by default
    2 on ``serial`` (each run verifies on the second core) and 1 on the parallel backends,
    whose replications fill the cores themselves.
    """
    rows: list[Row] = []
    per_run = cores if cores is not None else (2 if backend == "serial" else 1)
    sized = {replace(t, cores=per_run): t for t in tasks}

    def finished(task: Task, row: Row) -> None:
        rows.append(row)
        done(sized.get(task, task), row)

    if not tasks:
        return rows
    if backend == "serial":
        for task in sized:
            finished(task, run_task(task))
    elif backend == "processes":
        _on_processes(list(sized), _workers(workers), finished)
    else:
        _on_dask(list(sized), _workers(workers), scheduler, finished)
    return sorted(rows, key=lambda r: (r["variant"], r["replication"]))


def _on_processes(
    tasks: Iterable[Task], workers: int, finished: Callable[[Task, Row], None]
) -> None:
    # spawn: a fresh interpreter per worker, not a fork of a process holding threads and files
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            finished(futures[future], future.result())


_QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


def _on_dask(
    tasks: Sequence[Task],
    workers: int,
    scheduler: str | None,
    finished: Callable[[Task, Row], None],
) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise UserError(
            "the dask backend needs dask.distributed: pip install 'dxsim[distributed]'"
        ) from exc
    import dask

    cluster = None
    if scheduler is None:
        # A worker's event loop shares the GIL with the task it runs: its statistical profiler
        # (a stack sample every 10 ms) is off, and its event-loop tick (every 20 ms) and system
        # monitor (every 0.5 s) are slowed, for the local cluster this sweep owns.
        with dask.config.set(_QUIET_WORKERS):
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
    try:
        client = Client(  # type: ignore[no-untyped-call]
            scheduler if scheduler is not None else cluster, timeout="30s"
        )
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise UserError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        futures = client.map(run_task, list(tasks), pure=False)
        by_future = dict(zip(futures, tasks, strict=True))
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]
            finished(by_future[future], future.result())
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
