"""Run a scenario into a run directory, then check the five invariants on what it wrote.

See :mod:`scenarios.rundir` for the directory's files. The run marks its directory
``incomplete`` before it writes anything and ``complete`` only once every file is written; a run
that fails is marked ``failed`` with the reason, and what it appended to the ledger before the
failure stays there, verifiable (``dxsim verify`` reports the log as not closed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ledger import DiscardStore
from ledger.store import without_password
from marketplace.invariants import InvariantResult, check_invariants
from marketplace.metrics import Metrics, fold
from scenarios.build import World, build
from scenarios.keys import KeySource
from scenarios.plugins import loaded_plugins
from scenarios.report import summary_text
from scenarios.rundir import RunManifest, prepare_run_dir, write_manifest
from scenarios.schema import Scenario

__all__ = ["RunResult", "run_scenario"]

Progress = Callable[[World, float], None]


@dataclass(frozen=True)
class RunResult:
    out: Path
    scenario: Scenario
    root: bytes
    statements: str
    entries: int
    trades: int
    seconds: float
    metrics: Metrics
    invariants: list[InvariantResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.invariants)


def _rerun_root(scenario: Scenario, keys: KeySource) -> bytes:
    """The final root of a second run of the same scenario, seed and keys (invariant 5).

    The rerun writes nowhere (its only product is the root), so it leaves nothing behind, not
    even when the process is killed.
    """
    rerun = build(scenario, DiscardStore(), keys=keys)
    rerun.run()
    return rerun.ledger.root()


def run_scenario(
    scenario: Scenario,
    out: Path,
    *,
    keys: KeySource,
    keys_label: str = "",
    source_text: str | None = None,
    progress: Progress | None = None,
    check_determinism: bool = True,
    ledger_url: str | None = None,
    force: bool = False,
) -> RunResult:
    """Simulate ``scenario`` into ``out`` and check every invariant of DESIGN.md §6.

    Args:
        keys: where identities come from (see :mod:`scenarios.keys`).
        keys_label: how the manifest names them (a key secret's fingerprint, "keystore").
        ledger_url: write the ledger to this database instead of ``out/ledger.db``.
        force: replace a previous dxsim run in ``out`` (its files only).
        check_determinism: run the scenario a second time (writing nowhere) and require the
            same final Merkle root (invariant 5); without it that invariant is "not checked".
    """
    prepare_run_dir(out, force=force)
    manifest = RunManifest(
        ledger=without_password(ledger_url) if ledger_url else "ledger.db",
        seed=scenario.run.seed,
        keys=keys_label,
        plugins=[
            {"name": p.name, "origin": p.origin, "sha256": p.sha256} for p in loaded_plugins()
        ],
    )
    write_manifest(out, manifest)
    world: World | None = None
    try:
        if source_text is not None:
            (out / "scenario.toml").write_text(source_text, encoding="utf-8")
        (out / "scenario.json").write_text(
            scenario.model_dump_json(indent=2) + "\n", encoding="utf-8"
        )
        target = ledger_url or out / "ledger.db"
        started = time.perf_counter()
        world = build(scenario, target, keys=keys)
        world.run(None if progress is None else (lambda now, _size: progress(world, now)))
        seconds = time.perf_counter() - started
        expected_root = _rerun_root(scenario, keys) if check_determinism else None
        metrics = fold(target)
        invariants = check_invariants(
            target, expected_root=expected_root, live_balances=world.exchange.accounts.snapshot()
        )
    except BaseException as exc:
        if world is not None:
            world.abandon()
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc) or repr(exc)
        write_manifest(out, manifest.model_copy(update={"status": "failed", "error": reason}))
        raise
    result = RunResult(
        out=out,
        scenario=scenario,
        root=world.ledger.root(),
        statements=world.statements.hexdigest(),
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
        json.dumps(
            [
                {"name": r.name, "ok": r.ok, "checked": r.checked, "detail": r.detail}
                for r in invariants
            ],
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    (out / "summary.txt").write_text(summary_text(result), encoding="utf-8")
    write_manifest(
        out,
        manifest.model_copy(
            update={
                "status": "complete",
                "entries": result.entries,
                "root": result.root.hex(),
                "statements": result.statements,
                "verifier_key": world.ledger.log_identity.public.verifier_key,
            }
        ),
    )
    return result
