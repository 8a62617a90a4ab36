"""Built-in scenarios (TOML files beside this module) and how a name or path is resolved."""

from __future__ import annotations

from pathlib import Path

from scenarios.cli_errors import UserError

__all__ = ["BUILTIN_DIR", "builtin_scenarios", "describe", "resolve"]

BUILTIN_DIR = Path(__file__).resolve().parent


def builtin_scenarios() -> dict[str, Path]:
    return {path.stem: path for path in sorted(BUILTIN_DIR.glob("*.toml"))}


def describe(path: Path) -> str:
    """The first comment line of a scenario file: its one-line description."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def resolve(name_or_path: str) -> Path:
    """A scenario file: an existing path, or the name of a built-in scenario."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    builtins = builtin_scenarios()
    if name_or_path in builtins:
        return builtins[name_or_path]
    if path.suffix == ".toml" or "/" in name_or_path:
        raise UserError(f"{name_or_path}: no such scenario file")
    allowed = ", ".join(builtins) or "none"
    raise UserError(f"unknown scenario {name_or_path!r}; built-in scenarios: {allowed}")
