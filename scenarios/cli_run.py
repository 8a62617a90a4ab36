"""Scenario commands of the ``dxsim`` CLI: run, validate, scenarios, demo."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ledger import Keystore, ResumeMismatch, Store, audit, is_url
from ledger.identity import PASSPHRASE_ENV
from marketplace.authorship import market_rules
from scenarios.build import LOG_ID, World
from scenarios.catalog import builtin_scenarios, describe, resolve
from scenarios.cli_errors import EXIT_FAILED, UserError, one_line_errors
from scenarios.keys import KeySource, find_key_secret, refuse_inside, run_keys
from scenarios.load import ScenarioError, load
from scenarios.overrides import OverrideError
from scenarios.plugins import PluginError, load_plugins
from scenarios.report import invariant_lines, summary_table
from scenarios.run import RunResult, resume_run, run_scenario
from scenarios.rundir import ledger_location, read_manifest
from scenarios.schema import Scenario

__all__ = ["PluginOption", "load_plugin_options", "register"]

ScenarioArg = Annotated[str, typer.Argument(help="Scenario file, or a built-in name (baseline).")]
KeySecretOption = Annotated[
    Path | None,
    typer.Option(
        help="File holding the key secret the run's keys derive from (default: "
        "$DXSIM_KEY_SECRET, $DXSIM_KEY_SECRET_FILE, else ~/.config/dxsim/key-secret)."
    ),
]


PluginOption = Annotated[
    list[str] | None,
    typer.Option(
        "--plugin",
        help="Import a module of your own strategies or mechanisms first (a .py file or a "
        "dotted module name; repeat for several).",
    ),
]


def load_plugin_options(plugins: list[str] | None) -> None:
    """Import the ``--plugin`` modules (each once per process)."""
    try:
        load_plugins(plugins or [])
    except PluginError as exc:
        raise UserError(str(exc)) from exc


def _load(name_or_path: str, overrides: Sequence[str] = ()) -> tuple[Scenario, str]:
    path = resolve(name_or_path)
    try:
        scenario = load(path, Scenario, overrides)
    except (ScenarioError, OverrideError) as exc:
        raise UserError(str(exc)) from exc
    return scenario, path.read_text(encoding="utf-8")


def _keys(
    scenario: Scenario, out: Path, key_secret: Path | None, keystore: Path | None
) -> tuple[KeySource, str]:
    """The run's identities and how the manifest names them: a keystore's random keys, or keys
    derived from the key secret; neither may live inside the run directory."""
    if keystore is not None:
        refuse_inside(keystore, out, "keystore")
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if not passphrase:
            if not sys.stdin.isatty():
                raise UserError(f"--keystore needs a passphrase: set {PASSPHRASE_ENV}")
            passphrase = typer.prompt("keystore passphrase", hide_input=True)
        store = Keystore(keystore, passphrase.encode())
        store.identity(LOG_ID, "log")  # a wrong passphrase fails here, before anything is written
        return (lambda identity_id, role: store.identity(identity_id, role)), "keystore"
    source = find_key_secret(key_secret)
    refuse_inside(source.path, out)
    if source.created:
        sys.stderr.write(
            f"dxsim: made a new key secret at {source.where} (keep it: the same secret, "
            "scenario and seed reproduce a ledger byte for byte)\n"
        )
    return run_keys(source.secret, scenario.run.seed), f"key secret {source.secret.fingerprint}"


def _execute(
    scenario: Scenario,
    source: str,
    out: Path,
    console: Console,
    *,
    keys: KeySource,
    keys_label: str,
    check_determinism: bool = True,
    ledger_url: str | None = None,
    force: bool = False,
) -> RunResult:
    days = scenario.run.days
    started = time.perf_counter()
    with _progress_bar(console) as bar:
        task = bar.add_task(scenario.run.name, total=days, entries=0, rate=0.0)

        progress = _progress_of(bar, task, started)

        return run_scenario(
            scenario,
            out,
            keys=keys,
            keys_label=keys_label,
            source_text=source,
            progress=progress,
            check_determinism=check_determinism,
            ledger_url=ledger_url,
            force=force,
        )


def _progress_bar(console: Console) -> Progress:
    """Sim-days done, ledger entries and trades/s, as a run goes."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("{task.fields[entries]:>9,} entries"),
        TextColumn("{task.fields[rate]:>7,.0f} trades/s"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _progress_of(bar: Progress, task: TaskID, started: float) -> Callable[[World, float], None]:
    """Update ``task`` with the sim-day, ledger size and trades/s since ``started``."""

    def progress(world: World, now: float) -> None:
        elapsed = max(1e-9, time.perf_counter() - started)
        rate = world.exchange.trading.contracts_signed / elapsed
        bar.update(task, completed=now, entries=world.ledger.size, rate=rate)

    return progress


def _report(result: RunResult, console: Console) -> None:
    console.print(summary_table(result))
    for line in invariant_lines(result):
        console.print(line, highlight=False)


def _keep_checkpoint(result: RunResult, path: Path | None, console: Console) -> None:
    """Say how to keep the log honest, and write its final checkpoint note to ``path``
    (outside the run directory, a new file) when asked."""
    manifest = read_manifest(result.out)
    key = manifest.verifier_key if manifest is not None else None
    console.print(f"verifier key: {key}", highlight=False)
    if path is None:
        console.print(
            "keep it and a checkpoint outside the run directory (dxsim checkpoint RUN > FILE) "
            "to catch a rewritten log later: dxsim verify RUN --key KEY --checkpoint FILE",
            highlight=False,
        )
        return
    refuse_inside(path, result.out, "checkpoint copy")
    store = Store(ledger_location(result.out))
    try:
        note = store.checkpoints()[-1][1]
    finally:
        store.close()
    with path.open("x", encoding="utf-8") as out:
        out.write(note)
    console.print(f"final checkpoint kept at {path}", highlight=False)


@one_line_errors
def run(
    scenario: Annotated[
        str | None,
        typer.Argument(help="Scenario file, or a built-in name (baseline); not with --resume."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=2**63 - 1, help="Override the scenario's seed.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (new, or empty).")] = None,
    days: Annotated[
        float | None, typer.Option(min=0.001, max=36_500, help="Override sim-days.")
    ] = None,
    no_rerun: Annotated[
        bool, typer.Option("--no-rerun", help="Skip the same-seed rerun (invariant 5).")
    ] = False,
    key_secret: KeySecretOption = None,
    keystore: Annotated[
        Path | None,
        typer.Option(help="Sign with random keys kept encrypted (PKCS#8) in this directory."),
    ] = None,
    ledger_url: Annotated[
        str | None,
        typer.Option(
            help="Write the ledger to this database (postgresql+psycopg://...[?schema=NAME]) "
            "instead of RUN_DIR/ledger.db; the run directory records where it is."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a previous dxsim run in --out (its files only)."),
    ] = False,
    keep_checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="Also write the final signed checkpoint to this new file, outside the run "
            "directory: `dxsim verify RUN --checkpoint FILE` then catches a rewritten log."
        ),
    ] = None,
    plugin: PluginOption = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Change one field for this run: PATH=VALUE, PATH dotted as in the file, list "
            "entries by index (population.2.count=8); VALUE in TOML. Repeatable.",
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Continue the killed or failed run in this directory: re-simulate it, check "
            "every regenerated entry against its ledger, append the rest.",
        ),
    ] = None,
) -> None:
    """Run a scenario into a run directory and check the five invariants."""
    load_plugin_options(plugin)
    if resume is not None:
        given = [
            name
            for name, value in (
                ("SCENARIO", scenario),
                ("--seed", seed),
                ("--out", out),
                ("--days", days),
                ("--set", set_),
                ("--force", force or None),
            )
            if value is not None
        ]
        if given:
            raise UserError(
                f"--resume continues the run as it was recorded; drop {', '.join(given)}"
            )
        _resume(
            resume,
            key_secret=key_secret,
            keystore=keystore,
            ledger_url=ledger_url,
            check_determinism=not no_rerun,
            keep_checkpoint=keep_checkpoint,
        )
        return
    if scenario is None:
        raise UserError("name a scenario (a file or a built-in: dxsim scenarios), or --resume RUN")
    loaded, source = _load(scenario, set_ or ())
    try:
        loaded = loaded.with_overrides(seed=seed, days=days)
    except ScenarioError as exc:
        raise UserError(str(exc)) from exc
    target = out or Path("runs") / f"{loaded.run.name}-seed{loaded.run.seed}"
    if ledger_url is not None and not is_url(ledger_url):
        raise UserError(f"--ledger-url {ledger_url!r} is not a URL (scheme://...)")
    if keep_checkpoint is not None and keep_checkpoint.exists():
        raise UserError(f"{keep_checkpoint} exists; --keep-checkpoint writes a new file")
    console = Console(stderr=False)
    keys, label = _keys(loaded, target, key_secret, keystore)
    result = _execute(
        loaded,
        source,
        target,
        console,
        keys=keys,
        keys_label=label,
        check_determinism=not no_rerun,
        ledger_url=ledger_url,
        force=force,
    )
    _report(result, console)
    _keep_checkpoint(result, keep_checkpoint, console)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _resume(
    folder: Path,
    *,
    key_secret: Path | None,
    keystore: Path | None,
    ledger_url: str | None,
    check_determinism: bool,
    keep_checkpoint: Path | None,
) -> None:
    """``dxsim run --resume RUN``: see :func:`scenarios.run.resume_run`."""
    if not (folder / "scenario.json").is_file():
        raise UserError(f"{folder}: not a dxsim run directory (no scenario.json to resume)")
    if keep_checkpoint is not None and keep_checkpoint.exists():
        raise UserError(f"{keep_checkpoint} exists; --keep-checkpoint writes a new file")
    try:
        recorded = Scenario.model_validate_json((folder / "scenario.json").read_bytes())
    except ValueError as exc:
        raise UserError(f"{folder / 'scenario.json'}: {str(exc).splitlines()[0]}") from exc
    console = Console(stderr=False)
    keys, label = _keys(recorded, folder, key_secret, keystore)
    started = time.perf_counter()
    with _progress_bar(console) as bar:
        task = bar.add_task(
            f"resume {recorded.run.name}", total=recorded.run.days, entries=0, rate=0.0
        )

        progress = _progress_of(bar, task, started)

        try:
            result = resume_run(
                folder,
                keys=keys,
                keys_label=label,
                ledger_url=ledger_url,
                progress=progress,
                check_determinism=check_determinism,
            )
        except ResumeMismatch as exc:
            raise UserError(f"{folder}: cannot resume: {exc}") from exc
    _report(result, console)
    _keep_checkpoint(result, keep_checkpoint, console)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


@one_line_errors
def validate(scenario: ScenarioArg, plugin: PluginOption = None) -> None:
    """Check a scenario file without running it."""
    load_plugin_options(plugin)
    loaded, _source = _load(scenario)
    kinds = ", ".join(
        f"{p.count} {p.kind}s" + (f" ({p.name})" if p.name else "") for p in loaded.population
    )
    sys.stdout.write(
        f"OK  {loaded.run.name}: {kinds}; {loaded.run.days:g} days, seed {loaded.run.seed}\n"
    )


def scenarios() -> None:
    """List the built-in scenarios."""
    for name, path in builtin_scenarios().items():
        sys.stdout.write(f"{name:<16} {describe(path)}\n")


@one_line_errors
def demo(
    out: Annotated[
        Path,
        typer.Option(help="Run directory: new, empty, or a previous dxsim run (replaced)."),
    ] = Path("runs/demo"),
    key_secret: KeySecretOption = None,
) -> None:
    """Run the baseline scenario into runs/demo, then verify its ledger from scratch.

    A previous dxsim run in the directory is replaced (only its own files); any other
    non-empty directory is refused.
    """
    loaded, source = _load("baseline")
    console = Console()
    keys, label = _keys(loaded, out, key_secret, None)
    result = _execute(loaded, source, out, console, keys=keys, keys_label=label, force=True)
    _report(result, console)
    report = audit(ledger_location(out), domain=market_rules)
    console.print(f"dxsim verify {out}", style="bold")
    sys.stdout.write(report.summary() + "\n")
    if not (result.ok and report.ok):
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(validate)
    app.command()(scenarios)
    app.command()(demo)
