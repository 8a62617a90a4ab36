"""Loading a scenario: TOML → dict → pydantic model, with errors a person can act on.

The machinery (a token scanner that finds the line of each key path, pydantic errors turned into
``file:line: field.path: what is wrong; what is allowed``) is ``marketplace.tomlfile``, shared
with the cross-border policy packs; this module names its errors for scenarios.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from marketplace import tomlfile
from marketplace.tomlfile import ConfigError, locate
from scenarios.fee_schedules import apply_fee_schedule
from scenarios.overrides import apply_overrides
from scenarios.plugins import PluginError, load_plugin

__all__ = ["ScenarioError", "load", "load_toml", "locate", "validate"]

M = TypeVar("M", bound=BaseModel)


class ScenarioError(ConfigError):
    """A scenario to fix: ``str()`` is the whole report (so the CLI prints just that); the
    attributes describe the first problem, ``others`` the rest."""

    unnamed = "<scenario>"


def load_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Read and parse one TOML file; returns the text too, because errors are located in it."""
    return tomlfile.load_toml(path, "scenario", ScenarioError)


def load(path: str | Path, model: type[M], overrides: Sequence[str] = ()) -> M:
    """Read, parse and validate a scenario file, importing the plugins its ``[plugins]``
    table names first (so it may name the strategies and mechanisms they register).
    ``overrides`` are ``--set PATH=VALUE`` changes, applied before validation.

    Raises:
        ScenarioError: the file, or a changed field, is wrong (path, line, allowed values).
        OverrideError: an override names no field or its value is not TOML.
    """
    path = Path(path)
    data, source = load_toml(path)
    apply_overrides(data, overrides)
    apply_fee_schedule(data, source, path, ScenarioError)
    _import_plugins(data, source, path)
    return validate(model, data, source, path)


def _import_plugins(data: dict[str, Any], source: str, path: Path) -> None:
    section = data.get("plugins")
    if not isinstance(section, dict):
        return  # absent, or wrong: the model reports a wrong one at its line
    modules = section.get("modules")
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        return
    for index, module in enumerate(modules):
        try:
            load_plugin(module, path.parent)
        except PluginError as exc:
            line = locate(source, ("plugins", "modules", index)) or locate(
                source, ("plugins", "modules")
            )
            raise ScenarioError(path, line, f"plugins.modules[{index}]", str(exc)) from None


def validate(model: type[M], data: dict[str, Any], source: str, path: Path | None) -> M:
    """Validate parsed TOML, turning pydantic's report into a located ``ScenarioError``."""
    return tomlfile.validate(model, data, source, path, ScenarioError)
