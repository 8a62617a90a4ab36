"""Hypothesis strategies for transfer facts: every field present or absent, values drawn near the
thresholds and dates the packs care about (and anywhere else)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from marketplace.crossborder import FACTS

COUNTS = [0, 1, 50, 100, 101, 150, 999, 1_000, 1_001, 9_999, 10_000, 10_001, 60_000, 99_999]
COUNTS += [100_000, 100_001, 500_000, 999_999, 1_000_000, 2_000_000]
DATES = [  # hypothesis favours the first entries: a date most packs are in force on comes first
    dt.date(2025, 6, 1),
    dt.date(2026, 3, 1),
    dt.date(2018, 5, 24),
    dt.date(2018, 5, 25),
    dt.date(2019, 1, 23),
    dt.date(2020, 7, 16),
    dt.date(2022, 8, 31),
    dt.date(2022, 9, 1),
    dt.date(2023, 5, 31),
    dt.date(2023, 6, 1),
    dt.date(2023, 7, 10),
    dt.date(2024, 3, 21),
    dt.date(2024, 3, 22),
    dt.date(2024, 5, 8),
    dt.date(2024, 8, 30),
    dt.date(2025, 2, 8),
    dt.date(2025, 4, 7),
    dt.date(2025, 4, 8),
    dt.date(2026, 1, 26),
    dt.date(2031, 12, 28),
]
CODES = ["SG", "CN", "HK", "MO", "US", "DE", "FR", "NO", "GB", "JP", "KR", "BR", "IN", "RU", "IR"]


def _value(
    path: str, home: tuple[str, ...], window: tuple[dt.date, dt.date] | None
) -> st.SearchStrategy[Any]:
    fact = FACTS[path]
    if path == "origin" and home:  # nine in ten in the pack's scope
        return st.sampled_from([True] * 9 + [False]).flatmap(
            lambda inside: st.sampled_from(home if inside else CODES)
        )
    if path == "date" and window:
        return st.sampled_from([True] * 4 + [False]).flatmap(
            lambda inside: st.dates(*window) if inside else st.sampled_from(DATES)
        )
    if fact.kind == "bool":
        return st.booleans()
    if fact.kind == "int":
        return st.sampled_from(COUNTS) | st.integers(min_value=0, max_value=3_000_000)
    if fact.kind == "date":
        return st.sampled_from(DATES) | st.dates(dt.date(2015, 1, 1), dt.date(2035, 12, 31))
    if fact.kind == "code":
        letters = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
        return st.sampled_from(CODES) | letters
    choices: list[Any] = list(fact.choices) + ([None] * fact.nullable)
    return st.sampled_from(choices)


def _put(facts: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = facts
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


@st.composite
def fact_dicts(
    draw: st.DrawFn,
    present: int = 9,
    home: tuple[str, ...] = (),
    window: tuple[dt.date, dt.date] | None = None,
) -> dict[str, Any]:
    """A nested dict in the Transfer's shape; each fact present with odds ``present`` in 10;
    ``home`` weights the origins a pack reads and ``window`` the dates it is in force."""
    facts: dict[str, Any] = {}
    keep = st.sampled_from([True] * present + [False] * (10 - present))
    for path in FACTS:
        if draw(keep):
            _put(facts, path, draw(_value(path, home, window)))
    return facts


def leaves(facts: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of the facts a dict holds."""
    out: list[str] = []
    for key, value in facts.items():
        path = prefix + key
        out += leaves(value, path + ".") if isinstance(value, dict) else [path]
    return out


def without(facts: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of ``facts`` with one dotted fact removed."""
    head, _, rest = path.partition(".")
    out = dict(facts)
    if rest:
        out[head] = without(out[head], rest)
    else:
        del out[head]
    return out
