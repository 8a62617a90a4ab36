"""Where a long run's memory grows: tracemalloc snapshots of one market (the baseline
×``--scale``) at two trade counts, and the allocation sites that grew most between them.

Run: ``python -m benchmarks.memory_growth [--scale 10] [--first 20000] [--second 60000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from pathlib import Path

from benchmarks.market_bench import BENCH_SECRET, scaled
from scenarios.build import build
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.schema import Scenario


class _Enough(Exception):
    """Both snapshots are taken."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--first", type=int, default=20_000)
    parser.add_argument("--second", type=int, default=60_000)
    parser.add_argument("--top", type=int, default=14)
    args = parser.parse_args(argv)
    scenario = scaled(load(resolve("baseline"), Scenario), args.scale).with_overrides(days=3_650)
    snapshots: list[tracemalloc.Snapshot] = []
    with tempfile.TemporaryDirectory() as folder:
        world = build(
            scenario, Path(folder) / "ledger.db", keys=run_keys(BENCH_SECRET, scenario.run.seed)
        )
        tracemalloc.start(3)

        def progress(_now: float, _size: int) -> None:
            trades = world.exchange.trading.contracts_signed
            if not snapshots and trades >= args.first:
                snapshots.append(tracemalloc.take_snapshot())
            if snapshots and trades >= args.second:
                snapshots.append(tracemalloc.take_snapshot())
                raise _Enough

        try:
            world.run(progress)
        except _Enough:
            world.abandon()
    if len(snapshots) < 2:
        print("the run ended before both trade counts were reached")
        return
    print(f"growth from {args.first:,} to {args.second:,} trades (×{args.scale}):")
    for stat in snapshots[1].compare_to(snapshots[0], "traceback")[: args.top]:
        where = " <- ".join(
            f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}"
            for frame in stat.traceback
        )
        print(f"{stat.size_diff / 1e6:8.1f} MB {stat.count_diff:+9,d}  {where}")


if __name__ == "__main__":
    main()
