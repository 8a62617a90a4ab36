"""Trading strategies are pure: prices from observations, tested without SimPy or a venue."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.strategies import make_strategy, strategy_names
from agents.trading_strategies import (
    Faratin,
    MarketEvent,
    TradeObservation,
    Zip,
    uniform_fen,
)
from marketplace.pricing import Side, VenueView

EMPTY = VenueView("order-book", None, None, None, None)
DAY = 86_400
draws = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
sides = st.sampled_from(["buy", "sell"])
limits = st.integers(min_value=0, max_value=10**9)


def seen(
    side: Side,
    limit: int,
    *,
    draw: float = 0.5,
    draw2: float = 0.5,
    floor: int = 1,
    ceiling: int = 200,
    venue: VenueView = EMPTY,
    counterpart: int | None = None,
    elapsed: int = 0,
    deadline: int | None = None,
    quote: int | None = None,
) -> TradeObservation:
    return TradeObservation(
        side, limit, venue, floor, ceiling, draw, draw2,
        counterpart_fen=counterpart, elapsed_s=elapsed, deadline_s=deadline, quote_fen=quote,
    )  # fmt: skip


def test_every_trading_strategy_is_registered_under_the_trading_kind() -> None:
    assert strategy_names("trading") == [
        "by-venue", "faratin", "price-taker", "shading", "truthful", "zi-c", "zi-u", "zip",
    ]  # fmt: skip


def test_by_venue_bids_as_each_kind_of_venue_calls_for() -> None:
    by_venue = make_strategy("trading", "by-venue", {"shade_bp": 2_000})
    posted = VenueView("posted", None, 150, None, None)
    sealed = VenueView("sealed-bid", None, None, None, None)
    book = VenueView("order-book", None, 150, None, None)
    talk = VenueView("bilateral", None, 180, None, None)
    assert by_venue.decide(seen("buy", 180, venue=posted)) == 180  # the value; pays the ask
    assert by_venue.decide(seen("buy", 180, venue=sealed)) == 180  # truthful in a Vickrey round
    assert by_venue.decide(seen("buy", 180, venue=book)) == 144  # shades 20 %
    haggle = seen("buy", 180, venue=talk, floor=90, ceiling=180, elapsed=DAY, deadline=4 * DAY)
    assert by_venue.decide(haggle) == 90 + math.floor(0.25 * 90)  # linear concession, a quarter


def test_observations_refuse_draws_outside_the_unit_interval_and_inverted_bounds() -> None:
    with pytest.raises(ValueError, match="draws"):
        seen("buy", 10, draw=1.0)
    with pytest.raises(ValueError, match="floor_fen <= ceiling_fen"):
        seen("buy", 10, floor=5, ceiling=4)


# -- zero intelligence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "draw", "price"),
    [(1, 200, 0.0, 1), (1, 200, 0.999_999, 200), (1, 200, 0.5, 101), (7, 7, 0.3, 7)],
)
def test_uniform_fen_covers_both_ends(low: int, high: int, draw: float, price: int) -> None:
    assert uniform_fen(low, high, draw) == price


def test_zi_u_ignores_the_limit_and_may_trade_at_a_loss() -> None:
    zi_u = make_strategy("trading", "zi-u")
    assert zi_u.decide(seen("buy", 10, draw=0.9)) == 181  # a buyer worth 10 bids 181
    assert zi_u.decide(seen("sell", 150, draw=0.1)) == 21  # a seller at cost 150 asks 21


def test_zi_c_buyers_draw_below_their_value_and_sellers_above_their_cost() -> None:
    zi_c = make_strategy("trading", "zi-c")
    assert zi_c.decide(seen("buy", 10, draw=0.9)) == 10  # uniform on [1, 10]
    assert zi_c.decide(seen("buy", 10, draw=0.0)) == 1
    assert zi_c.decide(seen("sell", 150, draw=0.1)) == 155  # uniform on [150, 200]
    assert zi_c.decide(seen("sell", 250)) is None  # its cost is above every allowed price
    assert zi_c.decide(seen("buy", 0)) is None


@given(side=sides, limit=limits, draw=draws, floor=st.integers(1, 10**6),
       width=st.integers(0, 10**6))  # fmt: skip
def test_zi_c_never_submits_at_a_loss(
    side: Side, limit: int, draw: float, floor: int, width: int
) -> None:
    price = make_strategy("trading", "zi-c").decide(
        seen(side, limit, draw=draw, floor=floor, ceiling=floor + width)
    )
    if price is not None:
        assert floor <= price <= floor + width
        assert price <= limit if side == "buy" else price >= limit


# -- truthful, shading, price-taker ---------------------------------------------------------


def test_truthful_bids_the_value_and_asks_the_cost() -> None:
    truthful = make_strategy("trading", "truthful")
    assert truthful.decide(seen("buy", 1_234)) == 1_234
    assert truthful.decide(seen("sell", 999)) == 999
    assert truthful.decide(seen("sell", 0)) == 1  # the lowest price a venue takes
    assert truthful.decide(seen("buy", 0)) is None


def test_shading_keeps_a_margin_below_value_and_above_cost() -> None:
    shading = make_strategy("trading", "shading", {"shade_bp": 2_500, "markup_bp": 500})
    assert shading.decide(seen("buy", 1_000)) == 750
    assert shading.decide(seen("sell", 1_000)) == 1_050
    assert shading.decide(seen("buy", 1)) == 1  # 0.25 fen of shade rounds away
    assert make_strategy("trading", "shading", {"shade_bp": 10_000}).decide(
        seen("buy", 1_000)
    ) is None  # fmt: skip


def test_price_takers_take_the_standing_ask_or_the_quote_or_nothing() -> None:
    taker = make_strategy("trading", "price-taker")
    posted = VenueView("posted", None, 800, None, None)
    assert taker.decide(seen("buy", 1_000, venue=posted)) == 800
    assert taker.decide(seen("buy", 799, venue=posted)) is None
    assert taker.decide(seen("buy", 1_000)) is None  # no ask stands
    assert taker.decide(seen("sell", 500, quote=800)) == 800
    assert taker.decide(seen("sell", 900, quote=800)) is None  # below its cost
    assert taker.decide(seen("sell", 500)) is None


# -- faratin --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("beta", "elapsed", "seller_offer", "buyer_offer"),
    [
        # seller from 1 000 down to cost 200; buyer from floor 100 up to value 900; T = 10 days
        (1.0, 0, 1_000, 100),
        (1.0, 5 * DAY, 600, 500),  # linear: half way at half time
        (1.0, 10 * DAY, 200, 900),  # the reservation price at the deadline
        (0.5, 5 * DAY, 800, 300),  # Boulware: α = 0.5² = 0.25
        (2.0, 5 * DAY, 435, 665),  # Conceder: α = √0.5 = 0.7071…
        (1.0, 20 * DAY, 200, 900),  # past the deadline: no further
    ],
)
def test_faratin_concedes_by_its_time_dependent_tactic(
    beta: float, elapsed: int, seller_offer: int, buyer_offer: int
) -> None:
    tactic = make_strategy("trading", "faratin", {"beta": beta})
    sell = seen("sell", 200, floor=100, ceiling=5_000, quote=1_000, elapsed=elapsed,
                deadline=10 * DAY)  # fmt: skip
    buy = seen("buy", 900, floor=100, ceiling=5_000, elapsed=elapsed, deadline=10 * DAY)
    assert tactic.decide(sell) == seller_offer
    assert tactic.decide(buy) == buyer_offer


def test_faratin_kappa_is_the_first_concession_and_no_deadline_keeps_the_opening() -> None:
    tactic = Faratin(beta=1.0, kappa=0.25)
    assert tactic.alpha(0, 10 * DAY) == 0.25
    assert tactic.alpha(10 * DAY, 10 * DAY) == 1.0
    assert tactic.alpha(5 * DAY, None) == 0.25
    assert tactic.decide(seen("sell", 200, quote=1_000, ceiling=5_000)) == 800


def test_faratin_accepts_an_offer_at_least_as_good_as_its_own_next_offer() -> None:
    tactic = make_strategy("trading", "faratin")
    half = {"elapsed": 5 * DAY, "deadline": 10 * DAY, "floor": 100, "ceiling": 5_000}
    # the seller would ask 600 now: a standing bid of 600 is accepted (returned), 599 is not
    assert tactic.decide(seen("sell", 200, quote=1_000, counterpart=600, **half)) == 600
    assert tactic.decide(seen("sell", 200, quote=1_000, counterpart=599, **half)) == 600
    # the buyer would bid 500 now: a standing ask of 480 is accepted, 501 is not
    assert tactic.decide(seen("buy", 900, counterpart=480, **half)) == 480
    assert tactic.decide(seen("buy", 900, counterpart=501, **half)) == 500


@given(
    beta=st.floats(min_value=0.05, max_value=20),
    limit=st.integers(1, 10_000),
    spread=st.integers(0, 10_000),
    first=st.integers(0, 30 * DAY),
    later=st.integers(0, 30 * DAY),
    side=sides,
)
def test_faratin_offers_stay_between_opening_and_reservation_and_concede_over_time(
    beta: float, limit: int, spread: int, first: int, later: int, side: Side
) -> None:
    tactic = Faratin(beta=beta)
    early, late = sorted((first, later))

    def offer(elapsed: int) -> int | None:
        quote = limit + spread if side == "sell" else None
        return tactic.decide(seen(side, limit, floor=1, ceiling=20_001, quote=quote,
                                  elapsed=elapsed, deadline=20 * DAY))  # fmt: skip

    a, b = offer(early), offer(late)
    assert a is not None and b is not None
    if side == "sell":
        assert limit + spread >= a >= b >= limit  # conceding downward, never below cost
    else:
        assert 1 <= a <= b <= limit  # conceding upward, never above value


# -- ZIP ------------------------------------------------------------------------------------


def test_zip_starts_from_a_drawn_margin_and_raises_it_after_a_trade_above_its_price() -> None:
    trader = make_strategy("trading", "zip", {"momentum": 0.0})
    assert isinstance(trader, Zip)
    # μ₀ = 0.05 + 0·0.30, β = 0.1 + 0·0.4: a seller at cost 100 asks 105
    assert trader.decide(seen("sell", 100, draw=0.0, draw2=0.0)) == 105
    # a bid accepted at 120: τ = 1·120 + 0, Δ = 0.1·(120 − 105) = 1.5, p = 106.5 → ask 107
    trader.observe(MarketEvent(120, "buy", traded=True, draw=0.0, draw2=0.0))
    assert trader.price() == pytest.approx(106.5)
    assert trader.decide(seen("sell", 100)) == 107  # later draws do not reset the margin


def test_zip_momentum_carries_part_of_the_last_change() -> None:
    trader = Zip(momentum=0.5)
    trader.decide(seen("sell", 100, draw=0.0, draw2=0.0))  # asks 105, β = 0.1
    trader.observe(MarketEvent(125, "buy", traded=True, draw=0.0, draw2=0.0))
    # Δ = 0.1·(125 − 105) = 2, Γ = 0.5·0 + 0.5·2 = 1 → 106
    assert trader.price() == pytest.approx(106.0)
    trader.observe(MarketEvent(125, "buy", traded=True, draw=0.0, draw2=0.0))
    # Δ = 0.1·(125 − 106) = 1.9, Γ = 0.5·1 + 0.5·1.9 = 1.45 → 107.45
    assert trader.price() == pytest.approx(107.45)


def test_an_active_zip_seller_undercut_by_a_lower_ask_lowers_its_price_an_inactive_one_not() -> (
    None
):
    trader = Zip(momentum=0.0)
    trader.decide(seen("sell", 100, draw=1 - 1e-12, draw2=0.0))  # μ₀ ≈ 0.35: asks 135
    trader.observe(MarketEvent(120, "sell", traded=False, draw=0.0, draw2=0.0))
    assert trader.price() == pytest.approx(135 - 0.1 * 15)
    trader.active = False
    before = trader.price()
    trader.observe(MarketEvent(110, "sell", traded=False))
    assert trader.price() == before


def test_a_zip_buyer_lowers_its_bid_after_a_trade_below_it_and_raises_it_when_outbid() -> None:
    trader = Zip(momentum=0.0, c_r=0.0, c_a_fen=0)
    assert trader.decide(seen("buy", 200, draw=0.0, draw2=0.0)) == 190  # μ₀ = −0.05
    trader.observe(MarketEvent(150, "sell", traded=True))  # could have paid 150
    assert trader.price() == pytest.approx(190 - 0.1 * 40)
    trader.observe(MarketEvent(195, "buy", traded=False))  # a higher bid stands: bid up
    assert trader.price() == pytest.approx(186 + 0.1 * 9)


def test_zip_ignores_events_before_its_first_decision() -> None:
    trader = Zip()
    trader.observe(MarketEvent(500, "buy", traded=True))
    assert trader.side is None


@given(
    side=sides,
    limit=st.integers(1, 10**6),
    start=st.tuples(draws, draws),
    events=st.lists(
        st.tuples(st.integers(1, 2 * 10**6), sides, st.booleans(), draws, draws), max_size=30
    ),
)
def test_zip_never_shouts_at_a_loss_whatever_the_market_does(
    side: Side,
    limit: int,
    start: tuple[float, float],
    events: list[tuple[int, Side, bool, float, float]],
) -> None:
    trader = Zip()
    ceiling = 4 * 10**6
    shouts = [trader.decide(seen(side, limit, draw=start[0], draw2=start[1], ceiling=ceiling))]
    for price, shout, traded, u, v in events:
        trader.observe(MarketEvent(price, shout, traded, u, v))
        shouts.append(trader.decide(seen(side, limit, ceiling=ceiling)))
        assert math.isfinite(trader.margin)
    for bid in shouts:
        if bid is None:  # only a buyer whose price fell below one fen bids nothing
            assert side == "buy"
        else:
            assert bid <= limit if side == "buy" else bid >= limit
