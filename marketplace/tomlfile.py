"""Loading a TOML configuration file: TOML → dict → pydantic model, with errors a person can act on.

tomllib keeps no positions and pydantic's ``loc`` mixes union tags into field paths, so a small
token scanner finds the line where each key path is written, and each validation error becomes
``file:line: field.path: what is wrong; what is allowed``. Generic over the model class and the
error class: scenarios (``scenarios.load``) and cross-border policy packs
(``marketplace.crossborder``) share it, so both report mistakes the same way.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from contextlib import suppress
from enum import Enum
from functools import lru_cache
from pathlib import Path
from types import UnionType
from typing import (
    Annotated,
    Any,
    Literal,
    NoReturn,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
)

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "ConfigError", "load", "load_toml", "locate", "validate"]

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN = re.compile(  # strings and comments are one token each: an "=" or "[" in them is inert
    r'(?s)"""(?:\\.|[^\\])*?"{3,5}|"(?:\\.|[^"\\\n])*"'
    r"|'''.*?'{3,5}|'[^'\n]*'"
    r"""|#[^\n]*|\s+|[\[\]{},=.]|[^\s\[\]{},=.#"']+"""
)
_PREFIX = re.compile(r"^(Value error|Assertion failed), ")


class ConfigError(Exception):
    """A file to fix: ``str()`` is the whole report (so the CLI prints just that); the
    attributes describe the first problem, ``others`` the rest."""

    unnamed = "<input>"  # what ``path`` reads as when the text came from no file

    def __init__(self, path: Path | None, line: int | None, field: str, message: str) -> None:
        super().__init__(path, line, field, message)  # in args (and __dict__): it pickles
        self.path, self.line, self.field, self.message = path, line, field, message
        self.others: tuple[ConfigError, ...] = ()

    def _where(self) -> str:
        where = str(self.path) if self.path is not None else self.unnamed
        return f"{where}:{self.line}" if self.line is not None else where

    def __str__(self) -> str:
        head = f"{self._where()}: " + (f"{self.field}: " if self.field else "") + self.message
        if not self.others:
            return head
        head += f" (and {len(self.others)} more problem{'s' * (len(self.others) > 1)})"
        also = [f"  also {o._where()}: {o.field or o.message}" for o in self.others[:3]]
        return "\n".join([head, *also])


#: A configuration is a page of settings, not data: larger files are refused before parsing.
MAX_FILE_BYTES = 1 << 20
#: Tables and arrays nest at most this deep (the deepest scenario field is at depth 5).
MAX_DEPTH = 16


def _too_deep(data: Any) -> Loc | None:
    """The path of the first value nested deeper than :data:`MAX_DEPTH`, or None."""
    stack: list[tuple[Any, Loc]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if len(loc) > MAX_DEPTH:
            return loc
        if isinstance(value, dict):
            stack.extend((child, (*loc, str(key))) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, (*loc, index)) for index, child in enumerate(value))
    return None


def load_toml(
    path: Path, what: str = "file", error: type[ConfigError] = ConfigError
) -> tuple[dict[str, Any], str]:
    """Read and parse one TOML file; returns the text too, because errors are located in it.
    ``what`` names the kind of file in "no such ... file"; ``error`` is the class raised.

    Files over :data:`MAX_FILE_BYTES` and values nested deeper than :data:`MAX_DEPTH` are
    refused with a located error (deep nesting would otherwise end in a RecursionError).
    """
    try:
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise error(path, None, "", f"larger than {MAX_FILE_BYTES:,} bytes")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(path, None, "", f"no such {what} file") from None
    except IsADirectoryError:
        raise error(path, None, "", f"is a directory, not a {what} file") from None
    except OSError as exc:
        raise error(path, None, "", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise error(path, None, "", f"larger than {MAX_FILE_BYTES:,} bytes")
    try:
        source = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise error(path, line, "", f"not UTF-8 text (byte 0x{bad})") from None
    try:
        data = tomllib.loads(source)
    except RecursionError:
        raise error(path, None, "", f"nested deeper than {MAX_DEPTH} levels") from None
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        m = _AT_LINE.search(text)
        line = int(m[1]) if m else source.count("\n") + 1  # "(at end of document)"
        msg = _AT_LINE.sub(f" (column {m[2]})", text) if m else text.split(" (at ")[0]
        raise error(path, line, "", f"invalid TOML: {msg}") from None
    deep = _too_deep(data)
    if deep is not None:
        where = deep[:MAX_DEPTH]
        raise error(
            path, locate(source, where), _dotted(where), f"nested deeper than {MAX_DEPTH} levels"
        )
    return data, source


def load(
    path: str | Path, model: type[M], what: str = "file", error: type[ConfigError] = ConfigError
) -> M:
    """Read, parse and validate a TOML file."""
    data, source = load_toml(path := Path(path), what, error)
    return validate(model, data, source, path, error)


def validate(
    model: type[M],
    data: dict[str, Any],
    source: str,
    path: Path | None,
    error: type[ConfigError] = ConfigError,
) -> M:
    """Validate parsed TOML, turning pydantic's report into a located ``error``.

    A model may also judge itself as a whole once its fields are valid: its
    ``located_problems()`` returns (field path, message) pairs, reported like field errors.
    """
    try:
        valid = model.model_validate(data)
    except ValidationError as exc:
        _raise_located(model, data, source, path, error, exc)
    check = getattr(valid, "located_problems", None)
    problems: list[tuple[Loc, str]] = check() if callable(check) else []
    if problems:
        errors = [error(path, locate(source, loc), _dotted(loc), m) for loc, m in problems]
        errors[0].others = tuple(errors[1:])
        raise errors[0]
    return valid


def _raise_located(
    model: type[BaseModel],
    data: dict[str, Any],
    source: str,
    path: Path | None,
    error: type[ConfigError],
    exc: ValidationError,
) -> NoReturn:
    """Raise pydantic's report as one located ``error`` (the rest in ``others``)."""
    found: dict[str, ConfigError] = {}  # a union's members fail on one field: merge
    # In file order, but what is missing last: a misspelt key also makes a field missing.
    errors = [(err["type"] == "missing", *_describe(model, data, err)) for err in exc.errors()]
    suggested = {
        (*loc[:-1], text.split("did you mean ", 1)[1].split("'")[1])
        for _, loc, text in errors
        if "did you mean '" in text
    }
    for missing, loc, text in sorted(errors, key=lambda e: (e[0], locate(source, e[1]) or 0)):
        if missing and tuple(loc) in suggested:
            continue  # the same typo, seen from the other side: reported once, above
        if (field := _dotted(loc)) in found:
            text = f"{found[field].message} or {text}"
        found[field] = error(path, locate(source, loc), field, text)
    first, *others = found.values()
    first.others = tuple(others)
    raise first from exc


def _describe(model: type[BaseModel], data: Any, err: ErrorDetails) -> tuple[Loc, str]:
    """One error's user-visible field path and message (what was wrong, what is allowed)."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    loc, leaf, owner = _walk(model, data, err["loc"], kind == "missing")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = str(ctx.get("discriminator", "")).strip("'\"")
        loc += (tag,)
        if kind == "union_tag_not_found":
            return loc, "required field is missing (it selects the kind)"
        shown = _show(value.get(tag) if isinstance(value, dict) else ctx.get("tag"))
        return loc, f"unknown value {shown}; allowed: {ctx.get('expected_tags', '?')}"
    if kind == "extra_forbidden":
        if owner is None:
            return loc, "unknown field"
        allowed = sorted(f.alias or name for name, f in owner.model_fields.items())
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" did you mean {close[0]!r}?" if close else ""
        return loc, f"unknown field;{hint} allowed: {', '.join(allowed)}"
    if kind == "missing":
        return loc, "required field is missing"
    if kind in ("literal_error", "enum"):
        choices = _choices(leaf)
        expected = ", ".join(map(repr, choices)) if choices else ctx.get("expected", "?")
        return loc, f"unknown value {_show(value)}; allowed: {expected}"
    if kind in ("value_error", "assertion_error"):
        return loc, _PREFIX.sub("", err["msg"])
    return loc, f"{_show(value)} is not allowed: {err['msg']}"


def _walk(
    model: type[BaseModel], data: Any, loc: Sequence[str | int], missing: bool
) -> tuple[Loc, Any, type[BaseModel] | None]:
    """Follow pydantic's ``loc`` through model and data: (user's path, type there, owner model).
    Union tags and member labels in ``loc`` are not in the user's file: a string segment is one
    if it is the tag the data carries, or if the data has no such key."""
    out: list[str | int] = []
    tp, node, disc, owner = cast(Any, model), cast(Any, data), cast(str | None, None), None
    for i, seg in enumerate(loc):
        tp, disc = _unwrap(tp, disc)
        here = node if isinstance(node, dict) else {}
        is_union = get_origin(tp) in (Union, UnionType) and isinstance(seg, str)
        if is_union and ((disc and str(here.get(disc)) == seg) or seg not in here):
            tp, disc = _member(get_args(tp), disc, str(seg)), None  # a tag or a label: skip it
            continue
        owner = tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None
        if owner is not None:
            info = _field(owner, seg)
            tp, disc = (info.annotation, _disc(info)) if info else (None, None)
        elif get_origin(tp) in (list, set, frozenset, Sequence, dict, Mapping) and get_args(tp):
            tp = get_args(tp)[-1]  # the item type, or the value type of a mapping
        elif isinstance(seg, str) and seg not in here and not (missing and i == len(loc) - 1):
            continue  # a label pydantic added (a union member, a tag): not in the user's file
        else:
            tp = None
        out.append(seg)
        parent, node = node, None
        with suppress(LookupError, TypeError):
            node = parent[seg]
    return tuple(out), _unwrap(tp, None)[0], owner


def _member(members: tuple[Any, ...], disc: str | None, seg: str) -> Any:
    """The union member that pydantic's ``loc`` segment names: by tag value or by class name."""
    for m in members:
        info = _field(m, disc) if disc else None
        if seg in map(str, _choices(info and info.annotation)) or getattr(m, "__name__", 0) == seg:
            return m
    return None


def _field(model: Any, name: str | int) -> FieldInfo | None:
    """The field that ``name`` (its alias, if it has one) selects in ``model``."""
    fields: dict[str, FieldInfo] = getattr(model, "model_fields", {})
    return next((f for n, f in fields.items() if (f.alias or n) == name), None)


def _disc(info: Any) -> str | None:
    """A field's discriminator name, whether given as a string or a ``Discriminator``."""
    d = getattr(info, "discriminator", None)
    return d if isinstance(d := getattr(d, "discriminator", d), str) else None


def _unwrap(tp: Any, disc: str | None) -> tuple[Any, str | None]:
    """Strip ``Annotated`` and ``Optional``; pick up a discriminator from the metadata."""
    while get_origin(tp) in (Annotated, Union, UnionType):
        if get_origin(tp) is Annotated:
            disc = next((d for meta in tp.__metadata__ if (d := _disc(meta))), disc)
            tp = get_args(tp)[0]
        elif len(rest := [a for a in get_args(tp) if a is not type(None)]) == 1:
            tp = rest[0]
        else:
            break
    return tp, disc


def _choices(tp: Any) -> list[Any]:
    """The values a ``Literal`` or ``Enum`` allows; [] for anything else."""
    tp = _unwrap(tp, None)[0]
    if get_origin(tp) is Literal:
        return list(get_args(tp))
    return [m.value for m in tp] if isinstance(tp, type) and issubclass(tp, Enum) else []


def _show(value: Any) -> str:
    """The bad value as the user would write it, cut short so the message stays one line."""
    return text if len(text := repr(value)) <= 60 else text[:57] + "..."


def _dotted(loc: Loc) -> str:
    """``population[1].strategy``; keys that are not bare TOML keys are quoted."""
    parts = (
        f"[{seg}]" if isinstance(seg, int) else seg if _BARE_KEY.fullmatch(seg) else json.dumps(seg)
        for seg in loc
    )
    return ".".join(parts).replace(".[", "[")


def locate(source: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line where ``loc`` (or, failing that, its nearest ancestor) is written."""
    lines = _scan(source)
    key = tuple(loc)
    return next((lines[key[:n]] for n in range(len(key), 0, -1) if key[:n] in lines), None)


@lru_cache(maxsize=8)
def _scan(source: str) -> dict[Loc, int]:
    """Map every key path written in ``source`` to the line where it is first written: a scanner
    over tokens, not a parser (tomllib parsed the values); ``[[array]]`` headers are counted."""
    toks: list[tuple[str, int]] = []
    line = 1
    for m in _TOKEN.finditer(source):
        if not (m[0].isspace() or m[0][0] == "#"):
            toks.append((m[0], line))
        line += m[0].count("\n")
    toks += [("", 0)] * 2  # sentinels: lookahead never runs off the end
    lines: dict[Loc, int] = {}
    counts: dict[Loc, int] = {}  # array-of-tables path -> headers seen so far

    def keys(i: int, base: Loc) -> tuple[Loc, int]:
        """Read a dotted key at ``i``, recording each prefix under ``base``; next index."""
        while True:
            text, at = toks[i]
            base += (text if text[0] not in "\"'" else tomllib.loads(f"k = {text}")["k"],)
            lines.setdefault(base, at)
            if toks[i + 1][0] != ".":
                return base, i + 1
            i += 2

    def value(i: int, path: Loc) -> int:
        """Skip the value at ``i``, recording array items and inline-table keys; next index."""
        opener, at = toks[i]
        i, index = i + 1, 0
        if opener not in ("[", "{"):  # one token, or a number or date in pieces on its line
            while toks[i][1] == at and toks[i][0] not in (",", "]", "}"):
                i += 1
            return i
        while toks[i][0] not in ("]", "}", ""):
            if opener == "[":
                lines.setdefault((*path, index), toks[i][1])
                i, index = value(i, (*path, index)), index + 1
            else:
                inner, i = keys(i, path)
                i = value(i + 1, inner)
            i += toks[i][0] == ","
        return i + 1

    table: Loc = ()
    i = 0
    # On invalid TOML (locate is public), keep what was found before the damage.
    with suppress(IndexError, RecursionError, ValueError, tomllib.TOMLDecodeError):
        while i < len(toks) - 2:
            if toks[i][0] != "[":
                path, i = keys(i, table)
                i = value(i + 1, path)
                continue
            many, at = toks[i + 1][0] == "[", toks[i][1]
            path, i = keys(i + 1 + many, ())
            table = ()
            for depth, key in enumerate(path, 1):  # a parent that is an array: its last item
                table += (key,)
                table += (counts[table] - 1,) if depth < len(path) and table in counts else ()
                lines.setdefault(table, at)
            if many:
                counts[table] = counts.get(table, 0) + 1
                table += (counts[table] - 1,)
            lines[table] = at  # an explicit header beats an earlier implicit definition
            i += 1 + many
    return lines
