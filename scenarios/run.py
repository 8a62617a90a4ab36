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

from ledger import DiscardStore, LedgerError, LedgerSink, ResumingStore
from ledger.audit import VerifiedAtAppend
from ledger.store import without_password
from marketplace.invariants import InvariantResult, check_and_fold
from marketplace.metrics import Metrics, fold
from scenarios.build import World, build
from scenarios.cli_errors import UserError
from scenarios.keys import KeySource
from scenarios.plugins import loaded_plugins
from scenarios.report import summary_text
from scenarios.rundir import RunManifest, prepare_run_dir, read_manifest, write_manifest
from scenarios.schema import Scenario

__all__ = ["RunResult", "resume_run", "run_scenario"]

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
    cores: int = 2,
) -> RunResult:
    """Simulate ``scenario`` into ``out`` and check every invariant of DESIGN.md §6.

    Args:
        keys: where identities come from (see :mod:`scenarios.keys`).
        keys_label: how the manifest names them (a key secret's fingerprint, "keystore").
        ledger_url: write the ledger to this database instead of ``out/ledger.db``.
        force: replace a previous dxsim run in ``out`` (its files only).
        check_determinism: run the scenario a second time (writing nowhere) and require the
            same final Merkle root (invariant 5); without it that invariant is "not checked".
        cores: 1 keeps the whole run on one core (signatures verified inline, the audit on one
            thread), for callers that run several side by side; the ledger is the same.
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
    target = ledger_url or out / "ledger.db"

    def write_inputs() -> None:
        if source_text is not None:
            (out / "scenario.toml").write_text(source_text, encoding="utf-8")
        (out / "scenario.json").write_text(
            scenario.model_dump_json(indent=2) + "\n", encoding="utf-8"
        )

    return _simulate_and_check(
        scenario,
        out,
        manifest,
        target,
        lambda: target,
        keys=keys,
        progress=progress,
        check_determinism=check_determinism,
        before=write_inputs,
        cores=cores,
    )


def resume_run(
    out: Path,
    *,
    keys: KeySource,
    keys_label: str,
    ledger_url: str | None = None,
    progress: Progress | None = None,
    check_determinism: bool = True,
) -> RunResult:
    """Continue the run in ``out`` that was killed or failed (``dxsim run --resume``).

    The run is simulated again from the start with the scenario it recorded
    (``scenario.json``); every entry it makes inside the stored ledger must be the stored
    entry, byte for byte (:class:`ledger.ResumingStore`), and the entries after it are appended
    to the same ledger. Then the run ends as any run does: invariants, metrics, manifest.

    Raises:
        UserError: ``out`` is not a run that can be resumed, or the keys or ledger differ from
            the run's.
        ledger.ResumeMismatch: the rerun disagrees with the stored ledger (naming the seq).
    """
    manifest = read_manifest(out)
    if manifest is None:
        raise UserError(f"{out}: not a dxsim run directory (no {out / 'run.json'})")
    if manifest.status == "complete":
        raise UserError(f"{out}: the run is complete; there is nothing to resume")
    if manifest.keys != keys_label:
        raise UserError(
            f"{out}: the run was signed with {manifest.keys or 'unrecorded keys'}, not "
            f"{keys_label}: resume it with the same keys (--key-secret / --keystore)"
        )
    if manifest.ledger_is_url:
        if ledger_url is None or without_password(ledger_url) != manifest.ledger:
            raise UserError(
                f"{out}: the run's ledger is at {manifest.ledger}; pass that URL (with its "
                "password, if any) as --ledger-url"
            )
        target: str | Path = ledger_url
    else:
        if ledger_url is not None:
            raise UserError(f"{out}: the run's ledger is {manifest.ledger} in it, not a URL")
        target = out / manifest.ledger
    try:
        scenario = Scenario.model_validate_json((out / "scenario.json").read_bytes())
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise UserError(
            f"{out / 'scenario.json'}: cannot read the run's scenario ({reason})"
        ) from exc
    try:
        sink = ResumingStore(target)
    except LedgerError as exc:
        raise UserError(f"{out}: cannot resume: {exc}") from exc
    resumed = manifest.model_copy(update={"status": "incomplete", "error": None})
    write_manifest(out, resumed)
    return _simulate_and_check(
        scenario,
        out,
        resumed,
        target,
        lambda: sink,
        keys=keys,
        progress=progress,
        check_determinism=check_determinism,
        on_failure=sink.close,
    )


def _simulate_and_check(
    scenario: Scenario,
    out: Path,
    manifest: RunManifest,
    target: str | Path,
    sink: Callable[[], str | Path | LedgerSink],
    *,
    keys: KeySource,
    progress: Progress | None,
    check_determinism: bool,
    before: Callable[[], None] | None = None,
    on_failure: Callable[[], None] | None = None,
    cores: int = 2,
) -> RunResult:
    """Simulate into ``sink()``, check the invariants on ``target``, write the run's files."""
    world: World | None = None
    simulated = scenario
    if cores <= 1 and scenario.ledger.verify != "inline":
        inline = scenario.ledger.model_copy(update={"verify": "inline"})
        simulated = scenario.model_copy(update={"ledger": inline})
    try:
        if before is not None:
            before()
        started = time.perf_counter()
        world = build(simulated, sink(), keys=keys)
        world.run(None if progress is None else (lambda now, _size: progress(world, now)))
        seconds = time.perf_counter() - started
        expected_root = _rerun_root(simulated, keys) if check_determinism else None
        checked = check_and_fold(
            target,
            expected_root=expected_root,
            live_balances=world.exchange.accounts.snapshot(),
            threads=max(1, cores),
            verified_at_append=VerifiedAtAppend(world.ledger.size, world.ledger.root()),
        )
        invariants = checked.invariants
        # An entry that does not fold: fold() names it, as it did before the shared pass.
        metrics = checked.metrics if checked.metrics is not None else fold(target)
    except BaseException as exc:
        if world is not None:
            world.abandon()
        elif on_failure is not None:
            on_failure()
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
