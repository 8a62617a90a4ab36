"""Plug-in parameters from a scenario, checked strictly against the plug-in's own fields.

Strategies and pricing mechanisms are frozen dataclasses whose fields are their parameters; a
scenario passes them as a table (``strategy_params = { step_bp = 300 }``). Each value is checked
against its field's annotation in strict mode, bounds (``Annotated[int, Field(ge=0, le=...)]``)
included and NaN/infinity refused, so a float never leaks into a price in fen and an absurd
value is an error at load time, not an overflow in the middle of a run.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

__all__ = ["checked_params"]

_STRICT = ConfigDict(strict=True, allow_inf_nan=False)


def checked_params(
    what: str, factory: Callable[..., Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``params`` validated for ``factory`` (a dataclass); ``what`` names it in errors.

    Raises:
        ValueError: an unknown parameter, or a value of the wrong type or out of bounds.
    """
    if isinstance(factory, type) and dataclasses.is_dataclass(factory):
        hints = typing.get_type_hints(factory, include_extras=True)
        fields = {f.name for f in dataclasses.fields(factory) if f.init}
    else:  # a plain callable: its own signature checks the parameters
        hints, fields = {}, set(params)
    checked: dict[str, Any] = {}
    for key, value in params.items():
        if key not in fields:
            allowed = ", ".join(sorted(fields)) or "none"
            raise ValueError(f"{what}: unknown parameter {key!r}; allowed: {allowed}")
        if key not in hints:
            checked[key] = value
            continue
        try:
            checked[key] = TypeAdapter(hints[key], config=_STRICT).validate_python(value)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise ValueError(f"{what}: {key} = {value!r}: {problem}") from None
    return checked
