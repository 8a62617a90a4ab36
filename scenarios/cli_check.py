"""``dxsim check RUN_DIR``: recompute a run's results from its ledger and compare.

``metrics.json``, ``invariants.json`` and the figures in ``run.json`` are not signed: they are
derived. So they are authenticated the only way derived files can be, by deriving them again from
the ledger (which is verified first) and comparing, figure by figure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger import AuditReport, audit
from marketplace.authorship import market_rules
from marketplace.errors import MarketError
from marketplace.invariants import (
    RUN_ONLY_NOTES,
    SAME_ROOT,
    InvariantResult,
    check_invariants,
)
from marketplace.metrics import fold
from scenarios.cli_errors import EXIT_FAILED, EXIT_INCOMPLETE, UserError, one_line_errors
from scenarios.cli_ledger import verdict
from scenarios.rundir import RunManifest, ledger_location, read_manifest

__all__ = ["check", "compare_files", "register"]


def _stored_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {"__unreadable__": str(exc).splitlines()[0]}


def _metric_problems(stored: Any, derived: dict[str, Any]) -> list[str]:
    if stored is None:
        return ["metrics.json is missing"]
    if not isinstance(stored, dict) or "__unreadable__" in stored:
        return ["metrics.json is not a metrics file"]
    problems = []
    for name in sorted(set(stored) | set(derived)):
        if name not in derived:
            problems.append(f"metrics.json: {name}: not a figure the ledger gives")
        elif name not in stored:
            problems.append(f"metrics.json: {name}: missing")
        elif stored[name] != derived[name]:
            problems.append(
                f"metrics.json: {name}: stored {_short(stored[name])}, the ledger gives "
                f"{_short(derived[name])}"
            )
    return problems


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _stored_detail(item: dict[str, Any], name: str) -> Any:
    detail = item.get("detail")
    if name in RUN_ONLY_NOTES and isinstance(detail, str):
        return detail.removesuffix(RUN_ONLY_NOTES[name])
    return detail


def _invariant_problems(
    stored: Any, derived: list[InvariantResult], report: AuditReport
) -> list[str]:
    if not isinstance(stored, list) or not all(isinstance(item, dict) for item in stored):
        return ["invariants.json is missing or not an invariants file"]
    problems = []
    by_name = {str(item.get("name")): item for item in stored}
    for number, result in enumerate(derived, start=1):
        item = by_name.get(result.name)
        where = f"invariants.json: invariant {number} {result.name}"
        if item is None:
            problems.append(f"{where}: missing")
        elif result.name == SAME_ROOT:
            # Only a second run can re-check it; what it claims must at least be this root.
            detail = str(item.get("detail", ""))
            unchecked = item.get("checked") is False
            if item.get("ok") is not True or (report.root.hex() not in detail and not unchecked):
                problems.append(
                    f"{where}: claims {detail!r}, but the ledger's root is {report.root.hex()}"
                )
        elif item.get("ok") != result.ok or _stored_detail(item, result.name) != result.detail:
            problems.append(
                f"{where}: stored {'ok' if item.get('ok') else 'FAIL'} {_short(item.get('detail'))}"
                f", the ledger gives {'ok' if result.ok else 'FAIL'} {_short(result.detail)}"
            )
    if len(stored) != len(derived):
        problems.append(f"invariants.json: {len(stored)} invariants, expected {len(derived)}")
    return problems


def _manifest_problems(manifest: RunManifest, report: AuditReport) -> list[str]:
    if manifest.status != "complete":
        return []
    claims = {
        "entries": (manifest.entries, report.entries),
        "root": (manifest.root, report.root.hex()),
        "statements": (manifest.statements, report.statements),
        "verifier_key": (manifest.verifier_key, report.verifier_key),
    }
    return [
        f"run.json: {name}: stored {_short(stored)}, the ledger gives {_short(actual)}"
        for name, (stored, actual) in claims.items()
        if stored != actual
    ]


def compare_files(
    run_dir: Path,
) -> tuple[AuditReport, RunManifest, list[str], list[InvariantResult]]:
    """Verify the ledger, re-derive every stored result and list what differs."""
    manifest = read_manifest(run_dir)
    if manifest is None:
        raise UserError(f"{run_dir} is not a dxsim run directory (no run.json)")
    location = ledger_location(run_dir)
    report = audit(location, domain=market_rules)
    invariants = check_invariants(location)
    try:
        derived = json.loads(json.dumps(fold(location).to_json()))
    except MarketError as exc:
        return report, manifest, [f"the ledger cannot be folded: {exc}"], invariants
    problems = _metric_problems(_stored_json(run_dir / "metrics.json"), derived)
    problems += _invariant_problems(_stored_json(run_dir / "invariants.json"), invariants, report)
    problems += _manifest_problems(manifest, report)
    return report, manifest, problems, invariants


@one_line_errors
def check(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Re-derive a run's metrics and invariants from its ledger and compare.

    Compares with metrics.json, invariants.json and run.json. Exit 0 when they all match, 1
    when anything differs or an invariant is broken, 4 when the run or its log is incomplete.
    """
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory")
    report, manifest, problems, invariants = compare_files(run_dir)
    line, code, outcome = verdict(report, manifest)
    broken = [r for r in invariants if not r.ok]
    if problems or broken:
        code = EXIT_FAILED
    if as_json:
        data = {
            "ledger": outcome,
            "summary": line,
            "differences": problems,
            "broken_invariants": [r.name for r in broken],
            "ok": code == 0,
        }
        sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    else:
        sys.stdout.write(f"{'ok  ' if report.verified else 'BAD '}  ledger: {line}\n")
        for problem in problems:
            sys.stdout.write(f"DIFF  {problem}\n")
        for result in broken:
            sys.stdout.write(f"FAIL  invariant {result.name}: {result.detail}\n")
        if code == 0:
            sys.stdout.write(f"OK  {run_dir}: metrics, invariants and run.json match the ledger\n")
        elif code == EXIT_INCOMPLETE:
            sys.stdout.write(
                f"INCOMPLETE  {run_dir}: stored results match, but the run is not complete\n"
            )
        else:
            counts = f"{len(problems)} difference(s), {len(broken)} broken invariant(s)"
            sys.stdout.write(f"MISMATCH  {run_dir}: {counts}\n")
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(check)
