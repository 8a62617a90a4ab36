"""The laboratory double auction (Smith 1962; Gode & Sunder 1993) as whole dxsim runs: what
the rules promise is read back from the signed ledger, and the two experiments' verdicts."""

from __future__ import annotations

import json
from pathlib import Path

from agents.populations_lab import TraderPopulation
from ledger import Store, parse_leaf
from scenarios.catalog import resolve
from scenarios.experiments.lab_runs import LabTrade, efficiency, max_surplus, run_lab
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.run import run_scenario
from scenarios.schema import Scenario
from tests.keys import TEST_SECRET
from tests.scenarios.runs import cli
from tests.scenarios.test_cli_run import dxsim

SMITH_VALUES = [325 - 25 * i for i in range(11)]
SMITH_COSTS = [75 + 25 * i for i in range(11)]


def _smith(strategy: str = "zi-c", periods: int = 3) -> Scenario:
    base = load(resolve("smith1962"), Scenario)
    assert base.session is not None
    session = base.session.model_copy(update={"periods": periods})
    population = [
        TraderPopulation.model_validate(p.model_dump() | {"strategy": strategy})
        if isinstance(p, TraderPopulation)
        else p
        for p in base.population
    ]
    return base.model_copy(update={"session": session, "population": population})


def _ledger_rows(path: Path) -> list[tuple[int, str, dict[str, object]]]:
    store = Store(path)
    try:
        return [
            (seq, kind, parse_leaf(leaf).body)
            for rows in store.iter_rows()
            for seq, _time, kind, _actor, leaf in rows
        ]
    finally:
        store.close()


def test_the_equilibrium_surplus_is_the_area_between_the_schedules() -> None:
    # Smith's test 1: 2.50 + 2.00 + 1.50 + 1.00 + 0.50 + 0 (the sixth unit, $2.00 against $2.00)
    assert max_surplus([[v] for v in SMITH_VALUES], [[c] for c in SMITH_COSTS]) == 750
    trades = [LabTrade(0, 200, 325, 75), LabTrade(0, 200, 100, 300)]
    assert efficiency(trades, periods=1, best=900) == 100.0 * (250 - 200) / 900


def test_constrained_traders_never_trade_at_a_loss() -> None:
    trades = run_lab(_smith("zi-c"), seed=5)
    assert trades, "a ZI-C session trades"
    for trade in trades:
        assert trade.cost_fen <= trade.price_fen <= trade.value_fen, trade
        assert trade.value_fen in SMITH_VALUES and trade.cost_fen in SMITH_COSTS
    per_period = [sum(1 for t in trades if t.period == p) for p in range(3)]
    assert all(0 < n <= 11 for n in per_period), per_period


def test_unconstrained_traders_do_trade_at_a_loss_and_waste_surplus() -> None:
    """ZI-U shouts ignore the unit's value or cost (Gode & Sunder 1993, §II), so some trades
    lose money and efficiency falls below ZI-C's on the same random numbers."""
    best = max_surplus([[v] for v in SMITH_VALUES], [[c] for c in SMITH_COSTS])
    unconstrained = run_lab(_smith("zi-u"), seed=5)
    constrained = run_lab(_smith("zi-c"), seed=5)
    assert any(not t.cost_fen <= t.price_fen <= t.value_fen for t in unconstrained)
    assert efficiency(unconstrained, 3, best) < efficiency(constrained, 3, best)


def test_the_ledger_shows_the_improvement_rule_and_the_cleared_book(tmp_path: Path) -> None:
    """Between two trades every new bid beats the one before and every new ask undercuts it;
    after each trade the operator withdraws every standing shout, so none survives a trade."""
    out = tmp_path / "run"
    scenario = _smith("zi-c", periods=2)
    result = run_scenario(
        scenario, out, keys=run_keys(TEST_SECRET, scenario.run.seed), check_determinism=False
    )
    assert result.ok
    resting: dict[str, tuple[str, int]] = {}  # order → (side, price)
    trades = 0
    just_traded = False
    for _seq, kind, body in _ledger_rows(out / "ledger.db"):
        if kind in ("trade.order", "trade.ask"):
            assert not (just_traded and resting), f"orders outlived a trade: {sorted(resting)}"
            just_traded = False
            side, price = ("buy" if kind == "trade.order" else "sell"), int(str(body["price_fen"]))
            standing = [p for s, p in resting.values() if s == side]
            if standing:
                assert price > max(standing) if side == "buy" else price < min(standing)
            resting[str(body["order"])] = (side, price)
        elif kind == "trade.cancel":
            resting.pop(str(body["order"]), None)
        elif kind == "trade.contract":
            trades += 1
            resting.pop(str(body["order"]), None)
            resting.pop(str(body["ask"]), None)
            just_traded = True
    assert trades > 0
    assert dxsim("verify", str(out)).returncode == 0


def test_smith1962_prints_its_verdict_and_is_reproducible(tmp_path: Path) -> None:
    args = ("experiment", "smith1962", "--reps", "2", "--format", "json", "--no-plot")
    first = cli(*args, "--out", str(tmp_path / "a"))
    again = cli(*args, "--out", str(tmp_path / "b"))
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    figures = {f["label"]: f for f in json.loads(first.stdout)["figures"]}
    for period in range(1, 6):
        price = figures[f"period {period}: mean price ($)"]
        assert all(0.75 <= v <= 3.25 for v in price["values"])  # ZI-C stays inside the schedules
        assert all(0 < v <= 11 for v in figures[f"period {period}: trades"]["values"])
    assert figures["period 5: mean price ($)"]["agrees"] in (True, False)
    assert 80.0 < figures["efficiency, all periods (%)"]["mean"] <= 100.0


def test_gode_sunder_constrained_traders_beat_unconstrained_ones(tmp_path: Path) -> None:
    done = cli(
        "experiment", "gode-sunder", "--market", "1", "--reps", "2", "--format", "json",
        "--no-plot", "--out", str(tmp_path / "gs"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = {f["label"]: f for f in json.loads(done.stdout)["figures"]}
    zi_u = figures["market 1, ZI-U: efficiency (%)"]["mean"]
    zi_c = figures["market 1, ZI-C: efficiency (%)"]["mean"]
    assert zi_u < zi_c <= 100.0
    assert abs(zi_c - 99.9) <= 2.0  # the paper's Table 1, market 1
