"""Rule conditions: structured TOML tables compiled once into closures with three-valued logic.

A condition is data, not a string to parse::

    { all = [ { fact = "exporter.ciio", eq = false }, { fact = "pi_subjects_ytd", gte = 100000 } ] }

Nodes: ``all = [...]``, ``any = [...]``, ``not = {...}``, and comparisons. A comparison has one
subject (``fact = "dotted.path"``, ``param = "name"`` — a pack parameter — or ``sum = [paths]``)
and one operator: ``eq``, ``ne``, ``lt``, ``lte``, ``gt``, ``gte``, ``in``, ``not_in`` or
``is_null`` (for the facts where ``null`` is a value). A value written ``"@name"`` is the pack
parameter ``name``, so a threshold is a pack edit, never code. ``{ condition = "name" }`` is a
named condition of the pack (its ``[conditions]`` table), written once and used by many rules.

Truth is Kleene's: a comparison on an absent fact is UNKNOWN; ``all`` is FALSE as soon as one
child is FALSE, ``any`` TRUE as soon as one is TRUE, ``not`` keeps UNKNOWN. So with fewer facts a
condition can only move from TRUE or FALSE to UNKNOWN, never from one to the other. Each node has a
fast evaluator (the truth value) and a tracing one (the value and the absent facts it hinged on).
Type mistakes (a fact that does not exist, a count compared with a string, ``lt`` on a boolean) are
load-time errors with the path of the offending key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from marketplace.crossborder.facts import FACTS, FactType

__all__ = ["FALSE", "TRUE", "UNKNOWN", "Condition", "ConditionError", "compile_condition"]

FALSE, TRUE, UNKNOWN = 0, 1, 2
Facts = Mapping[str, Any]
Loc = tuple[str | int, ...]
Fast = Callable[[Facts], int]
Refs = Callable[[str, Loc], "Condition"]

_MISSING = object()
_CODE = re.compile(r"^[A-Z]{2}$")
_ORDER = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}
_OPERATORS = ("eq", "ne", *_ORDER, "in", "not_in", "is_null")
_SUBJECTS = ("fact", "param", "sum")
_SYMBOL = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}


class ConditionError(Exception):
    """A condition that cannot compile: ``loc`` is the key path inside the condition."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(loc, message)
        self.loc, self.message = loc, message


class Condition:
    """A compiled condition: ``fast(facts)`` → TRUE/FALSE/UNKNOWN; ``trace(facts)`` → the value and
    the absent facts that made it UNKNOWN; ``paths`` the facts it reads; ``text`` for people."""

    __slots__ = ("fast", "paths", "text", "trace")

    def __init__(
        self,
        fast: Fast,
        trace: Callable[[Facts], tuple[int, frozenset[str]]],
        paths: frozenset[str],
        text: str,
    ) -> None:
        self.fast, self.trace, self.paths, self.text = fast, trace, paths, text

    @property
    def constant(self) -> int | None:
        """TRUE or FALSE when the condition reads no fact (parameters only), else None."""
        return None if self.paths else self.fast({})


_NONE: frozenset[str] = frozenset()


def _const(value: bool, text: str) -> Condition:
    v = TRUE if value else FALSE
    return Condition(lambda facts: v, lambda facts: (v, _NONE), _NONE, text)


def _no_refs(name: str, loc: Loc) -> Condition:
    raise ConditionError(loc, f"unknown condition {name!r}: this pack names no conditions")


def compile_condition(
    spec: Any,
    params: Mapping[str, Any],
    refs: Refs = _no_refs,
    facts: Mapping[str, FactType] = FACTS,
) -> Condition:
    """Compile one condition table; raises :class:`ConditionError` naming the bad key.
    ``refs(name, loc)`` returns the compiled named condition ``name``."""
    return _compile(spec, (), params, facts, refs)


def _compile(
    spec: Any, loc: Loc, params: Mapping[str, Any], facts: Mapping[str, FactType], refs: Refs
) -> Condition:
    if not isinstance(spec, dict) or not spec:
        raise ConditionError(loc, "a condition is a table: all, any, not, or a comparison")
    if "condition" in spec:
        name = spec["condition"]
        if len(spec) != 1 or not isinstance(name, str):
            raise ConditionError((*loc, "condition"), 'a reference is one key: condition = "name"')
        named = refs(name, (*loc, "condition"))
        return Condition(named.fast, named.trace, named.paths, f"[{name}]")
    logic = [k for k in ("all", "any", "not") if k in spec]
    if logic:
        if len(spec) != 1:
            extra = sorted(set(spec) - {logic[0]})[0]
            raise ConditionError(
                (*loc, extra), f"unexpected beside {logic[0]!r}: a node is one thing"
            )
        key = logic[0]
        if key == "not":
            return _not(_compile(spec["not"], (*loc, "not"), params, facts, refs))
        items = spec[key]
        if not isinstance(items, list) or not items:
            raise ConditionError((*loc, key), f"{key} takes a non-empty array of conditions")
        kids = [_compile(c, (*loc, key, i), params, facts, refs) for i, c in enumerate(items)]
        return _all(kids) if key == "all" else _any(kids)
    return _comparison(spec, loc, params, facts)


def _comparison(
    spec: dict[str, Any], loc: Loc, params: Mapping[str, Any], facts: Mapping[str, FactType]
) -> Condition:
    for key in spec:
        if key not in _SUBJECTS and key not in _OPERATORS:
            allowed = ", ".join((*_SUBJECTS, *_OPERATORS, "all", "any", "not", "condition"))
            raise ConditionError((*loc, key), f"unknown key; allowed: {allowed}")
    subjects = [k for k in _SUBJECTS if k in spec]
    ops = [k for k in _OPERATORS if k in spec]
    if len(subjects) != 1:
        raise ConditionError(loc, "a comparison names one of fact, param or sum")
    if len(ops) != 1:
        where = (*loc, ops[1]) if len(ops) > 1 else loc
        raise ConditionError(where, f"a comparison has one operator: {', '.join(_OPERATORS)}")
    subject, op = subjects[0], ops[0]
    value = _resolve(spec[op], (*loc, op), params)
    if subject == "param":
        return _param(spec["param"], op, value, loc, params)
    if subject == "sum":
        return _sum(spec["sum"], op, value, loc, facts)
    path = spec["fact"]
    if not isinstance(path, str) or path not in facts:
        raise ConditionError((*loc, "fact"), f"unknown fact {path!r}; {_suggest(path, facts)}")
    fact = facts[path]
    _check(fact, op, value, (*loc, op))
    return _fact(fact, op, value)


def _suggest(name: Any, known: Mapping[str, Any]) -> str:
    """``did you mean 'x'?`` when a known name is close, else the whole list."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else "known: " + (", ".join(known) or "none")


def _resolve(value: Any, loc: Loc, params: Mapping[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        name = value[1:]
        if name not in params:
            raise ConditionError(loc, f"unknown parameter {name!r}; {_suggest(name, params)}")
        return params[name]
    return value


def _kind_ok(fact: FactType, value: Any) -> bool:
    if fact.kind == "bool":
        return isinstance(value, bool)
    if fact.kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if fact.kind == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if fact.kind == "code":
        return isinstance(value, str) and bool(_CODE.match(value))
    return isinstance(value, str) and value in fact.choices


def _check(fact: FactType, op: str, value: Any, loc: Loc) -> None:
    if op == "is_null":
        if not fact.nullable:
            raise ConditionError(
                loc,
                f"{fact.path} is never null (is_null is for exporter.ftz, safeguard, derogation)",
            )
        if not isinstance(value, bool):
            raise ConditionError(loc, f"{value!r} is not allowed: is_null takes true or false")
        return
    if op in _ORDER and fact.kind not in ("int", "date"):
        raise ConditionError(
            loc, f"{op} compares counts or dates; {fact.path} is {fact.describe()}"
        )
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(loc, f"{op} takes a non-empty array of values")
        bad = [v for v in value if not _kind_ok(fact, v)]
        if bad:
            raise ConditionError(
                loc, f"{bad[0]!r} is not allowed: {fact.path} is {fact.describe()}"
            )
        return
    if not _kind_ok(fact, value):
        raise ConditionError(loc, f"{value!r} is not allowed: {fact.path} is {fact.describe()}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_show, value)) + "]"
    return str(value)


def _fact(fact: FactType, op: str, value: Any) -> Condition:
    path = fact.path
    test: Callable[[Any], bool]
    if op == "is_null":
        want = bool(value)
        test, text = (lambda v: (v is None) is want), f"{path} is {'null' if want else 'set'}"
    elif op in ("in", "not_in"):
        members = frozenset(value)
        inside = op == "in"
        test = lambda v: (v in members) is inside  # noqa: E731
        text = f"{path} {'in' if inside else 'not in'} {_show(sorted(value, key=str))}"
    else:
        fn = {"eq": operator.eq, "ne": operator.ne, **_ORDER}[op]
        test = lambda v: v is not None and fn(v, value)  # noqa: E731
        if op == "ne":
            test = lambda v: v != value  # noqa: E731
        text = f"{path} {_SYMBOL[op]} {_show(value)}"
    missing = frozenset({path})

    def fast(facts: Facts) -> int:
        v = facts.get(path, _MISSING)
        if v is _MISSING:
            return UNKNOWN
        return TRUE if test(v) else FALSE

    def trace(facts: Facts) -> tuple[int, frozenset[str]]:
        v = fast(facts)
        return v, (missing if v == UNKNOWN else _NONE)

    return Condition(fast, trace, missing, text)


def _param(name: Any, op: str, value: Any, loc: Loc, params: Mapping[str, Any]) -> Condition:
    if not isinstance(name, str) or name not in params:
        raise ConditionError(
            (*loc, "param"), f"unknown parameter {name!r}; {_suggest(name, params)}"
        )
    have = params[name]
    try:
        if op == "is_null":
            raise TypeError
        if op in ("in", "not_in"):
            result = (have in value) is (op == "in")
        else:
            fn = {"eq": operator.eq, "ne": operator.ne, **_ORDER}[op]
            if type(have) is not type(value):
                raise TypeError
            result = bool(fn(have, value))
    except TypeError:
        raise ConditionError(
            (*loc, op), f"{value!r} cannot be compared with parameter {name} = {have!r}"
        ) from None
    shown = _SYMBOL.get(op, op.replace("_", " "))
    return _const(result, f"parameter {name} {shown} {_show(value)} ({_show(have)})")


def _sum(paths: Any, op: str, value: Any, loc: Loc, facts: Mapping[str, FactType]) -> Condition:
    if not isinstance(paths, list) or len(paths) < 2:
        raise ConditionError((*loc, "sum"), "sum takes an array of two or more count facts")
    for i, path in enumerate(paths):
        if not isinstance(path, str) or path not in facts or facts[path].kind != "int":
            raise ConditionError((*loc, "sum", i), f"{path!r} is not a count fact")
    if op not in _ORDER or not isinstance(value, int) or isinstance(value, bool):
        raise ConditionError((*loc, op), "a sum is compared with lt, lte, gt or gte and a count")
    fn, names = _ORDER[op], tuple(paths)
    text = f"{' + '.join(names)} {_SYMBOL[op]} {_show(value)}"

    def trace(facts: Facts) -> tuple[int, frozenset[str]]:
        gone = frozenset(p for p in names if p not in facts)
        if gone:
            return UNKNOWN, gone
        return (TRUE if fn(sum(facts[p] for p in names), value) else FALSE), _NONE

    return Condition(lambda facts: trace(facts)[0], trace, frozenset(names), text)


def _not(kid: Condition) -> Condition:
    if kid.constant is not None:
        return _const(kid.constant == FALSE, f"not ({kid.text})")
    flip = (TRUE, FALSE, UNKNOWN)  # indexed by FALSE, TRUE, UNKNOWN
    fast = kid.fast

    def trace(facts: Facts) -> tuple[int, frozenset[str]]:
        v, gone = kid.trace(facts)
        return flip[v], gone

    return Condition(lambda facts: flip[fast(facts)], trace, kid.paths, f"not ({kid.text})")


def _join(kids: Sequence[Condition], word: str) -> str:
    return f" {word} ".join(
        f"({k.text})" if (" and " in k.text or " or " in k.text) else k.text for k in kids
    )


def _all(kids: list[Condition]) -> Condition:
    if any(k.constant == FALSE for k in kids):
        return _const(False, _join(kids, "and"))
    live = [k for k in kids if k.constant is None]
    if not live:
        return _const(True, _join(kids, "and"))
    if len(live) == 1:
        return live[0]
    fasts = tuple(k.fast for k in live)

    def fast(facts: Facts) -> int:
        unknown = False
        for f in fasts:
            v = f(facts)
            if v == FALSE:
                return FALSE
            if v == UNKNOWN:
                unknown = True
        return UNKNOWN if unknown else TRUE

    def trace(facts: Facts) -> tuple[int, frozenset[str]]:
        gone: set[str] = set()
        for k in live:
            v, g = k.trace(facts)
            if v == FALSE:
                return FALSE, _NONE
            gone |= g
        return (UNKNOWN, frozenset(gone)) if gone else (TRUE, _NONE)

    return Condition(fast, trace, frozenset().union(*(k.paths for k in live)), _join(live, "and"))


def _any(kids: list[Condition]) -> Condition:
    if any(k.constant == TRUE for k in kids):
        return _const(True, _join(kids, "or"))
    live = [k for k in kids if k.constant is None]
    if not live:
        return _const(False, _join(kids, "or"))
    if len(live) == 1:
        return live[0]
    fasts = tuple(k.fast for k in live)

    def fast(facts: Facts) -> int:
        unknown = False
        for f in fasts:
            v = f(facts)
            if v == TRUE:
                return TRUE
            if v == UNKNOWN:
                unknown = True
        return UNKNOWN if unknown else FALSE

    def trace(facts: Facts) -> tuple[int, frozenset[str]]:
        gone: set[str] = set()
        for k in live:
            v, g = k.trace(facts)
            if v == TRUE:
                return TRUE, _NONE
            gone |= g
        return (UNKNOWN, frozenset(gone)) if gone else (FALSE, _NONE)

    return Condition(fast, trace, frozenset().union(*(k.paths for k in live)), _join(live, "or"))
