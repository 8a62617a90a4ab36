"""Policy sandbox tests, written the way a policy team writes them (the examples of
docs/sandbox.md): each reads like the policy it checks, against a world run under a real pack,
and the same test is shown to fail against a deliberately permissive pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.sandbox import Sandbox, SandboxError

PERMISSIVE = Path(__file__).parent / "policies" / "permissive.toml"
DAYS, SEED = 365, 3  # a whole year: the US rule (from 8 April 2025) is in it too


@pytest.fixture(scope="module")
def prc_2024(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    out = tmp_path_factory.mktemp("sandbox") / "prc-2024"
    return Sandbox.run("crossborder", pack="prc-2024", days=DAYS, seed=SEED, out=out)


@pytest.fixture(scope="module")
def permissive(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    out = tmp_path_factory.mktemp("sandbox") / "permissive"
    return Sandbox.run("crossborder", pack=str(PERMISSIVE), days=DAYS, seed=SEED, out=out)


# -- the policies, as a policy team states them ---------------------------------------------


def no_important_data_leaves_china_without_a_security_assessment(world: Sandbox) -> int:
    checked = 0
    for delivery in world.deliveries_abroad():
        if delivery.origin == "CN" and delivery.important:
            checked += 1
            assert "security-assessment" in delivery.mechanisms, delivery
    return checked


def no_core_data_leaves_china(world: Sandbox) -> None:
    assert not [d for d in world.deliveries_abroad() if d.origin == "CN" and d.core]


def an_exporter_past_a_million_people_a_year_has_a_security_assessment(world: Sandbox) -> None:
    for delivery in world.deliveries_abroad():
        if delivery.origin == "CN" and delivery.facts["pi_subjects_ytd"] >= 1_000_000:
            assert "security-assessment" in delivery.mechanisms, delivery


# -- the tests --------------------------------------------------------------------------------


def test_no_important_data_leaves_without_a_completed_security_assessment(
    prc_2024: Sandbox,
) -> None:
    assert no_important_data_leaves_china_without_a_security_assessment(prc_2024) > 0


def test_no_core_data_leaves_china(prc_2024: Sandbox) -> None:
    no_core_data_leaves_china(prc_2024)


def test_past_a_million_people_a_year_means_a_security_assessment(prc_2024: Sandbox) -> None:
    an_exporter_past_a_million_people_a_year_has_a_security_assessment(prc_2024)


def test_the_median_standard_contract_filing_stays_under_20_working_days(
    prc_2024: Sandbox,
) -> None:
    median = prc_2024.median_wait("standard-contract")
    assert median is not None and median < 20


def test_every_refusal_names_the_rules_that_refused_it(prc_2024: Sandbox) -> None:
    refusals = prc_2024.refusals()
    assert refusals, "the world has transfers the law forbids (core data, US genomic data...)"
    for refusal in refusals:
        assert refusal.rules and all("/" in rule for rule in refusal.rules)
        assert refusal.reason in ("forbidden", "needs-information")
        if refusal.rules[0].startswith("us-doj-bulk/"):
            assert refusal.facts["date"] >= "2025-04-08"  # the US rule's first day
            assert refusal.corridor in ("US-CN", "US-HK", "US-RU")  # countries of concern
        else:
            assert refusal.rules == ("prc-2024/core-data",) and refusal.facts["data"]["core"]
    assert any(r.rules == ("prc-2024/core-data",) for r in refusals)


def test_every_invariant_holds_in_the_sandbox_world(prc_2024: Sandbox) -> None:
    assert all(result.ok for result in prc_2024.invariants())


def test_the_same_policy_test_fails_under_a_permissive_pack(permissive: Sandbox) -> None:
    """The test above is not a check that cannot fail: the permissive pack lets important
    data out with no assessment, and the test says so."""
    with pytest.raises(AssertionError):
        no_important_data_leaves_china_without_a_security_assessment(permissive)
    assert all(result.ok for result in permissive.invariants())  # the ledger itself is sound
    assert not [r for r in permissive.refusals() if r.corridor.startswith("CN-")]


def test_a_sandbox_refuses_a_ledger_that_does_not_verify(prc_2024: Sandbox, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    copy = tmp_path / "run"
    shutil.copytree(prc_2024.run_dir, copy)
    with sqlite3.connect(copy / "ledger.db") as db:
        db.execute("DELETE FROM entries WHERE seq = 50")
    with pytest.raises(SandboxError, match="does not verify"):
        Sandbox(copy)
