"""Every pack's case file passes, every built-in pack has one, and each has enough cases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from marketplace.crossborder import builtin_packs, run_case_files
from marketplace.crossborder.cases import CaseResult

CASES = Path(__file__).parent / "cases"
MINIMUM = {"prc-2024": 30}  # every other pack: 12


@pytest.fixture(scope="module")
def results() -> list[CaseResult]:
    return run_case_files(CASES)


def test_every_case_passes(results: list[CaseResult]) -> None:
    failed = [f"{r.where()} {r.name}: {'; '.join(r.failures)}" for r in results if not r.ok]
    assert failed == []


def test_each_built_in_pack_has_its_own_case_file(results: list[CaseResult]) -> None:
    files = {r.pack: r.file.stem for r in results}
    assert set(files) == set(builtin_packs())
    assert all(stem == pack for pack, stem in files.items())


@pytest.mark.parametrize("pack", sorted(builtin_packs()))
def test_each_pack_has_enough_cases(results: list[CaseResult], pack: str) -> None:
    assert Counter(r.pack for r in results)[pack] >= MINIMUM.get(pack, 12)


def test_each_pack_is_seen_deciding_every_way(results: list[CaseResult]) -> None:
    """The cases reach allowed, conditional, forbidden and needs-information in every pack
    that can give them (the GDPR chapter forbids nothing outright)."""
    seen: dict[str, set[str]] = {}
    for r in results:
        seen.setdefault(r.pack, set()).add(r.decision.outcome)
    for pack, outcomes in seen.items():
        expected = {"allowed", "conditional", "needs-information"}
        expected |= set() if pack == "gdpr-ch5" else {"forbidden"}
        assert expected <= outcomes, pack


def test_every_rule_of_every_pack_fires_in_some_case(results: list[CaseResult]) -> None:
    """No rule goes untested, except the readings the default parameters switch off."""
    from marketplace.crossborder import load_pack

    switched_off = {
        "prc-2024/core-data-assessment",
        "prc-2022/core-data-assessment",
        "shanghai-ftz/art6-off-list-reported",
    }
    fired = {
        rule
        for r in results
        if r.decision.outcome != "needs-information"
        for rule in r.decision.rules
    }
    for pack in builtin_packs():
        own = {rule.id for rule in load_pack(pack).rules if rule.pack == pack}
        untested = own - fired - switched_off
        assert untested == set(), pack
