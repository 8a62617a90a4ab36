"""Finding, validating and compiling policy packs (once: compiled packs are cached by path).

Built-in packs live beside the scenarios, in ``scenarios/policies/`` (DESIGN §5); the engine finds
them by path, not by import, so the layers still only import downwards. Every mistake in a pack is
a :class:`PackError` naming the file, the line, the rule (by index and id) and the field, the way
scenario errors do (``marketplace.tomlfile`` does the locating for both).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marketplace.crossborder.conditions import Condition, ConditionError, compile_condition
from marketplace.crossborder.engine import (
    ALLOWED,
    CONDITIONAL,
    EXEMPTION,
    FORBIDDEN,
    CompiledMechanism,
    CompiledRule,
    Pack,
    Scope,
)
from marketplace.crossborder.schema import (
    Cites,
    Instrument,
    Mechanism,
    PackFile,
    RuleSpec,
    cited_instruments,
    render_citations,
)
from marketplace.tomlfile import ConfigError, load_toml, locate, validate

__all__ = ["BUILTIN_DIR", "PackError", "builtin_packs", "load_pack", "resolve_pack"]

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "policies"
Loc = tuple[str | int, ...]
_RULE_FIELD = re.compile(r"^rules\[(\d+)\](?:\.(.*))?$")
_TIER = {"forbidden": FORBIDDEN, "conditional": CONDITIONAL, "allowed": ALLOWED}


class PackError(ConfigError):
    """A policy pack to fix: ``str()`` starts with ``file:line: field: what is wrong``."""

    unnamed = "<pack>"

    def __str__(self) -> str:
        if self.path is None and self.line is None:  # not about a file: no location to give
            return (f"{self.field}: " if self.field else "") + self.message
        return super().__str__()


def builtin_packs() -> dict[str, Path]:
    """The built-in packs by name."""
    return {path.stem: path for path in sorted(BUILTIN_DIR.glob("*.toml"))}


def resolve_pack(name_or_path: str | Path, base: Path | None = None) -> Path:
    """A pack file: a path (relative to ``base``, the extending pack's folder), or a built-in."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith(".toml"):
        path = Path(text) if base is None or Path(text).is_absolute() else base / text
        return path.resolve()
    builtins = builtin_packs()
    if text in builtins:
        return builtins[text].resolve()
    allowed = ", ".join(builtins) or "none"
    raise PackError(None, None, "", f"unknown policy pack {text!r}; built-in packs: {allowed}")


_CACHE: dict[tuple[Path, bool], tuple[tuple[tuple[Path, int], ...], Pack]] = {}


def _stamp(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def load_pack(name_or_path: str | Path, *, counterfactual: bool = False) -> Pack:
    """Load, validate and compile a pack (a built-in name or a path); cached until a file of it
    (itself or a pack it extends) changes.

    ``counterfactual`` compiles the pack without its ``in_force`` dates, so a study can apply a
    regime to a world dated when it was not in force (the 2022 regime to transfers of 2024, to
    compare it with the 2024 Provisions on the same market). Date conditions inside its rules
    still apply. Decisions of such a pack are not statements of the law in force.
    """
    path = resolve_pack(name_or_path)
    key = (path, counterfactual)
    hit = _CACHE.get(key)
    if hit is not None and all(_stamp(p) == stamp for p, stamp in hit[0]):
        return hit[1]
    pack = _Compiler(_chain(path, ()), counterfactual=counterfactual).pack()
    _CACHE[key] = (tuple((p, _stamp(p)) for p in pack.files), pack)
    return pack


class _File:
    """One pack file of a chain, with what is needed to locate errors in it."""

    def __init__(self, path: Path, spec: PackFile, source: str, data: dict[str, Any]) -> None:
        self.path, self.spec, self.source, self.data = path, spec, source, data

    def error(self, loc: Loc, message: str) -> PackError:
        return PackError(self.path, locate(self.source, loc), _field(loc, self.data), message)


def _field(loc: Loc, data: Mapping[str, Any]) -> str:
    """``rules[3] (id "x"): when.all[1].gte`` — the rule named by its id as well as its index."""
    text = ""
    for seg in loc:
        text += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if text else seg)
    match = _RULE_FIELD.match(text)
    if not match:
        return text
    rules = data.get("rules")
    index = int(match[1])
    rule = rules[index] if isinstance(rules, list) and index < len(rules) else None
    rule_id = rule.get("id") if isinstance(rule, dict) else None
    head = f'rules[{index}] (id "{rule_id}")' if isinstance(rule_id, str) else f"rules[{index}]"
    return f"{head}: {match[2]}" if match[2] else head


def _named(exc: PackError, data: Mapping[str, Any]) -> PackError:
    """The same error, its field rewritten to name the rule's id."""

    def one(e: ConfigError) -> PackError:
        field = e.field
        match = _RULE_FIELD.match(field)
        if match:
            loc: Loc = ("rules", int(match[1]), *(match[2].split(".") if match[2] else ()))
            field = _field(loc, data)
        return PackError(e.path, e.line, field, e.message)

    first = one(exc)
    first.others = tuple(one(o) for o in exc.others)
    return first


def _chain(path: Path, seen: tuple[Path, ...]) -> list[_File]:
    """The pack and the packs it extends, root first."""
    if path in seen:
        raise PackError(seen[-1], None, "extends", f"packs extend each other in a cycle ({path})")
    data, source = load_toml(path, "policy pack", PackError)
    try:
        spec = validate(PackFile, data, source, path, PackError)
    except PackError as exc:
        raise _named(exc, data) from None
    here = _File(path, spec, source, data)
    if spec.extends is None:
        return [here]
    try:
        parent = resolve_pack(spec.extends, base=path.parent)
    except PackError as exc:
        raise here.error(("extends",), exc.message) from None
    if not parent.is_file():
        raise here.error(("extends",), f"no such policy pack file: {parent}")
    return [*_chain(parent, (*seen, path)), here]


class _Compiler:
    def __init__(self, chain: list[_File], *, counterfactual: bool = False) -> None:
        self.counterfactual = counterfactual
        self.chain = chain
        self.leaf = chain[-1]
        self.instruments: dict[str, Instrument] = {}
        self.mechanisms: dict[str, tuple[_File, Mechanism]] = {}
        self.params: dict[str, Any] = {}
        self.conditions: dict[str, tuple[_File, Any]] = {}
        self.compiled: dict[str, Condition] = {}
        self.compiling: list[str] = []
        self.rule_ids: dict[str, str] = {}  # id -> where it was first written

    def pack(self) -> Pack:
        for f in self.chain:
            self._declare(f)
        root = self.chain[0]
        if root.spec.scope is None or root.spec.default is None:
            missing = "scope" if root.spec.scope is None else "default"
            raise root.error(
                (missing,),
                "required field is missing (a pack that extends none has a scope and a default)",
            )
        for name, (f, _raw) in self.conditions.items():  # an unused condition is still checked
            try:
                self._ref(name, ("conditions", name))
            except ConditionError as exc:
                raise f.error(exc.loc, exc.message) from None
        rules: list[CompiledRule] = []
        for f in self.chain:
            for i, spec in enumerate(f.spec.rules):
                rules.append(self._rule(f, i, spec, len(rules)))
        name = self.leaf.spec.name
        scope, default = root.spec.scope, root.spec.default
        scope_cite = self._cite(root, ("scope", "cite"), scope.cite)
        default_cite = self._cite(root, ("default", "cite"), default.cite)
        return Pack(
            name=name,
            title=self.leaf.spec.title,
            chain=tuple(f.spec.name for f in reversed(self.chain)),
            files=tuple(f.path for f in self.chain),
            spec=self.leaf.spec,
            params=self.params,
            conditions=self.compiled,
            mechanisms=self._mechanisms(),
            rules=rules,
            scope=Scope(f"{name}/not-applicable", self._scope(root), scope_cite, scope.because),
            default=(f"{name}/default-deny", default_cite, default.because),
            negative_lists=[
                (f.spec.name, f.spec.negative_list) for f in self.chain if f.spec.negative_list
            ],
        )

    def _declare(self, f: _File) -> None:
        spec = f.spec
        if spec.extends is not None:
            for key in ("scope", "default"):
                if getattr(spec, key) is not None:
                    raise f.error(
                        (key,),
                        f"a pack that extends another inherits its {key}; it may not change it",
                    )
        for table, own in (("instruments", spec.instruments), ("params", spec.params)):
            have: dict[str, Any] = getattr(self, table)
            for key, value in own.items():
                if key in have:
                    raise f.error(
                        (table, key),
                        "already defined by the pack this one extends; "
                        f"a child pack may not change its parent's {table}",
                    )
                have[key] = value
        for key, raw in spec.conditions.items():
            if key in self.conditions:
                raise f.error(("conditions", key), "already defined by the pack this one extends")
            self.conditions[key] = (f, raw)
        for key, mech in spec.mechanisms.items():
            if key in self.mechanisms:
                raise f.error(("mechanisms", key), "already defined by the pack this one extends")
            self.mechanisms[key] = (f, mech)

    def _cite(self, f: _File, loc: Loc, cites: Cites | None) -> str:
        for i, name in enumerate(cited_instruments(cites)):
            if name not in self.instruments:
                where = (*loc, i) if isinstance(cites, list) else loc
                known = ", ".join(self.instruments) or "none"
                raise f.error(
                    (*where, "instrument"), f"unknown instrument {name!r}; instruments: {known}"
                )
        return render_citations(cites, self.instruments)

    def _condition(self, f: _File, loc: Loc, spec: Any) -> Condition:
        try:
            return compile_condition(spec, self.params, self._ref)
        except ConditionError as exc:
            raise f.error((*loc, *exc.loc), exc.message) from None

    def _ref(self, name: str, loc: Loc) -> Condition:
        """A named condition, compiled once (errors in it are located where it is written)."""
        if name in self.compiled:
            return self.compiled[name]
        if name not in self.conditions:
            known = ", ".join(self.conditions) or "none"
            raise ConditionError(loc, f"unknown condition {name!r}; conditions: {known}")
        if name in self.compiling:
            raise ConditionError(
                loc,
                f"conditions refer to each other in a cycle: {' → '.join([*self.compiling, name])}",
            )
        f, raw = self.conditions[name]
        self.compiling.append(name)
        try:
            self.compiled[name] = self._condition(f, ("conditions", name), raw)
        finally:
            self.compiling.pop()
        return self.compiled[name]

    def _scope(self, f: _File) -> Any:
        scope = f.spec.scope
        assert scope is not None
        self._condition(f, ("scope", "applies"), scope.applies)  # errors located in `applies`
        parts: list[Any] = [scope.applies]
        if scope.in_force is not None and not self.counterfactual:
            parts.append({"fact": "date", "gte": scope.in_force.start})
            if scope.in_force.until is not None:
                parts.append({"fact": "date", "lt": scope.in_force.until})
        return self._condition(f, ("scope",), {"all": parts})

    def _rule(self, f: _File, i: int, spec: RuleSpec, index: int) -> CompiledRule:
        loc: Loc = ("rules", i)
        prefix = f"{f.spec.name}/"
        if not spec.id.startswith(prefix):
            raise f.error((*loc, "id"), f"a rule id starts with its pack's name: {prefix}...")
        if spec.id in self.rule_ids:
            raise f.error(
                (*loc, "id"), f"duplicate rule id {spec.id!r} (also {self.rule_ids[spec.id]})"
            )
        line = locate(f.source, (*loc, "id"))
        self.rule_ids[spec.id] = f"{f.path.name}:{line}"
        if spec.outcome == "conditional" and not spec.mechanisms:
            raise f.error(
                (*loc, "mechanisms"),
                "a conditional rule names the mechanisms that make the transfer lawful",
            )
        if spec.outcome != "conditional" and spec.mechanisms:
            raise f.error(
                (*loc, "mechanisms"),
                f"only conditional rules name mechanisms; this one is {spec.outcome}",
            )
        if spec.outcome == "forbidden" and spec.exemption:
            raise f.error((*loc, "exemption"), "a prohibition cannot be an exemption")
        for j, name in enumerate(spec.mechanisms):
            if name not in self.mechanisms:
                known = ", ".join(self.mechanisms) or "none"
                raise f.error(
                    (*loc, "mechanisms", j), f"unknown mechanism {name!r}; mechanisms: {known}"
                )
        when = self._condition(f, (*loc, "when"), spec.when)
        tier = EXEMPTION if spec.exemption else _TIER[spec.outcome]
        return CompiledRule(
            index, spec.id, spec.title, spec.outcome, tier, frozenset(spec.mechanisms), when,
            self._cite(f, (*loc, "cite"), spec.cite), spec.because, f.spec.name,
        )  # fmt: skip

    def _mechanisms(self) -> dict[str, CompiledMechanism]:
        direct: dict[str, frozenset[str]] = {}
        for name, (f, mech) in self.mechanisms.items():
            for j, other in enumerate(mech.supersedes):
                if other not in self.mechanisms or other == name:
                    raise f.error(
                        ("mechanisms", name, "supersedes", j), f"unknown mechanism {other!r}"
                    )
            if mech.valid_years is not None and (
                mech.renewal is None or mech.validity_cite is None
            ):
                raise f.error(
                    ("mechanisms", name, "valid_years"),
                    "a validity period needs renewal and validity_cite",
                )
            direct[name] = frozenset(mech.supersedes)
        out: dict[str, CompiledMechanism] = {}
        for name, (f, mech) in self.mechanisms.items():
            reach, todo = set(), list(direct[name])
            while todo:
                m = todo.pop()
                if m not in reach:
                    reach.add(m)
                    todo += direct[m]
            loc: Loc = ("mechanisms", name)
            validity = None
            if mech.valid_years is not None:
                cite = self._cite(f, (*loc, "validity_cite"), mech.validity_cite)
                validity = {"years": mech.valid_years, "renewal": mech.renewal, "citation": cite}
            out[name] = CompiledMechanism(
                name, mech.title, mech.lead_time_days, mech.lead_time_basis,
                self._cite(f, (*loc, "lead_time_cite"), mech.lead_time_cite), frozenset(reach),
                self._cite(f, (*loc, "supersedes_cite"), mech.supersedes_cite), validity,
            )  # fmt: skip
        return out
