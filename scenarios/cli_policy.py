"""``dxsim policy``: decide a transfer with a cross-border policy pack, explain it, test packs
against case files, list the built-in packs and show one pack's rules."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketplace.crossborder import (
    Decision,
    Pack,
    PackError,
    Transfer,
    builtin_packs,
    evaluate,
    load_pack,
    run_case_files,
)
from marketplace.tomlfile import ConfigError, validate
from scenarios.cli_errors import EXIT_FAILED, UserError, one_line_errors

__all__ = ["policy", "register"]

policy = typer.Typer(
    name="policy",
    help="Cross-border policy packs: decide a transfer, explain it, test packs, list them.",
    no_args_is_help=True,
)

PackOpt = Annotated[
    str, typer.Option("--pack", help="A built-in pack (prc-2024, gdpr-ch5, ...) or a pack file.")
]
FactsOpt = Annotated[
    Path, typer.Option("--facts", help="The transfer's facts: a JSON file in the spec's format.")
]


def _one_line(exc: ConfigError) -> UserError:
    """A pack or case-file mistake as one line (the first problem; the count of others)."""
    return UserError(str(exc).splitlines()[0])


def _pack(name_or_path: str) -> Pack:
    try:
        return load_pack(name_or_path)
    except ConfigError as exc:
        raise _one_line(exc) from exc


def _json_line(text: str, loc: tuple[str, ...]) -> int | None:
    """The line where a key path is written in JSON text (first match of each key in turn)."""
    at, found = 0, None
    for key in loc:
        match = re.compile(rf'"{re.escape(key)}"\s*:').search(text, at)
        if match is None:
            break
        at, found = match.end(), text.count("\n", 0, match.start()) + 1
    return found


def _facts(path: Path) -> Transfer:
    """Read and validate a facts file; every mistake is one line naming the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such facts file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: the facts are one JSON object")
    try:
        return validate(Transfer, data, "", path, PackError)
    except PackError as exc:
        line = _json_line(text, tuple(exc.field.split(".")))
        where = f"{path}:{line}" if line else str(path)
        raise UserError(f"{where}: {exc.field}: {exc.message}") from None


def _headline(d: Decision) -> str:
    head = f"{d.pack}: {d.outcome}"
    if len(d.any_of) == 1:
        head += f" — {d.fastest} ({d.lead_time_days} working days)"
    elif d.any_of:
        head += f" — any one of {', '.join(d.any_of)}"
        head += f" (fastest {d.fastest}: {d.lead_time_days} working days)"
    if d.missing:
        head += f" — missing {', '.join(d.missing)}"
    return head


@policy.command()
@one_line_errors
def check(
    pack: PackOpt,
    facts: FactsOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Decide one transfer: outcome, mechanisms, lead time, rules and citations."""
    decision = evaluate(_facts(facts), _pack(pack))
    if as_json:
        sys.stdout.write(decision.to_json() + "\n")
        return
    lines = [_headline(decision), "rules:", *(f"  {r}" for r in decision.rules)]
    lines += ["citations:", *(f"  {c}" for c in decision.citations)]
    sys.stdout.write("\n".join(lines) + "\n")


@policy.command()
@one_line_errors
def explain(pack: PackOpt, facts: FactsOpt) -> None:
    """The same decision as prose: each sentence with its citation."""
    decision = evaluate(_facts(facts), _pack(pack))
    out = [_headline(decision)]
    out += [f"{n}. {text}. [{cite}]" for n, (text, cite) in enumerate(decision.sentences, 1)]
    sys.stdout.write("\n".join(out) + "\n")


@policy.command("test")
@one_line_errors
def test_cases(
    target: Annotated[
        Path, typer.Argument(help="A case file, or a directory of *.toml / *.json case files.")
    ],
) -> None:
    """Run case files (facts + expected decision), like opa test: exit 1 on any failure."""
    try:
        results = run_case_files(target)
    except ConfigError as exc:
        raise _one_line(exc) from exc
    failed = [r for r in results if not r.ok]
    for r in failed:
        sys.stdout.write(f"FAIL {r.where()} [{r.pack}] {r.name}: {'; '.join(r.failures)}\n")
    files = len({r.file for r in results})
    sys.stdout.write(
        f"{len(results)} cases in {files} file{'s' * (files != 1)}: "
        f"{len(results) - len(failed)} passed, {len(failed)} failed\n"
    )
    if failed:
        raise typer.Exit(EXIT_FAILED)


@policy.command()
def packs() -> None:
    """List the built-in policy packs."""
    table = Table(title="built-in policy packs")
    for column in ("pack", "extends", "rules", "title"):
        table.add_column(column)
    for name in builtin_packs():
        p = _pack(name)
        table.add_row(name, p.extends or "", str(len(p.rules)), p.title)
    _console().print(table)


@policy.command()
@one_line_errors
def show(pack: Annotated[str, typer.Argument(help="A built-in pack name or a pack file.")]) -> None:
    """Show one pack: scope, parameters, mechanisms and rules."""
    p = _pack(pack)
    console = _console()
    chain = " → ".join(p.chain)
    console.print(f"[bold]{p.name}[/bold]: {p.title}\n  extends: {chain}", highlight=False)
    scope = f"  applies when: {p.scope.when.text}\n  default: {p.default_id}"
    console.print(scope, highlight=False)
    _table(console, "parameters", ("name", "value"), [(k, _show(v)) for k, v in p.params.items()])
    mechs = [
        (m.name, str(m.lead_time_days), m.citation or "(dxsim assumption)", _validity(m.validity))
        for m in p.mechanisms.values()
    ]
    _table(console, "mechanisms", ("mechanism", "working days", "citation", "validity"), mechs)
    if p.conditions:
        named = [(name, c.text) for name, c in p.conditions.items()]
        _table(console, "named conditions", ("name", "condition"), named)
    tiers = ("forbidden", "exemption", "conditional", "allowed")
    rules = [
        (r.id, tiers[r.tier], ", ".join(sorted(r.mechanisms)), r.when.text, r.citation)
        for r in p.rules
    ]
    _table(console, "rules", ("rule", "kind", "mechanisms", "when", "citation"), rules)
    for owner, listed in p.negative_lists:
        rows = [(s.name, s.zh or "") for s in listed.sectors]
        title = f"{owner}: {listed.zh_title or listed.title} (from {listed.effective})"
        _table(console, title, ("sector / category", ""), rows)


def _console() -> Console:
    """A terminal's own width; piped into a file, wide enough that rule ids never wrap."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _table(console: Console, title: str, columns: tuple[str, ...], rows: list[Any]) -> None:
    table = Table(title=title, show_lines=title == "rules")
    for i, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _validity(v: Any) -> str:
    return f"{v['years']} years ({v['citation']})" if v else ""


def register(app: typer.Typer) -> None:
    app.add_typer(policy, name="policy")
