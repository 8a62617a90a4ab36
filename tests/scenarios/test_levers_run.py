"""Whole runs under different fee schedules: participants respond as real ones do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marketplace.metrics import Metrics, fold
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.run import run_scenario
from scenarios.schema import Scenario
from tests.keys import TEST_SECRET

DAYS = 120


def run_with(tmp: Path, name: str, fees: dict[str, Any], **providers: Any) -> Metrics:
    data = load(resolve("baseline"), Scenario).with_overrides(days=DAYS).model_dump()
    data["exchange"]["fees"].update(fees)
    for population in data["population"]:
        if population["kind"] == "provider":
            population.update(providers)
    scenario = Scenario.model_validate(data)
    out = tmp / name
    result = run_scenario(
        scenario, out, keys=run_keys(TEST_SECRET, scenario.run.seed), check_determinism=False
    )
    assert result.ok, [r for r in result.invariants if not r.ok]
    return fold(out)


@pytest.fixture(scope="module")
def supplier_sweep(tmp_path_factory: pytest.TempPathFactory) -> list[Metrics]:
    tmp = tmp_path_factory.mktemp("supplier")
    return [run_with(tmp, f"fee-{bp}", {"supplier_fee_bp": bp}) for bp in (0, 2_500, 5_000)]


def test_a_dearer_supplier_fee_means_fewer_listings_and_trades(
    supplier_sweep: list[Metrics],
) -> None:
    listings = [m.listings for m in supplier_sweep]
    trades = [m.trades for m in supplier_sweep]
    assert listings[0] > listings[1] > listings[2] > 0
    assert trades[0] > trades[1] > trades[2] > 0
    # providers price over their fees: no sale leaves a provider below its cost
    assert all(m.provider_surplus_fen >= 0 for m in supplier_sweep)
    fees = [m.fees_supplier_fen for m in supplier_sweep]
    assert fees[0] == 0 < fees[1]


def test_a_dearer_membership_keeps_buyers_out(tmp_path: Path) -> None:
    joined = [
        run_with(tmp_path, f"member-{fee}", {"membership_fee_fen": fee}).buyers_joined
        for fee in (0, 10_000_000, 100_000_000)
    ]
    assert joined[0] == 200 and joined[0] > joined[1] > joined[2]


def test_a_fee_above_every_endowment_takes_nothing(tmp_path: Path) -> None:
    fee = 10**12  # far above every buyer's endowment
    m = run_with(tmp_path, "unaffordable", {"membership_fee_fen": fee})
    assert m.buyers_joined == 0 and m.fees_membership_fen == 0 and m.trades == 0
    assert set(m.unmet_by_reason) <= {"membership-not-worth-its-fee", "cannot-afford-membership"}


def test_listings_that_do_not_pay_are_withdrawn_and_never_trade_again(tmp_path: Path) -> None:
    m = run_with(tmp_path, "impatient", {}, withdraw_window_days=30.0)
    assert 0 < m.listings_withdrawn < m.listings
    assert m.listings_active == m.listings - m.listings_withdrawn
    # the rules of record (run by the audit in invariant 1) refuse any contract of a
    # withdrawn listing; the run's invariants held above


def test_no_use_scenario_no_trade_across_a_whole_run(tmp_path: Path) -> None:
    """Buyers' needs name a use and consider only listings that permit it: every contract is
    for a permitted use, and needs whose use few listings permit go unmet more often."""
    data = load(resolve("baseline"), Scenario).with_overrides(days=DAYS).model_dump()
    data["exchange"]["trading"]["require_use_scenario"] = True
    uses = ["credit-risk", "marketing", "research", "urban-planning"]
    for population in data["population"]:
        if population["kind"] == "provider":
            population.update(use_scenarios=uses, uses_per_dataset=1)
        elif population["kind"] == "buyer":
            population["uses"] = dict.fromkeys(uses, 1)
    scenario = Scenario.model_validate(data)
    out = tmp_path / "uses"
    result = run_scenario(
        scenario, out, keys=run_keys(TEST_SECRET, scenario.run.seed), check_determinism=False
    )
    assert result.ok, [r for r in result.invariants if not r.ok]
    gated = fold(out)
    assert gated.trades > 0 and gated.rejections_by_reason.get("use-not-permitted", 0) == 0
    open_market = run_with(tmp_path, "open", {})
    assert gated.unmet_needs > open_market.unmet_needs  # each need sees a quarter of the catalogue
