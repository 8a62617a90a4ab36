"""``make bench``: every benchmark, with figures as ratios to ceilings measured in the same run.

``python -m benchmarks`` runs them all, about 30 minutes: ledger 20k entries, market ×1, ×10
and ×100 with a profile split, cross-border decisions/s of every built-in policy pack, replay
entries/s plain and verified, a 40-replication sweep serial vs processes vs Dask, and the long
run (one market until 1,000,000 trades, peak RSS at 100,000 and at the end, about 10 minutes).
``python -m benchmarks.ledger_bench --million 1000000`` gives the large ledger figures.
"""

from __future__ import annotations

from benchmarks import (
    crossborder_bench,
    ledger_bench,
    market_bench,
    million_bench,
    replay_bench,
    sweep_bench,
)
from benchmarks.report import print_results


def main() -> None:
    print_results("ledger", ledger_bench.main([]))
    print_results("market", market_bench.main(["--scales", "1", "10", "100", "--profile"]))
    print_results("crossborder", crossborder_bench.main([]))
    print_results("replay", replay_bench.main([]))
    print_results("sweep", sweep_bench.main([]))
    print_results("million", million_bench.main([]))


if __name__ == "__main__":
    main()
