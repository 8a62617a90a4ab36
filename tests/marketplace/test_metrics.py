"""Metrics are folds over the ledger: a scripted market story, folded, gives hand-computed figures.

``Script`` writes entries straight onto a real ledger (no SimPy, no exchange), so every figure
below can be worked out on paper from the story in :func:`good_story`. ``FoldScript`` plays the
same scripts into a bare :class:`LedgerFold`, which is what the Hypothesis tests use for speed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Store, parse_leaf
from marketplace.entries import (
    ESCROW_ACCOUNT,
    EXCHANGE_ACCOUNT,
)
from marketplace.metrics import FoldError, LedgerFold, Metrics, fold, gini, hhi, nearest_rank
from tests.marketplace.stories import (
    ENDOWMENTS,
    EXPECTED,
    LISTING,
    OPS,
    FoldScript,
    good_story,
    play,
)


@pytest.fixture
def story_db(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    good_story(path).close()
    return path


def test_the_story_folds_to_the_figures_worked_out_by_hand(story_db: Path) -> None:
    assert fold(story_db).to_json() == EXPECTED


def test_metrics_json_is_plain_and_sorted(story_db: Path) -> None:
    data = fold(story_db).to_json()
    assert json.loads(json.dumps(data)) == data
    floats = {key for key, value in data.items() if isinstance(value, float)}
    assert all(
        key.endswith(("_rate", "_mean", "_p50", "_p90", "_simulated")) or key in {"hhi", "gini"}
        for key in floats
    )
    for key, value in data.items():
        if isinstance(value, dict) and key not in ("crossborder", "pricing"):  # see below
            assert list(value) == sorted(value)
            assert all(type(v) is int for v in value.values())
    for figures in data["pricing"].values():
        assert list(figures) == sorted(figures)
    crossing = data["crossborder"]
    for name in ("flows", "refusals", "refused_by_rule", "mechanism_wait_days", "decisions"):
        assert list(crossing[name]) == sorted(crossing[name])


def test_fold_reads_a_run_directory_a_file_a_url_and_an_open_store(story_db: Path) -> None:
    expected = fold(story_db)
    assert fold(story_db.parent) == expected
    assert fold(f"sqlite:///{story_db}") == expected
    store = Store(f"sqlite:///{story_db}")
    try:
        assert fold(store) == expected
        assert store.count() == EXPECTED["entries"]  # lent, not closed
    finally:
        store.close()


def test_feeding_entries_one_by_one_is_the_same_fold(story_db: Path) -> None:
    live = LedgerFold()
    midway: Metrics | None = None
    store = Store(f"sqlite:///{story_db}")
    try:
        for rows in store.iter_rows():
            for row in rows:
                entry = parse_leaf(row[4])
                live.feed(entry.seq, entry.time, entry.kind, entry.actor, entry.body)
                if entry.kind == "rights.decision" and midway is None:
                    midway = live.metrics()
                    assert live.metrics() == midway  # reading does not change the fold
    finally:
        store.close()
    assert midway is not None
    assert (midway.rights_decisions, midway.rights_backlog_max, midway.trades) == (1, 2, 0)
    assert live.metrics() == fold(story_db)


def test_entries_at_one_time_are_one_backlog_sample() -> None:
    s = FoldScript()
    s.apply("A1", LISTING, 1)
    s.decide("A1", LISTING, 1)  # decided at once: never waiting at a sampled time
    s.apply("A2", LISTING, 2)
    figures = s.fold.metrics()
    assert (figures.rights_backlog_max, figures.rights_backlog_mean) == (1, 0.5)
    assert figures.review_wait_days_mean == 0.0


def test_an_empty_market_counts_zero_and_its_statistics_are_not_available() -> None:
    """Counts of nothing are 0; statistics of nothing are None ("n/a"), never a made-up 0."""
    figures = LedgerFold().metrics()
    assert figures.trades == figures.rights_backlog_max == figures.volume_fen == 0
    assert figures.price_p50_fen is None and figures.price_mean_fen is None
    assert figures.hhi is None and figures.gini is None
    assert figures.rights_approval_rate is None and figures.order_rejection_rate is None
    assert figures.review_wait_days_mean is None and figures.settlement_lag_days_mean is None
    assert figures.balances_fen == {ESCROW_ACCOUNT: 0, EXCHANGE_ACCOUNT: 0}


def test_a_body_that_does_not_parse_names_its_seq() -> None:
    folder = LedgerFold()
    folder.feed(0, 0, "ledger.genesis", "log", {"anything": 1})  # not market vocabulary
    with pytest.raises(FoldError, match=r"seq 5: trade\.contract"):
        folder.feed(5, 0, "trade.contract", "b1", {"contract": "K1"})


def test_nearest_rank_percentiles() -> None:
    assert nearest_rank([], 50) is None
    assert [nearest_rank([10, 20, 30, 40], p) for p in (0, 10, 25, 50, 90, 100)] == [
        10,
        10,
        10,
        20,
        40,
        40,
    ]


def test_hhi_and_gini_known_values() -> None:
    assert hhi({"a": 50, "b": 30, "c": 20}) == 2500 + 900 + 400
    assert hhi({"a": 1, "b": 1, "c": 1, "d": 1}) == 2500
    assert hhi({"a": 0}) is None  # no revenue: no market to be concentrated
    assert gini([1, 2, 3, 4]) == 0.25
    assert gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 9]) == 0.75  # (n − 1) / n: one holder of everything
    assert gini([]) is None and gini([0, 0]) is None


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=30))
def test_hhi_and_gini_bounds(revenues: list[int]) -> None:
    named = {f"p{i}": r for i, r in enumerate(revenues)}
    g, h = gini(revenues), hhi(named)
    if not sum(revenues):
        assert g is None and h is None
        return
    assert g is not None and h is not None
    assert 0.0 <= g <= (len(revenues) - 1) / len(revenues) + 1e-12
    assert 10_000 / len(revenues) - 1e-9 <= h <= 10_000 + 1e-9


# -- money is conserved in every story ------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(OPS, ENDOWMENTS)
def test_random_stories_conserve_money_per_the_fold(
    ops: list[tuple[Any, ...]], endowments: tuple[int, int]
) -> None:
    s = FoldScript()
    live = play(s, ops, endowments)
    figures = s.fold.metrics()
    balances = figures.balances_fen
    assert sum(balances.values()) == figures.endowments_fen == sum(endowments)
    assert balances == live.snapshot()
    assert balances[EXCHANGE_ACCOUNT] == figures.fees_total_fen
    settled = figures.delivered + figures.failed
    assert settled + figures.in_escrow == figures.trades
    open_prices = sum(deal.price for deal in s.fold.deals.values() if not deal.settled)
    assert balances[ESCROW_ACCOUNT] == open_prices >= 0
