"""Market benchmark: trades/s of the full path (SimPy, both parties sign, verify, persist) for the
baseline scaled ×N, as a ratio to the bare per-trade crypto ceiling measured in the same run.

Run: ``python -m benchmarks.market_bench [--scales 1 10 100] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.ceilings import sign_per_s, verify_per_s
from ledger import KeySecret, Store, audit
from ledger.entry import parse_leaf, signing_input
from marketplace.authorship import market_rules
from scenarios.build import BoundedEnvironment, build
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.schema import Scenario

BENCH_SECRET = KeySecret(hashlib.sha256(b"dxsim benchmark key secret").digest())


def scaled(scenario: Scenario, scale: int) -> Scenario:
    """The scenario ×``scale``: every population and every stage capacity of the exchange, so
    the market's shape (load per ingest channel, per trading desk) stays the same."""
    populations = [p.model_copy(update={"count": p.count * scale}) for p in scenario.population]
    exchange = scenario.exchange
    exchange = exchange.model_copy(
        update={
            "storage": exchange.storage.model_copy(
                update={"capacity": exchange.storage.capacity * scale}
            ),
            "trading": exchange.trading.model_copy(
                update={"capacity": exchange.trading.capacity * scale}
            ),
        }
    )
    return scenario.model_copy(update={"population": populations, "exchange": exchange})


def _signatures(ledger_path: Path) -> int:
    """Every signature the run made (orders, contracts, decisions...): what the ceiling prices."""
    store = Store(ledger_path)
    try:
        return sum(len(parse_leaf(row[4]).sigs) for rows in store.iter_rows() for row in rows)
    finally:
        store.close()


def _contract_messages(ledger_path: Path, limit: int = 2000) -> list[bytes]:
    """The real signing inputs of the run's contracts: the ceiling signs exactly these."""
    store = Store(ledger_path)
    messages: list[bytes] = []
    origin = b"dxsim-log"
    try:
        for rows in store.iter_rows():
            messages += [
                signing_input(origin, parse_leaf(row[4]).statement)
                for row in rows
                if row[2] == "trade.contract"
            ]
            if len(messages) >= limit:
                break
    finally:
        store.close()
    return messages[:limit]


def bench_scale(base: Scenario, scale: int) -> dict[str, Any]:
    scenario = scaled(base, scale)
    env = BoundedEnvironment(scenario.run.max_events)  # counts the events it processes
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.db"
        started = time.perf_counter()
        world = build(scenario, path, keys=run_keys(BENCH_SECRET, scenario.run.seed), env=env)
        world.run()
        seconds = time.perf_counter() - started
        messages = _contract_messages(path)
        signatures = _signatures(path)
        report = audit(path, domain=market_rules)  # verify, rules of record included
        assert report.ok, report.summary()
    trades = world.exchange.trading.contracts_signed
    sign_1 = sign_per_s(messages * 2, threads=1)
    sign_2 = sign_per_s(messages * 2, threads=2)
    verify_1 = verify_per_s(messages * 2, threads=1)
    verify_2 = verify_per_s(messages * 2, threads=2)
    per_trade = signatures / max(1, trades)  # each signed once and verified once
    ceiling_1 = 1 / (per_trade / sign_1 + per_trade / verify_1)
    ceiling_2 = 1 / (per_trade / sign_2 + per_trade / verify_2)
    # The yardstick: a trade as two signatures, each signed and verified once.
    ceiling_2x2 = 1 / (2 / sign_2 + 2 / verify_2)
    rate = trades / seconds
    return {
        "scale": scale,
        "providers_buyers_assessors": [p.count for p in scenario.population],
        "trades": trades,
        "entries": world.ledger.size,
        "seconds": round(seconds, 2),
        "trades_per_s": round(rate),
        "entries_per_s": round(world.ledger.size / seconds),
        "simpy_events_per_s": round(env.processed / seconds),
        "signatures_per_trade": round(per_trade, 2),
        "verify_with_rules_entries_per_s": round(report.entries / report.seconds),
        "ceiling_trades_per_s_1thread": round(ceiling_1),
        "ratio_to_1thread_ceiling": round(rate / ceiling_1, 3),
        "ceiling_trades_per_s_2threads": round(ceiling_2),
        "ratio_to_2thread_ceiling": round(rate / ceiling_2, 3),
        "ceiling_trades_per_s_2signs_2verifies_2threads": round(ceiling_2x2),
        "ratio_to_2signs_2verifies_ceiling": round(rate / ceiling_2x2, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def profile_split(base: Scenario) -> dict[str, float]:
    """Share of the main process's time by where it is spent (one profiled baseline run).

    Verification runs in the worker process and is not in this profile.
    """
    with tempfile.TemporaryDirectory() as folder:
        world = build(base, Path(folder) / "ledger.db", keys=run_keys(BENCH_SECRET, base.run.seed))
        profiler = cProfile.Profile()
        profiler.enable()
        world.run()
        profiler.disable()
    stats = pstats.Stats(profiler)
    buckets = {"crypto": 0.0, "simpy": 0.0, "persistence": 0.0, "ledger": 0.0, "rest": 0.0}
    total = 0.0
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime = row[2]
        total += tottime
        if "ed25519" in name or "cryptography" in filename or name in ("sign", "verify"):
            key = "crypto"
        elif "simpy" in filename:
            key = "simpy"
        elif "sqlalchemy" in filename or "sqlite3" in filename or "store.py" in filename:
            key = "persistence"
        elif "/ledger/" in filename or "json" in filename or "hashlib" in name:
            key = "ledger"
        else:
            key = "rest"
        buckets[key] += tottime
    return {f"profile_share_{k}": round(v / total, 3) for k, v in buckets.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    base = load(resolve("baseline"), Scenario)
    results: dict[str, Any] = {}
    for scale in args.scales:
        for key, value in bench_scale(base, scale).items():
            results[f"x{scale}_{key}"] = value
    if args.profile:
        results.update(profile_split(base))
    return results


if __name__ == "__main__":
    from benchmarks.report import print_results

    print_results("market", main())
