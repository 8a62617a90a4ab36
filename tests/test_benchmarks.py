"""The benchmark harnesses themselves (not their speed): the long run stops at the trades asked,
reads its RSS, and leaves a closed ledger that verifies."""

from __future__ import annotations

from pathlib import Path

from benchmarks import million_bench
from ledger import audit


def test_the_long_run_stops_at_its_trades_and_closes_a_verifiable_ledger(tmp_path: Path) -> None:
    target = tmp_path / "ledger.db"
    figures = million_bench.run(300, 1, target)
    assert 300 <= figures["trades"] < 400
    assert figures["peak_rss_mb"] > 0 and figures["trades_per_s"] > 0
    assert "rss_at_100k_mb" not in figures  # it never got there
    report = audit(target)
    assert report.ok and report.closed, report.summary()
    assert report.entries == figures["entries"]
