"""Every pricing mechanism runs the same built-in market, changed by its one `pricing` line,
and every run verifies with its invariants (money conserved under every mechanism)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.pricing import MECHANISMS
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import ScenarioError, load, load_toml, validate
from scenarios.run import RunResult, run_scenario
from scenarios.schema import Scenario
from tests.keys import TEST_SECRET
from tests.scenarios.forge import Forged, forge

#: Each mechanism with the buyers' way of bidding that suits it (a negotiation needs a
#: haggler, a book a bidder who does not simply take the ask).
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "posted": ({}, "truthful"),
    "cost-plus": ({}, "truthful"),
    "tiered": ({}, "truthful"),
    "adaptive-posted": ({"horizon": 20}, "truthful"),
    "second-price": (
        {
            "reserve": "myerson",
            "units": 2,
            "value": {"dist": "lognormal", "median": 600000, "sigma": 0.8},
        },
        "truthful",
    ),
    "double-auction": ({}, "shading"),
    "negotiation": ({"deadline_days": 4.0}, "faratin"),
}


def test_every_registered_mechanism_has_a_case() -> None:
    assert set(CASES) == set(MECHANISMS)


def under(mechanism: str, days: float = 30, seed: int | None = None) -> Scenario:
    params, trading = CASES[mechanism]
    scenario = load(resolve("mechanisms"), Scenario)
    population = []
    for p in scenario.population:
        if p.kind == "provider":
            p = type(p).model_validate(
                p.model_dump() | {"pricing": mechanism, "pricing_params": params}
            )
        elif p.kind == "buyer":
            p = type(p).model_validate(p.model_dump() | {"trading": trading})
        population.append(p)
    return scenario.model_copy(update={"population": population}).with_overrides(
        days=days, seed=seed
    )


def run(scenario: Scenario, out: Path) -> RunResult:
    return run_scenario(
        scenario, out, keys=run_keys(TEST_SECRET, scenario.run.seed), check_determinism=False
    )


@pytest.mark.parametrize("mechanism", sorted(CASES))
def test_the_market_runs_and_verifies_under(mechanism: str, tmp_path: Path) -> None:
    result = run(under(mechanism), tmp_path / "run")
    assert result.ok, [i.detail for i in result.invariants if not i.ok]
    figures = result.metrics.pricing[mechanism]
    assert figures["contracts"] > 0 and figures["volume_fen"] > 0
    report = audit(tmp_path / "run", domain=market_rules)
    assert report.ok and report.closed, report.summary()


def test_changing_one_line_changes_the_mechanism(tmp_path: Path) -> None:
    text = resolve("mechanisms").read_text(encoding="utf-8")
    assert text.count('pricing = "posted"') == 1
    changed = tmp_path / "auction.toml"
    changed.write_text(text.replace('pricing = "posted"', 'pricing = "second-price"'))
    data, source = load_toml(changed)
    scenario = validate(Scenario, data, source, changed).with_overrides(days=20)
    result = run(scenario, tmp_path / "run")
    assert result.ok
    assert list(result.metrics.pricing) == ["second-price"]
    assert result.metrics.pricing["second-price"]["rounds_sold"] > 0


def test_an_unknown_mechanism_names_the_ones_there_are(tmp_path: Path) -> None:
    text = resolve("mechanisms").read_text(encoding="utf-8")
    changed = tmp_path / "typo.toml"
    changed.write_text(text.replace('pricing = "posted"', 'pricing = "vickrey"'))
    with pytest.raises(ScenarioError, match=r"unknown pricing mechanism 'vickrey'.*second-price"):
        load(changed, Scenario)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mechanism=st.sampled_from(sorted(CASES)), seed=st.integers(0, 2**31))
def test_money_is_conserved_under_every_mechanism(
    mechanism: str, seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("run") / "run"
    result = run(under(mechanism, days=12, seed=seed), out)
    money = next(i for i in result.invariants if i.name == "money-conserved")
    assert money.ok, money.detail
    assert result.ok, [i.detail for i in result.invariants if not i.ok]


def test_a_fill_off_the_makers_price_is_caught_even_when_re_signed(tmp_path: Path) -> None:
    """A forger with every key moves one fill's price in a book by one fen, still within both
    limits: the rule of record is the standing order's price. (In a negotiation both limits
    already pin it: the agreement is an offer accepted at the other's price.)"""
    scenario = under("double-auction", days=20)
    out = tmp_path / "run"
    assert run(scenario, out).ok
    keys = run_keys(TEST_SECRET, scenario.run.seed)
    roles = {"dxsim-log": "log", "exchange-operator": "operator"}

    def nudge(entries: list[Forged]) -> list[Forged]:
        orders = {e.body["order"]: e.body for e in entries if e.kind == "trade.order"}
        for entry in entries:
            if entry.kind != "trade.contract":
                continue
            price, limit = entry.body["price_fen"], orders[entry.body["order"]]["price_fen"]
            if price + 1 < limit:  # room to move within the buyer's limit
                entry.body = {**entry.body, "price_fen": price + 1}
                entry.changed = True
                return entries
        raise AssertionError("no fill below its buyer's limit to nudge")

    forge(out / "ledger.db", nudge, lambda i: keys(i, roles.get(i, "x")), "dxsim-log")
    report = audit(out, domain=market_rules)
    assert not report.ok and "standing order's price" in report.summary(), report.summary()
