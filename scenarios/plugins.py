"""A researcher's own strategies and mechanisms, without editing dxsim.

A plugin is a Python module that registers what it defines the way dxsim's own code does
(``@register("pricing", "undercut")`` from :mod:`agents.strategies`, ``@register_mechanism(...)``
from :mod:`marketplace.pricing`). dxsim imports plugins from three places, before a scenario is
validated, so a scenario may name what they register:

- ``dxsim run SCENARIO --plugin my_strategies.py`` (a file, or a dotted module name on the path);
- a ``[plugins]`` table in the scenario: ``modules = ["my_strategies.py"]``, files relative to
  the scenario's own directory;
- installed packages that declare an entry point in the group ``dxsim.plugins``
  (``[project.entry-points."dxsim.plugins"] mine = "my_package.strategies"``), loaded when the
  CLI starts.

Each plugin is imported once per process (the same file named twice is one plugin), and what a
run imported is recorded in its manifest by name and SHA-256, so a result says which code made
it. A plugin that fails to import is one clear error naming the plugin, the file and line, and
the exception; it never leaves a half-registered name behind silently.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoadedPlugin",
    "PluginError",
    "load_entry_points",
    "load_plugin",
    "load_plugins",
    "loaded_plugins",
    "restore_plugins",
]

ENTRY_POINT_GROUP = "dxsim.plugins"


class PluginError(Exception):
    """A plugin that cannot be loaded (the message names it and says why)."""


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin as a run records it: how it was named, where it came from, and its digest."""

    name: str
    origin: str
    sha256: str | None


_LOADED: dict[str, LoadedPlugin] = {}  # key: resolved file path or module name


def loaded_plugins() -> list[LoadedPlugin]:
    """Every plugin this process has imported, in load order."""
    return list(_LOADED.values())


def load_plugins(specs: list[str], base: Path | None = None) -> list[LoadedPlugin]:
    return [load_plugin(spec, base) for spec in specs]


def load_plugin(spec: str, base: Path | None = None) -> LoadedPlugin:
    """Import one plugin: a ``.py`` file (relative to ``base``, else the working directory) or
    a dotted module name."""
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        return _load_file(spec, base)
    return _load_module(spec, spec)


def restore_plugins(plugins: list[LoadedPlugin], entry_points: bool = True) -> None:
    """Load again, in a fresh worker process, the plugins the parent loaded (a spawned worker
    starts with dxsim's own registry only)."""
    if entry_points:
        load_entry_points()
    for plugin in plugins:
        load_plugin(plugin.origin)  # a file's resolved path, or a module name


def load_entry_points() -> list[LoadedPlugin]:
    """Import every installed package's ``dxsim.plugins`` entry point."""
    loaded = []
    for point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=_name):
        loaded.append(_load_module(point.value.split(":")[0], f"entry point {point.name!r}"))
    return loaded


def _name(point: importlib.metadata.EntryPoint) -> str:
    return point.name


def _load_file(spec: str, base: Path | None) -> LoadedPlugin:
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    path = path.resolve()
    key = str(path)
    if key in _LOADED:
        return _LOADED[key]
    if not path.is_file():
        raise PluginError(f"plugin {spec}: no such file ({path})")
    try:
        code = path.read_bytes()
    except OSError as exc:
        raise PluginError(f"plugin {spec}: cannot read {path}: {exc.strerror}") from None
    digest = hashlib.sha256(code).hexdigest()
    module_name = f"dxsim_plugin_{path.stem}_{digest[:12]}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise PluginError(f"plugin {spec}: {path} is not a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # a plugin's own error, reported as the user's input
        del sys.modules[module_name]
        raise PluginError(f"plugin {spec}: {_where(exc, path)}") from None
    plugin = LoadedPlugin(spec, str(path), digest)
    _LOADED[key] = plugin
    return plugin


def _load_module(module_name: str, label: str) -> LoadedPlugin:
    if module_name in _LOADED:
        return _LOADED[module_name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or module_name.startswith(f"{exc.name}."):
            raise PluginError(
                f"plugin {label}: no module named {module_name!r} (a file needs its .py suffix)"
            ) from None
        raise PluginError(f"plugin {label}: {_where(exc, None)}") from None
    except Exception as exc:
        raise PluginError(f"plugin {label}: {_where(exc, None)}") from None
    origin = getattr(module, "__file__", None) or module_name
    digest = None
    if origin != module_name and Path(origin).is_file():
        digest = hashlib.sha256(Path(origin).read_bytes()).hexdigest()
    plugin = LoadedPlugin(label, str(origin), digest)
    _LOADED[module_name] = plugin
    return plugin


def _where(exc: BaseException, path: Path | None) -> str:
    """The exception as one line, at the plugin's line that raised it."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.lineno else str(exc.filename)
        return f"SyntaxError at {where}: {exc.msg}"
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if path is None or Path(f.filename) == path]
    if own:
        frame = own[-1]
        return f"{type(exc).__name__} at {frame.filename}:{frame.lineno}: {text}"
    return f"{type(exc).__name__}: {text}"
