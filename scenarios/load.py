"""Loading a scenario: TOML → dict → pydantic model, with errors a person can act on.

The machinery (a token scanner that finds the line of each key path, pydantic errors turned into
``file:line: field.path: what is wrong; what is allowed``) is ``marketplace.tomlfile``, shared
with the cross-border policy packs; this module names its errors for scenarios.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from marketplace import tomlfile
from marketplace.tomlfile import ConfigError, locate

__all__ = ["ScenarioError", "load", "load_toml", "locate", "validate"]

M = TypeVar("M", bound=BaseModel)


class ScenarioError(ConfigError):
    """A scenario to fix: ``str()`` is the whole report (so the CLI prints just that); the
    attributes describe the first problem, ``others`` the rest."""

    unnamed = "<scenario>"


def load_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Read and parse one TOML file; returns the text too, because errors are located in it."""
    return tomlfile.load_toml(path, "scenario", ScenarioError)


def load(path: str | Path, model: type[M]) -> M:
    """Read, parse and validate a scenario file."""
    return tomlfile.load(path, model, "scenario", ScenarioError)


def validate(model: type[M], data: dict[str, Any], source: str, path: Path | None) -> M:
    """Validate parsed TOML, turning pydantic's report into a located ``ScenarioError``."""
    return tomlfile.validate(model, data, source, path, ScenarioError)
