"""A decision on one transfer, in the fixed format of ``specs/crossborder-facts.md``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = ["Decision", "Outcome"]

Outcome = Literal["allowed", "conditional", "forbidden", "needs-information"]

_EMPTY: Mapping[str, Mapping[str, Any]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Decision:
    """What the law requires for one transfer, why, and how long it takes.

    The first seven fields are the spec's keys, in its order; ``pack``, ``fastest`` (the
    mechanism in ``any_of`` that takes ``lead_time_days``) and ``validity`` (per mechanism in
    ``any_of``: how long a passed mechanism lasts and how it is renewed) follow.
    ``sentences`` are the explanation's sentences with their citations (``dxsim policy explain``).
    """

    outcome: Outcome
    any_of: tuple[str, ...]
    rules: tuple[str, ...]
    citations: tuple[str, ...]
    lead_time_days: int
    missing: tuple[str, ...]
    explanation: str
    pack: str
    fastest: str | None = None
    validity: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _EMPTY)
    sentences: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The JSON object: the spec's keys exactly, then ``pack``, ``fastest``, ``validity``."""
        return {
            "outcome": self.outcome,
            "any_of": list(self.any_of),
            "rules": list(self.rules),
            "citations": list(self.citations),
            "lead_time_days": self.lead_time_days,
            "missing": list(self.missing),
            "explanation": self.explanation,
            "pack": self.pack,
            "fastest": self.fastest,
            "validity": {name: dict(v) for name, v in self.validity.items()},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False)
