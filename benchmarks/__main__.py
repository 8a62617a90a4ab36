"""``make bench``: every benchmark, with figures as ratios to ceilings measured in the same run."""

from __future__ import annotations

import sys

from benchmarks import ledger_bench
from benchmarks.report import print_results


def main() -> None:
    print_results("ledger", ledger_bench.main(sys.argv[1:]))


if __name__ == "__main__":
    main()
