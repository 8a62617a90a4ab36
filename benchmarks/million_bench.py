"""The long run: one market (the baseline ×``--scale``) simulated until ``--trades`` trades,
every entry signed, verified and persisted, with the peak RSS when it passes 100,000 trades and
at the end, so flat memory (or its growth) shows on one run of one population.

Targets (issue: studies at scale): 1,000,000 trades in under 5 minutes on 2 cores, peak RSS
under 1 GiB, growing by less than 20 % from 100,000 to 1,000,000 trades.

Run: ``python -m benchmarks.million_bench [--trades 1000000] [--scale 40]``, and with
``--pg URL`` also against PostgreSQL (``--no-sqlite``: only there).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.market_bench import BENCH_SECRET, scaled
from ledger import Store
from scenarios.build import World, build
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.schema import Scenario

#: Where the RSS is read as the run passes it.
MARK = 100_000


class _Reached(Exception):
    """The run has made the trades asked for."""


def _rss_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def run(trades: int, scale: int, target: str | Path) -> dict[str, Any]:
    base = load(resolve("baseline"), Scenario)
    scenario = scaled(base, scale).with_overrides(days=3_650)  # stopped at the trades asked
    world: World = build(scenario, target, keys=run_keys(BENCH_SECRET, scenario.run.seed))
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def progress(now: float, _size: int) -> None:
        done = world.exchange.trading.contracts_signed
        if done >= MARK and "rss_at_100k_mb" not in marks:
            marks["rss_at_100k_mb"] = _rss_mb("VmHWM")
            marks["seconds_at_100k"] = time.perf_counter() - started
            marks["day_at_100k"] = now
        if done >= trades:
            raise _Reached

    try:
        world.run(progress)
    except _Reached:
        world.exchange.close_books()
        world.ledger.close()
    seconds = time.perf_counter() - started
    made = world.exchange.trading.contracts_signed
    peak = _rss_mb("VmHWM")
    results: dict[str, Any] = {
        "scale": scale,
        "trades": made,
        "entries": world.ledger.size,
        "sim_days": round(world.env.now, 1),
        "seconds": round(seconds, 1),
        "trades_per_s": round(made / seconds),
        "peak_rss_mb": round(peak, 1),
    }
    if "rss_at_100k_mb" in marks:
        results["rss_at_100k_mb"] = round(marks["rss_at_100k_mb"], 1)
        results["trades_per_s_to_100k"] = round(MARK / marks["seconds_at_100k"])
        results["rss_growth_100k_to_end_pct"] = round(100 * (peak / marks["rss_at_100k_mb"] - 1), 1)
    results["target_under_5_min"] = made >= 1_000_000 and seconds < 300
    results["target_rss_under_1_gib"] = peak < 1024
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--scale", type=int, default=40)
    parser.add_argument("--pg", default=None, help="also run against this PostgreSQL URL")
    parser.add_argument(
        "--no-sqlite", action="store_true", help="with --pg: run against PostgreSQL only"
    )
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if not (args.no_sqlite and args.pg):
        with tempfile.TemporaryDirectory() as folder:
            for name, value in run(args.trades, args.scale, Path(folder) / "ledger.db").items():
                results[f"sqlite_{name}"] = value
    if args.pg:
        url = f"{args.pg}?schema=dxsim_million_{os.getpid()}"
        try:
            for name, value in run(args.trades, args.scale, url).items():
                results[f"postgres_{name}"] = value
        finally:
            store = Store(url, create=True)
            store.drop_all()
            store.close()
    return results


if __name__ == "__main__":
    from benchmarks.report import print_results

    print_results("million", main())
