"""An experiment's configuration: its TOML file (built-in or ``--scenario``), then ``--set``.

The file is validated first, so a mistake in it is reported at its line, the way scenarios
and policy packs are (:mod:`marketplace.tomlfile`). Each ``--set KEY=VALUE`` then replaces one
value: KEY is a dotted path of the file's keys (``task.view_noise``) and VALUE a TOML value
(``0.3``, ``true``, ``"exact"``; a bare word is taken as a string, so ``--set
allocation.method=exact`` needs no quotes). A mistake there is reported against the ``--set``
that made it, with what is allowed.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from marketplace import tomlfile
from marketplace.tomlfile import ConfigError
from scenarios.cli_errors import UserError

__all__ = ["ExperimentError", "Override", "load_config", "parse_override"]

M = TypeVar("M", bound=BaseModel)

_KEY = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


class ExperimentError(ConfigError):
    """An experiment configuration to fix (``str()`` is the whole report)."""

    unnamed = "<experiment>"


class Override:
    """One ``--set KEY=VALUE``, parsed; ``shown`` is how the user wrote it (``--set K=V``, or
    an experiment's own option such as ``--market 3``), for error messages."""

    def __init__(self, shown: str, key: tuple[str, ...], value: Any) -> None:
        self.shown, self.key, self.value = shown, key, value

    @property
    def dotted(self) -> str:
        return ".".join(self.key)


def parse_override(text: str, shown: str | None = None) -> Override:
    """Parse ``KEY=VALUE`` (given as ``shown``, by default ``--set KEY=VALUE``).

    Raises:
        UserError: no ``=``, or KEY is not a dotted path of bare keys.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not _KEY.fullmatch(key):
        raise UserError(
            f"{shown or '--set ' + repr(text)}: expected KEY=VALUE with KEY a dotted path "
            "such as task.view_noise"
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word: the string itself
    return Override(shown or f"--set {text}", tuple(key.split(".")), value)


def _assign(data: dict[str, Any], override: Override) -> None:
    node = data
    for depth, part in enumerate(override.key[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(override.key[: depth + 1])
            raise UserError(f"{override.shown}: {where} is a value, not a table")
        node = child
    node[override.key[-1]] = override.value


def _blame(error: ConfigError, overrides: Sequence[Override]) -> str:
    """The report of a validation error after ``--set``, naming the override that caused it."""
    field = error.field

    def related(o: Override) -> bool:
        return (
            field == o.dotted
            or field.startswith(o.dotted + ".")
            or o.dotted.startswith(field + ".")
        )

    culprit = next((o for o in reversed(overrides) if related(o)), None)
    where = culprit.shown if culprit else "with " + " ".join(o.shown for o in overrides)
    text = f"{where}: " + (f"{field}: " if field else "") + error.message
    if error.others:
        text += f" (and {len(error.others)} more problem{'s' * (len(error.others) > 1)})"
    return text


def load_config(model: type[M], path: Path, sets: Sequence[str | Override] = ()) -> M:
    """Read ``path``, validate it as ``model``, apply the ``--set`` overrides, validate again.

    Raises:
        UserError: the file cannot be read or is invalid (file:line: field: what is wrong;
            what is allowed), or an override is malformed or makes it invalid.
    """
    try:
        data, source = tomlfile.load_toml(path, "experiment", ExperimentError)
        valid = tomlfile.validate(model, data, source, path, ExperimentError)
    except ExperimentError as exc:
        raise UserError(str(exc)) from exc
    if not sets:
        return valid
    overrides = [o if isinstance(o, Override) else parse_override(o) for o in sets]
    merged = copy.deepcopy(data)
    for override in overrides:
        _assign(merged, override)
    try:
        return tomlfile.validate(model, merged, "", None, ExperimentError)
    except ExperimentError as exc:
        raise UserError(_blame(exc, overrides)) from exc
