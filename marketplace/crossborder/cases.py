"""Case files: facts and the decision the law gives them, run like ``opa test``.

A case file (TOML, or JSON of the same shape) names a pack and lists cases::

    pack = "prc-2024"              # a built-in name, or a path relative to this file
    nulls = ["exporter.ftz"]       # facts every case sets to null (TOML has no null)
    [base]                         # facts every case starts from
    origin = "CN"
    [[cases]]
    name = "99,999 people's non-sensitive PI: exempt"
    facts = { pi_subjects_ytd = 99_999 }     # deep-merged over [base]
    nulls = ["safeguard"]                    # set to null in this case (unless facts set them)
    unset = ["data.core"]                    # dotted facts removed after merging
    expect = { outcome = "allowed", any_of = [] }   # and optionally rules, missing, lead_time_days

``dxsim policy test DIR`` and the test suite run the same files.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from marketplace.crossborder.decision import Decision
from marketplace.crossborder.engine import Pack
from marketplace.crossborder.facts import FACTS, Transfer
from marketplace.crossborder.loader import PackError, load_pack, resolve_pack
from marketplace.tomlfile import load_toml, locate, validate

__all__ = ["CaseResult", "case_files", "run_case_files"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Spec):
    outcome: Literal["allowed", "conditional", "forbidden", "needs-information"]
    any_of: list[str]
    rules: list[str] | None = None
    missing: list[str] | None = None
    lead_time_days: int | None = None


class Case(_Spec):
    name: str
    facts: dict[str, Any] = {}
    nulls: list[str] = []
    unset: list[str] = []
    expect: Expect


class CaseFile(_Spec):
    pack: str
    nulls: list[str] = []
    base: dict[str, Any] = {}
    cases: list[Case]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case run: ``failures`` lists each expected-vs-actual difference (empty: it passed)."""

    file: Path
    line: int | None
    name: str
    pack: str
    failures: tuple[str, ...]
    decision: Decision
    transfer: Transfer

    @property
    def ok(self) -> bool:
        return not self.failures

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else str(self.file)


def case_files(target: Path) -> list[Path]:
    """A case file, or every ``*.toml`` / ``*.json`` case file under a directory."""
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise PackError(target, None, "", "no such case file or directory")
    return sorted(p for p in target.rglob("*") if p.suffix in (".toml", ".json") and p.is_file())


def run_case_files(target: Path | Iterable[Path]) -> list[CaseResult]:
    """Run every case of the file(s) (a directory is searched); bad files raise PackError."""
    files = case_files(target) if isinstance(target, Path) else list(target)
    return [result for path in files for result in _run_file(path)]


def _read(path: Path) -> tuple[CaseFile, str, dict[str, Any]]:
    if path.suffix == ".json":
        try:
            source = path.read_text(encoding="utf-8")
            data = json.loads(source)
        except FileNotFoundError:
            raise PackError(path, None, "", "no such case file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PackError(
                path, getattr(exc, "lineno", None), "", f"not a JSON case file: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise PackError(path, 1, "", "a case file is a JSON object")
    else:
        data, source = load_toml(path, "case", PackError)
    return validate(CaseFile, data, source, path, PackError), source, data


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` deep-merged onto a copy of ``base`` (the file's [base] is never changed)."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _unset(facts: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split(".")
    node: Any = facts
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)


def _set_null(facts: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split(".")
    node = facts
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = None


def _facts(case: Case, index: int, spec: CaseFile, path: Path, source: str) -> Transfer:
    facts = _merge(spec.base, case.facts)
    lists: list[tuple[tuple[str | int, ...], list[str]]] = [
        (("nulls",), spec.nulls),
        (("cases", index, "nulls"), case.nulls),
        (("cases", index, "unset"), case.unset),
    ]
    for where, paths in lists:
        for j, dotted in enumerate(paths):
            if dotted not in FACTS:
                field = ".".join(str(w) for w in where).replace(f".{index}.", f"[{index}].")
                line = locate(source, (*where, j))
                raise PackError(path, line, f"{field}[{j}]", f"unknown fact {dotted!r}")
    for dotted in [*spec.nulls, *case.nulls]:
        if dotted in case.nulls or not _has(case.facts, tuple(dotted.split("."))):
            _set_null(facts, dotted)
    for dotted in case.unset:
        _unset(facts, dotted)
    try:
        return Transfer.model_validate(facts)
    except ValidationError:
        pass
    try:  # the same report scenario files give, located in the case or in [base]
        validate(Transfer, facts, "", path, PackError)
    except PackError as exc:
        loc = tuple(exc.field.split("."))
        inside = _has(case.facts, loc)
        at: tuple[str | int, ...] = ("cases", index, "facts", *loc) if inside else ("base", *loc)
        field = f"cases[{index}].facts.{exc.field}" if inside else f"base.{exc.field}"
        raise PackError(path, locate(source, at), field, exc.message) from None
    raise AssertionError("unreachable: the facts failed to validate once")


def _has(facts: Mapping[str, Any], loc: tuple[str, ...]) -> bool:
    node: Any = facts
    for key in loc:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def _run_file(path: Path) -> list[CaseResult]:
    spec, source, _data = _read(path)
    try:
        pack = load_pack(resolve_pack(spec.pack, base=path.parent))
    except PackError as exc:
        if exc.path is None:  # an unknown built-in name: say where it was asked for
            raise PackError(path, locate(source, ("pack",)), "pack", exc.message) from None
        raise
    return [_run(pack, case, i, spec, path, source) for i, case in enumerate(spec.cases)]


def _run(pack: Pack, case: Case, i: int, spec: CaseFile, path: Path, source: str) -> CaseResult:
    transfer = _facts(case, i, spec, path, source)
    decision = pack.evaluate(transfer)
    want, failures = case.expect, []
    checks: list[tuple[str, Any, Any]] = [
        ("outcome", want.outcome, decision.outcome),
        ("any_of", sorted(want.any_of), list(decision.any_of)),
    ]
    if want.rules is not None:
        checks.append(("rules", want.rules, list(decision.rules)))
    if want.missing is not None:
        checks.append(("missing", sorted(want.missing), list(decision.missing)))
    if want.lead_time_days is not None:
        checks.append(("lead_time_days", want.lead_time_days, decision.lead_time_days))
    for key, expected, actual in checks:
        if expected != actual:
            failures.append(f"{key}: expected {expected!r}, got {actual!r}")
    line = locate(source, ("cases", i)) if path.suffix != ".json" else None
    return CaseResult(path, line, case.name, pack.name, tuple(failures), decision, transfer)
