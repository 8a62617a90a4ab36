"""Properties every pack keeps, on any facts: it never raises; a decision is well formed; removing
a fact never turns needs-information (or a decision) into a different answer; a pack that extends
another never allows what its parent forbids unless a rule of its own says so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.crossborder import (
    FACTS,
    Decision,
    Transfer,
    builtin_packs,
    evaluate,
    load_pack,
    run_case_files,
)
from tests.marketplace.crossborder.strategies import fact_dicts, leaves, without

PACKS = sorted(builtin_packs())
CASES = Path(__file__).parent / "cases"
CHILDREN = [name for name in PACKS if load_pack(name).extends]
OUTCOMES = {"allowed", "conditional", "forbidden", "needs-information"}
HOME = {"gdpr-ch5": ("DE", "FR", "IE"), "us-doj-bulk": ("US",)}
WINDOW = {
    "prc-2022": (dt.date(2022, 9, 1), dt.date(2024, 3, 21)),
    "gdpr-ch5": (dt.date(2018, 5, 25), dt.date(2032, 12, 31)),
    "us-doj-bulk": (dt.date(2025, 4, 8), dt.date(2027, 12, 31)),
}


def facts_for(pack: str, present: int) -> st.SearchStrategy[dict[str, Any]]:
    """Facts aimed at the pack's scope (its origins, its dates in force)."""
    window = WINDOW.get(pack, (dt.date(2024, 3, 22), dt.date(2027, 12, 31)))
    return fact_dicts(present=present, home=HOME.get(pack, ("CN",)), window=window)


def decide(pack: str, facts: dict[str, Any]) -> Decision:
    return evaluate(Transfer.model_validate(facts), load_pack(pack))


def well_formed(d: Decision) -> None:
    assert d.outcome in OUTCOMES
    assert list(d.any_of) == sorted(set(d.any_of))
    assert bool(d.any_of) == (d.outcome == "conditional")
    assert d.lead_time_days >= 0 and (d.lead_time_days == 0 or d.outcome == "conditional")
    assert bool(d.missing) == (d.outcome == "needs-information")
    assert list(d.missing) == sorted(set(d.missing)) and set(d.missing) <= set(FACTS)
    assert d.rules and d.citations and d.explanation
    assert all(rule.split("/")[0] in load_pack(d.pack).chain for rule in d.rules)


@pytest.mark.parametrize("pack", PACKS)
@given(data=st.data())
@settings(max_examples=120, deadline=None)
def test_evaluation_never_raises_and_is_well_formed(pack: str, data: st.DataObject) -> None:
    facts = data.draw(facts_for(pack, present=8) | fact_dicts(present=3))
    well_formed(decide(pack, facts))


@pytest.mark.parametrize("pack", PACKS)
@given(data=st.data())
@settings(max_examples=120, deadline=None)
def test_removing_a_fact_never_turns_an_answer_into_a_guess(pack: str, data: st.DataObject) -> None:
    facts = data.draw(facts_for(pack, present=9))
    paths = leaves(facts)
    if not paths:
        return
    before = decide(pack, facts)
    after = decide(pack, without(facts, data.draw(st.sampled_from(paths))))
    if before.outcome == "needs-information":
        assert after.outcome == "needs-information"
    else:
        same = (after.outcome, after.any_of) == (before.outcome, before.any_of)
        assert same or after.outcome == "needs-information", (before, after)


def test_removing_any_fact_from_any_case_file_case_never_guesses() -> None:
    """The same property, exhaustively, from every case of the case files: they sit on the
    thresholds and in the corners the random facts rarely reach."""
    checked = 0
    for case in run_case_files(CASES):
        facts = case.transfer.model_dump(exclude_unset=True)
        for path in leaves(facts):
            after = decide(case.pack, without(facts, path))
            before = case.decision
            if before.outcome == "needs-information":
                assert after.outcome == "needs-information", (case.name, path)
            elif (after.outcome, after.any_of) != (before.outcome, before.any_of):
                assert after.outcome == "needs-information", (case.name, path, before, after)
            checked += 1
    assert checked > 2_000


@pytest.mark.parametrize("child", CHILDREN)
@given(facts=facts_for("prc-2024", present=9))
@settings(max_examples=150, deadline=None)
def test_a_child_pack_never_allows_what_its_parent_forbids(
    child: str, facts: dict[str, Any]
) -> None:
    parent_pack = load_pack(child).extends
    assert parent_pack is not None
    parent, mine = decide(parent_pack, facts), decide(child, facts)
    own = any(rule.startswith(f"{child}/") for rule in mine.rules)
    if parent.outcome == "forbidden":
        assert mine.outcome in ("forbidden", "needs-information") or own, (parent, mine)
    if (mine.outcome, mine.any_of) != (parent.outcome, parent.any_of):
        assert own or mine.outcome == "needs-information", (parent, mine)


def test_the_strategies_reach_every_outcome() -> None:
    """The properties above mean little if random facts only ever produce one outcome."""
    seen: set[str] = set()

    @given(facts=facts_for("prc-2024", present=9))
    @settings(max_examples=1000, deadline=None, derandomize=True, database=None)
    def collect(facts: dict[str, Any]) -> None:
        seen.add(decide("prc-2024", facts).outcome)

    collect()
    assert seen == OUTCOMES
