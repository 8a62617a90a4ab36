"""The time series are folds too: the scripted story, day by day, worked out by hand; and on any
random story their sums and last values agree with the totals of the metrics fold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from pydantic import BaseModel

from marketplace.entries import ClearanceApplication, ClearanceDecision, PriceQuote
from marketplace.metrics import DAY, LedgerFold
from marketplace.timeseries import BACKLOGS, STAGE_COUNTS, SeriesFold, TimeSeries, fold_series
from tests.marketplace.stories import (
    ENDOWMENTS,
    EXPECTED,
    LISTING,
    OPS,
    FoldScript,
    delivered,
    good_story,
    play,
)

DAYS = 21  # the story's last entries (hosting, K4, the close) fall on day 20


def _on(days: dict[int, int]) -> list[int]:
    """A daily series of DAYS values, zero except on ``days``."""
    return [days.get(day, 0) for day in range(DAYS)]


def _level(*spans: tuple[int, int, int]) -> list[int]:
    """A level that is ``value`` from day ``start`` up to (not including) day ``stop``."""
    values = [0] * DAYS
    for start, stop, value in spans:
        for day in range(start, stop):
            values[day] = value
    return values


class SeriesScript(FoldScript):
    """Plays a script into the metrics fold and a series fold at once."""

    def __init__(self) -> None:
        super().__init__()
        self.daily = SeriesFold()

    def record(self, kind: str, body: BaseModel | dict[str, Any], day: float, *by: str) -> int:
        seq = super().record(kind, body, day, *by)
        data = body.model_dump() if isinstance(body, BaseModel) else body
        self.daily.feed(seq, round(day * DAY), kind, by[0], data)
        return seq


def story_series(tmp_path: Path) -> TimeSeries:
    good_story(tmp_path / "ledger.db").close()
    metrics, series = fold_series(tmp_path / "ledger.db")
    assert metrics.to_json() == EXPECTED  # one pass gives the totals as well
    return series


def test_the_story_day_by_day(tmp_path: Path) -> None:
    s = story_series(tmp_path)
    assert s.days == DAYS
    # K1 (day 8, ¥1,000), K2 (day 9, ¥1,000), K3 (day 10, ¥800), K4 (day 20, ¥500): all of
    # the story's one category, all priced by its one posted quote.
    for table in (s.prices_by_category, s.prices_by_mechanism):
        (cell,) = table.values()
        assert cell.trades == _on({8: 1, 9: 1, 10: 1, 20: 1})
        assert cell.volume_fen == _on({8: 100_000, 9: 100_000, 10: 80_000, 20: 50_000})
        assert cell.mean_fen()[8:11] == [100_000.0, 100_000.0, 80_000.0]
        assert cell.mean_fen()[11] is None
    assert list(s.prices_by_category) == ["traffic"]
    assert list(s.prices_by_mechanism) == ["posted"]
    assert s.counts == {
        "listings": _on({1: 2}),
        "rights_applications": _on({1: 2}),
        "rights_approvals": _on({3: 1}),
        "rights_rejections": _on({5: 1}),
        "orders": _on({7: 1, 9: 1, 10: 1, 20: 1}),  # K1's order came on day 7.5
        "contracts": _on({8: 1, 9: 1, 10: 1, 20: 1}),
        "rejections": _on({9: 1}),
        "unmet": _on({}),
        "delivered": _on({14: 2}),  # the day-14 settlement: K1 and K2 delivered, K3 failed
        "failed": _on({14: 1}),
        "cancelled": _on({}),
    }
    assert s.backlog_end == {
        "rights": _level((1, 3, 2), (3, 5, 1)),  # A1 decided day 3, A2 day 5
        "desk": _level((7, 8, 1)),  # K1's order waited from day 7.5 to day 8
        "delivery": _level((8, 9, 1), (9, 10, 2), (10, 14, 3), (20, 21, 1)),
        "clearance": _level(),  # the exporter carried out its mechanism itself
    }
    # A peak counts the level carried into the day; an order and its contract at the same
    # instant pass through the desk (as in the metrics' desk_backlog_max).
    assert s.backlog_peak["rights"] == _level((1, 4, 2), (4, 6, 1))
    assert s.backlog_peak["desk"] == _level((7, 11, 1), (20, 21, 1))
    assert s.backlog_peak["delivery"] == _level((8, 9, 1), (9, 10, 2), (10, 15, 3), (20, 21, 1))
    assert s.fees_fen == {
        "supplier": _on({14: 10_000}),
        "membership": _on({0: 20_000}),
        "hosting": _on({20: 500}),
        "compute": _on({}),
        "listing": _on({}),  # the story's schedule has no listing or assessment fee
        "assessment": _on({}),
    }
    # Nobody earned anything before day 14; then p1 holds all revenue, p2 none.
    assert s.hhi == [None] * 14 + [10_000.0] * 7
    assert s.gini == [None] * 14 + [0.5] * 7
    assert s.time_to_trade_days == [7.0]  # p1/L001 listed day 1, first contract day 8


def test_mechanisms_and_the_regulator_queue() -> None:
    s = SeriesScript()
    s.open("b1", 1_000_000)
    s.listing(LISTING, 1)
    s.quote(LISTING, 100_000, 2)  # posted
    s.contract("K1", "b1", 100_000, 3)
    filed = ClearanceApplication(
        application="X1",
        mechanism="security-assessment",
        route="assessment",
        exporter="p1",
        recipient="b1",
        contract="K1",
        pack="prc-2024",
    )
    s.record("crossborder.application", filed, 3.5, "p1")
    cost_plus = PriceQuote(
        listing=LISTING, mechanism="cost-plus", price_fen=60_000, cost_fen=50_000, reason=""
    )
    s.quotes[LISTING] = s.record("pricing.quote", cost_plus, 4, "p1")
    s.contract("K2", "b1", 60_000, 5)
    s.quotes[LISTING] = 999  # a contract citing a quote the ledger does not hold
    s.contract("K3", "b1", 70_000, 5)
    decided = ClearanceDecision(
        application="X1",
        mechanism="security-assessment",
        exporter="p1",
        recipient="b1",
        approved=True,
        approval="AP1",
        valid_from=6 * DAY,
        valid_until=400 * DAY,
        working_days=2,
        reasons=[],
    )
    s.record("crossborder.decision", decided, 6, "r1")
    s.settle(7, delivered("K1", 100_000, 5_000, 7))
    series = s.daily.series()
    by = series.prices_by_mechanism
    assert sorted(by) == ["cost-plus", "posted", "unknown"]
    assert by["posted"].trades == [0, 0, 0, 1, 0, 0, 0, 0]
    assert by["cost-plus"].volume_fen == [0, 0, 0, 0, 0, 60_000, 0, 0]
    assert by["unknown"].volume_fen == [0, 0, 0, 0, 0, 70_000, 0, 0]
    assert series.backlog_end["clearance"] == [0, 0, 0, 1, 1, 1, 0, 0]
    assert series.backlog_end["delivery"] == [0, 0, 0, 1, 1, 3, 3, 2]
    assert series.fees_fen["supplier"][7] == 5_000


@settings(max_examples=60, deadline=None)
@given(OPS, ENDOWMENTS)
def test_series_sum_to_the_totals(ops: list[tuple[Any, ...]], endowments: tuple[int, int]) -> None:
    s = SeriesScript()
    play(s, ops, endowments)
    totals, series = s.fold.metrics(), s.daily.series()
    assert_agrees(s.fold, series)
    assert sum(sum(c.volume_fen) for c in series.prices_by_category.values()) == totals.volume_fen
    assert sum(sum(c.trades) for c in series.prices_by_mechanism.values()) == totals.trades


def assert_agrees(totals: LedgerFold, series: TimeSeries) -> None:
    """What every series must say about the totals: the same sums, peaks and last values."""
    m = totals.metrics()
    assert series.days == int(m.days_simulated) + 1
    assert set(series.counts) == set(STAGE_COUNTS) and set(series.backlog_end) == set(BACKLOGS)
    assert all(len(v) == series.days for v in series.counts.values())
    assert sum(series.counts["contracts"]) == m.trades
    assert sum(series.counts["orders"]) == m.orders
    assert sum(series.counts["delivered"]) == m.delivered
    assert sum(series.counts["failed"]) == m.failed
    assert sum(series.counts["rejections"]) == m.rejections
    assert sum(series.fees_fen["supplier"]) == m.fees_supplier_fen
    assert sum(series.fees_fen["membership"]) == m.fees_membership_fen
    assert sum(series.fees_fen["hosting"]) == m.fees_hosting_fen
    assert series.backlog_end["delivery"][-1] == m.in_escrow
    assert max(series.backlog_peak["desk"]) == m.desk_backlog_max
    assert max(series.backlog_peak["rights"]) == m.rights_backlog_max
    assert series.hhi[-1] == m.hhi and series.gini[-1] == m.gini
    if series.time_to_trade_days:
        mean = sum(series.time_to_trade_days) / len(series.time_to_trade_days)
        assert abs(mean - (m.time_to_trade_days_mean or 0)) < 1e-9
