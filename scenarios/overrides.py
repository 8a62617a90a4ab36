"""``--set PATH=VALUE``: change one field of a scenario for one run, as the file would.

``PATH`` is the field's dotted path as the scenario file nests it, list entries by their index
from 0 (``population.2.count``, ``exchange.fees.supplier_fee_bp``); ``VALUE`` is a TOML value
(``8``, ``0.5``, ``"legal"``, ``["compliance", "legal"]``, ``{ dist = "constant", value = 2 }``).
The changed data is validated like the file itself, so a wrong value is named with its path and
the values it allows.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from typing import Any

__all__ = ["OverrideError", "apply_overrides"]


class OverrideError(ValueError):
    """A ``--set`` that does not name a field of the scenario, or whose value is not TOML."""


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``data`` (parsed TOML) with every ``PATH=VALUE`` of ``overrides`` applied, in order."""
    for item in overrides:
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            raise OverrideError(f"--set {item!r}: write PATH=VALUE, e.g. population.2.count=8")
        try:
            value = tomllib.loads(f"value = {text.strip()}")["value"]
        except tomllib.TOMLDecodeError as exc:
            raise OverrideError(f"--set {item!r}: the value is not TOML ({exc})") from None
        _put(data, path.strip().split("."), value, item)
    return data


def _put(node: Any, parts: list[str], value: Any, item: str) -> None:
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise OverrideError(
                    f"--set {item!r}: {where}: the list has entries 0..{len(node) - 1}"
                )
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
                return
            node = node.setdefault(part, {})
        else:
            raise OverrideError(f"--set {item!r}: {where}: {parts[depth - 1]} holds no fields")
