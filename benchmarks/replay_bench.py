"""Replay benchmark: plain-line replay (``dxsim replay --no-live --speed 0``) in entries/s, and
verified replay as a ratio to the audit's own throughput measured in the same run.

Targets: ≥ 50,000 entries/s without ``--verify``; with it, ≥ 80 % of the audit's entries/s (the
verified replay is the audit, with each entry formatted and written as it passes).

Run: ``python -m benchmarks.replay_bench [--scale N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.market_bench import BENCH_SECRET, scaled
from ledger import audit
from marketplace.authorship import market_rules
from marketplace.replay import Filter
from scenarios.build import build
from scenarios.catalog import resolve
from scenarios.cli_replay import _write_lines, ticks_of
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.schema import Scenario


def _replay_rate(path: Path, verify: bool) -> float:
    sink = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        code = _write_lines(ticks_of(path, verify=verify, follow=False), Filter(), 0.0)
    seconds = time.perf_counter() - started
    assert code == 0
    return sink.getvalue().count("\n") / seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=3, help="the baseline scaled ×N")
    args = parser.parse_args(argv)
    scenario = scaled(load(resolve("baseline"), Scenario), args.scale)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.db"
        world = build(scenario, path, keys=run_keys(BENCH_SECRET, scenario.run.seed))
        world.run()
        entries = world.ledger.size
        plain = _replay_rate(path, verify=False)
        report = audit(path, domain=market_rules)
        audit_rate = report.entries / report.seconds
        verified = _replay_rate(path, verify=True)
    return {
        "entries": entries,
        "replay_plain_entries_per_s": round(plain),
        "replay_plain_target_per_s": 50_000,
        "audit_entries_per_s": round(audit_rate),
        "replay_verified_entries_per_s": round(verified),
        "replay_verified_ratio_to_audit": round(verified / audit_rate, 3),
    }


if __name__ == "__main__":
    from benchmarks.report import print_results

    print_results("replay", main())
