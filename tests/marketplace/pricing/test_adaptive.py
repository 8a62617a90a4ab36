"""Adaptive posted price: Hedge's weights, full-information updates, regret and its bound."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.errors import MarketError
from marketplace.pricing import (
    AdaptivePosted,
    Hedge,
    LimitOrder,
    PricingContext,
    make_mechanism,
    regret,
)
from marketplace.pricing.adaptive import geometric_grid, learning_rate, regret_bound, revenue

GRID = (10, 20, 30, 40, 50)


def test_revenue_counts_the_price_from_every_bid_that_reaches_it() -> None:
    assert revenue(20, [15, 20, 35]) == 40
    assert revenue(50, [15, 20, 35]) == 0
    assert revenue(20, []) == 0


def test_regret_worked_by_hand() -> None:
    # posted 20, 10, 20 earned 0 + 10 + 20 = 30; fixed 10 earns 30, fixed 20 earns 0 + 20 + 20
    assert regret([[15], [25], [5, 30]], [20, 10, 20], (10, 20)) == 10
    assert regret([[15], [25], [5, 30]], [20, 20, 20], (10, 20)) == 0


def test_regret_needs_a_price_per_round_and_a_grid() -> None:
    with pytest.raises(MarketError, match="one posted price per round"):
        regret([[1], [2]], [1], (1,))
    with pytest.raises(MarketError, match="non-empty price grid"):
        regret([], [], ())


def test_learning_rate_and_bound() -> None:
    assert learning_rate(5, 100) == pytest.approx(math.sqrt(8 * math.log(5) / 100))
    assert regret_bound(5, 100, 50) == pytest.approx(math.sqrt(100 * math.log(5) / 2) * 50)


@pytest.mark.parametrize(
    ("low", "high", "points", "grid"),
    [
        (1_000, 5_000, 5, (1_000, 1_495, 2_236, 3_344, 5_000)),
        (1_000, 1_000, 5, (1_000,)),
        (1, 3, 9, (1, 2, 3)),  # a narrow range in few fen keeps each price once
        (0, 0, 3, (1,)),
    ],
)
def test_the_grid_is_geometric_in_whole_fen(
    low: int, high: int, points: int, grid: tuple[int, ...]
) -> None:
    assert geometric_grid(low, high, points) == grid


def test_hedge_starts_uniform_and_moves_weight_to_the_price_that_would_have_earned_most() -> None:
    hedge = Hedge(GRID, eta=1.0)
    assert hedge.probabilities() == pytest.approx([0.2] * 5)
    hedge.update([35])  # 10, 20, 30 earn their price; 40 and 50 nothing: gains .2 .4 .6 0 0
    weights = [math.exp(g) for g in (0.2, 0.4, 0.6, 0.0, 0.0)]
    assert hedge.probabilities() == pytest.approx([w / sum(weights) for w in weights])
    assert hedge.rounds == 1
    hedge.update([])  # nothing seen, nothing learnt
    assert hedge.rounds == 1


def test_the_posted_price_is_drawn_from_the_weights_by_the_uniform_number() -> None:
    hedge = Hedge(GRID, eta=1.0)
    assert [hedge.draw(u) for u in (0.0, 0.19, 0.2, 0.5, 0.99, 0.999_999_999_999)] == [
        10, 10, 20, 30, 50, 50
    ]  # fmt: skip


@settings(max_examples=200)
@given(
    rounds=st.lists(st.lists(st.integers(1, 60), max_size=5), max_size=40),
    eta=st.floats(min_value=0.01, max_value=50),
)
def test_weights_stay_a_probability_vector(rounds: list[list[int]], eta: float) -> None:
    hedge = Hedge(GRID, eta=eta)
    for bids in rounds:
        hedge.update(bids)
        probabilities = hedge.probabilities()
        assert all(0 <= p <= 1 for p in probabilities)
        assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=200)
@given(bids=st.lists(st.integers(1, 60), min_size=1, max_size=200))
def test_expected_regret_stays_within_hedges_bound(bids: list[int]) -> None:
    """Whatever the sequence of buyers (one per round, chosen adversarially by Hypothesis),
    the expected revenue of Hedge's draws trails the best fixed price by at most
    √(T ln N / 2) · max price."""
    rounds = len(bids)
    hedge = Hedge(GRID, eta=learning_rate(len(GRID), rounds))
    expected = 0.0
    for b in bids:
        expected += sum(
            p * revenue(price, [b]) for p, price in zip(hedge.probabilities(), GRID, strict=True)
        )
        hedge.update([b])
    best = max(sum(revenue(price, [b]) for b in bids) for price in GRID)
    assert best - expected <= regret_bound(len(GRID), rounds, max(GRID)) + 1e-6


def test_on_a_steady_market_the_draws_settle_on_the_best_price() -> None:
    """Every buyer worth 35: 30 is the best fixed price; after 200 rounds nearly all weight
    is on it, so the realised regret of a run of draws grows far slower than the rounds."""
    hedge = Hedge(GRID, eta=learning_rate(len(GRID), 200))
    chosen = []
    for t in range(200):
        chosen.append(hedge.draw((t * 0.618_033_988_75) % 1))  # a spread of uniform numbers
        hedge.update([35])
    assert hedge.probabilities()[2] > 0.99
    assert regret([[35]] * 200, chosen, GRID) < 200 * 30 * 0.15


# -- the mechanism --------------------------------------------------------------------------


def ctx(draw: float, cost: int = 1_000) -> PricingContext:
    return PricingContext("p/L1", cost, None, 80, draw=draw)


def test_the_mechanism_learns_from_the_bids_its_venue_saw() -> None:
    mechanism = make_mechanism(
        "adaptive-posted", {"points": 5, "floor_bp": 10_000, "cap_bp": 50_000, "eta": 2.0}
    )
    assert isinstance(mechanism, AdaptivePosted) and mechanism.kind == "posted"
    venue = mechanism.open_venue("p/L1", 0)
    first = mechanism.quote(ctx(0.5))
    assert first.price_fen == 2_236  # uniform weights: the middle of five prices
    assert first.reason == "Hedge over 5 prices after 0 rounds: drew 2236 (probability 0.200)"
    venue.submit(LimitOrder("Q1", "p", "sell", "p/L1", first.price_fen, None, 0))
    for i, limit in enumerate((4_000, 4_500, 3_500)):  # buyers worth 3 344 or more
        venue.submit(LimitOrder(f"B{i}", f"b{i}", "buy", "p/L1", limit, 1, i))
    second = mechanism.quote(ctx(0.6))
    assert venue.bids_seen == []  # consumed
    learner = mechanism.learner(ctx(0.6))
    assert learner.rounds == 1
    # gains: price × 3 bids / (5 000 × 3): 3 344 earned most (every bid reached it)
    gains = [p * sum(b >= p for b in (4_000, 4_500, 3_500)) / 15_000 for p in learner.grid]
    weights = [math.exp(2.0 * g) for g in gains]
    assert learner.probabilities() == pytest.approx([w / sum(weights) for w in weights])
    # cumulative .141 .313 .544 .905 1: u = 0.6 falls on 3 344
    assert second.price_fen == 3_344


def test_the_mechanism_draws_only_through_the_context() -> None:
    a, b = AdaptivePosted(points=5), AdaptivePosted(points=5)
    assert [a.quote(ctx(u)).price_fen for u in (0.1, 0.9, 0.3)] == [
        b.quote(ctx(u)).price_fen for u in (0.1, 0.9, 0.3)
    ]
    assert [a.quote(ctx(u)).price_fen for u in (0.05, 0.95)] == [1_000, 5_000]


def test_a_context_draw_outside_the_unit_interval_is_refused() -> None:
    with pytest.raises(MarketError, match=r"draw must lie in \[0, 1\)"):
        PricingContext("p/L1", 1_000, None, 80, draw=1.0)


def test_adaptive_posted_refuses_bad_params() -> None:
    with pytest.raises(MarketError, match="floor_bp <= cap_bp"):
        make_mechanism("adaptive-posted", {"floor_bp": 30_000, "cap_bp": 20_000})
    with pytest.raises(MarketError, match="points"):
        make_mechanism("adaptive-posted", {"points": 0})
