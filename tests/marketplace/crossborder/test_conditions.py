"""Conditions: Kleene's three values, the facts an UNKNOWN hinged on, and load-time type checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from marketplace.crossborder.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    ConditionError,
    compile_condition,
)

CIIO = {"fact": "exporter.ciio", "eq": True}
BIG = {"fact": "pi_subjects_ytd", "gte": 100_000}
PARAMS = {"limit": 100_000, "flag": True, "codes": ["CN", "HK"]}


def value(spec: dict[str, Any], facts: dict[str, Any]) -> tuple[int, frozenset[str]]:
    c = compile_condition(spec, PARAMS)
    fast, (traced, missing) = c.fast(facts), c.trace(facts)
    assert fast == traced
    return traced, missing


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"exporter.ciio": True, "pi_subjects_ytd": 100_000}, (TRUE, TRUE)),
        ({"exporter.ciio": False, "pi_subjects_ytd": 99_999}, (FALSE, FALSE)),
        ({"exporter.ciio": False}, (FALSE, UNKNOWN)),  # all: one FALSE decides
        ({"exporter.ciio": True}, (UNKNOWN, TRUE)),  # any: one TRUE decides
        ({}, (UNKNOWN, UNKNOWN)),
    ],
)
def test_all_and_any_follow_kleene(facts: dict[str, Any], expected: tuple[int, int]) -> None:
    both = value({"all": [CIIO, BIG]}, facts)[0]
    either = value({"any": [CIIO, BIG]}, facts)[0]
    assert (both, either) == expected


def test_unknown_names_exactly_the_facts_it_hinged_on() -> None:
    spec = {"all": [CIIO, {"any": [BIG, {"fact": "data.sensitive", "eq": True}]}]}
    assert value(spec, {"exporter.ciio": True}) == (
        UNKNOWN,
        frozenset({"pi_subjects_ytd", "data.sensitive"}),
    )
    assert value(spec, {"exporter.ciio": True, "data.sensitive": True}) == (TRUE, frozenset())
    assert value(spec, {"data.sensitive": True})[1] == {"exporter.ciio"}
    assert value({"not": CIIO}, {}) == (UNKNOWN, frozenset({"exporter.ciio"}))
    assert value({"not": CIIO}, {"exporter.ciio": False})[0] == TRUE


def test_parameters_fold_to_constants_and_sums_need_every_count() -> None:
    assert compile_condition({"param": "flag", "eq": True}, PARAMS).constant == TRUE
    folded = compile_condition({"all": [{"param": "flag", "eq": False}, CIIO]}, PARAMS)
    assert folded.constant == FALSE and folded.paths == frozenset()
    total = {"sum": ["pi_subjects_ytd", "sensitive_pi_subjects_ytd"], "gte": "@limit"}
    assert value(total, {"pi_subjects_ytd": 95_000, "sensitive_pi_subjects_ytd": 5_000})[0] == TRUE
    assert value(total, {"pi_subjects_ytd": 95_000}) == (
        UNKNOWN,
        frozenset({"sensitive_pi_subjects_ytd"}),
    )


def test_null_is_a_value_only_where_the_spec_says_so() -> None:
    none = {"fact": "safeguard", "is_null": True}
    assert value(none, {"safeguard": None})[0] == TRUE
    assert value(none, {"safeguard": "sccs"})[0] == FALSE
    assert value(none, {})[0] == UNKNOWN
    assert value({"fact": "exporter.ftz", "eq": "beijing"}, {"exporter.ftz": None})[0] == FALSE
    assert value({"fact": "destination", "in": "@codes"}, {"destination": "HK"})[0] == TRUE
    dated = {"fact": "date", "gte": dt.date(2024, 3, 22)}
    assert value(dated, {"date": dt.date(2024, 3, 21)})[0] == FALSE


@pytest.mark.parametrize(
    ("spec", "loc", "says"),
    [
        ({"fact": "nope", "eq": 1}, ("fact",), "unknown fact"),
        ({"fact": "exporter.ciio", "eq": 1}, ("eq",), "is true or false"),
        ({"fact": "pi_subjects_ytd", "eq": True}, ("eq",), "whole number"),
        ({"fact": "destination", "eq": "usa"}, ("eq",), "country code"),
        ({"fact": "date", "lt": "2024-01-01"}, ("lt",), "a date"),
        ({"fact": "origin", "gt": "CN"}, ("gt",), "compares counts or dates"),
        ({"fact": "origin", "in": []}, ("in",), "non-empty array"),
        ({"fact": "exporter.ciio", "is_null": True}, ("is_null",), "never null"),
        (
            {"any": [CIIO, {"fact": "purpose", "eq": "sale"}]},
            ("any", 1, "eq"),
            "'sale' is not allowed",
        ),
        ({"all": [CIIO], "any": [CIIO]}, ("any",), "a node is one thing"),
        ({"fact": "origin", "eq": "CN", "weight": 2}, ("weight",), "unknown key"),
        ({"param": "nope", "eq": 1}, ("param",), "unknown parameter"),
        ({"sum": ["pi_subjects_ytd"], "gt": 1}, ("sum",), "two or more"),
        ({"sum": ["pi_subjects_ytd", "origin"], "gt": 1}, ("sum", 1), "not a count fact"),
        ({"condition": "bulk"}, ("condition",), "names no conditions"),
        ([], (), "a condition is a table"),
    ],
)
def test_mistakes_name_the_key(spec: Any, loc: tuple[Any, ...], says: str) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(spec, PARAMS)
    assert caught.value.loc == loc and says in caught.value.message, caught.value.message


def test_conditions_read_as_text() -> None:
    c = compile_condition(
        {"all": [CIIO, {"any": [BIG, {"fact": "data.core", "eq": False}]}]}, PARAMS
    )
    assert c.text == "exporter.ciio = true and (pi_subjects_ytd ≥ 100,000 or data.core = false)"
