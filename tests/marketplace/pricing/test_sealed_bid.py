"""The sealed-bid (k+1)-th price auction: Vickrey prices, the reserve, ties, and its properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import MarketError
from marketplace.pricing import (
    Clearing,
    LimitOrder,
    PricingContext,
    SealedBidVenue,
    SecondPrice,
    make_mechanism,
)
from tests.marketplace.pricing.strategies import bid_lists

DAY = 86_400


def bid(name: str, price: int, at: int = 0) -> LimitOrder:
    return LimitOrder(f"B-{name}", name, "buy", "L1", price, 1, at)


def reserve(price: int, units: int | None = 1) -> LimitOrder:
    return LimitOrder("S1", "seller", "sell", "L1", price, units, 0)


def auction(ask: LimitOrder | None, *bids: LimitOrder) -> SealedBidVenue:
    venue = SealedBidVenue("L1", closes_at=DAY)
    if ask is not None:
        venue.submit(ask)
    for b in bids:
        assert venue.submit(b) == []  # sealed: nothing fills before the close
    return venue


def won(venue: SealedBidVenue) -> list[tuple[str, int, str]]:
    return [(f.buyer, f.price_fen, f.rule) for f in venue.close(DAY)]


# -- the rules, worked by hand --------------------------------------------------------------


def test_vickrey_the_highest_bid_wins_and_pays_the_second_highest() -> None:
    venue = auction(reserve(100), bid("ann", 150), bid("bob", 300), bid("cat", 200))
    assert won(venue) == [("bob", 200, "second price: highest losing bid")]
    assert venue.clearing() == Clearing(
        reserve_fen=100,
        units=1,
        ranked=(bid("bob", 300), bid("cat", 200), bid("ann", 150)),
        winners=("B-bob",),
        price_fen=200,
        rule="second price: highest losing bid",
    )
    assert venue.view().last_price_fen == 200


def test_the_reserve_sets_the_price_when_the_highest_losing_bid_is_below_it() -> None:
    venue = auction(reserve(100), bid("ann", 150), bid("bob", 90))
    assert won(venue) == [("ann", 100, "reserve")]


def test_a_lone_bidder_at_the_reserve_pays_the_reserve() -> None:
    assert won(auction(reserve(100), bid("ann", 100))) == [("ann", 100, "reserve")]


def test_no_bid_reaches_the_reserve_no_sale() -> None:
    venue = auction(reserve(100), bid("ann", 99))
    assert venue.close(DAY) == []
    clearing = venue.clearing()
    assert clearing is not None and clearing.price_fen is None and clearing.winners == ()
    assert clearing.rule == "no sale: no bid reached the reserve"
    assert clearing.ranked == (bid("ann", 99),)


def test_without_a_seller_nothing_sells() -> None:
    venue = auction(None, bid("ann", 500))
    assert venue.close(DAY) == []
    assert venue.clearing() == Clearing(
        None, None, (bid("ann", 500),), (), None, "no sale: no seller"
    )


def test_equal_bids_the_earlier_one_wins_and_pays_the_tie() -> None:
    venue = auction(reserve(10), bid("late", 200, at=50), bid("early", 200, at=30))
    assert won(venue) == [("early", 200, "second price: highest losing bid")]


def test_equal_bids_at_the_same_second_go_by_arrival_at_the_venue() -> None:
    venue = auction(reserve(10), bid("first", 200, at=30), bid("second", 200, at=30))
    assert won(venue)[0][0] == "first"


def test_k_licences_go_to_the_k_highest_bids_at_the_highest_losing_bid() -> None:
    venue = auction(
        reserve(50, units=2), bid("a", 500), bid("b", 300), bid("c", 400), bid("d", 100)
    )
    rule = "(k+1)-th price, k = 2: highest losing bid"
    assert won(venue) == [("a", 300, rule), ("c", 300, rule)]


def test_fewer_bids_than_licences_all_above_the_reserve_pay_the_reserve() -> None:
    venue = auction(reserve(50, units=3), bid("a", 500), bid("b", 60), bid("c", 40))
    assert won(venue) == [("a", 50, "reserve"), ("b", 50, "reserve")]


def test_unlimited_licences_sell_to_every_bid_at_the_reserve() -> None:
    venue = auction(reserve(50, units=None), bid("a", 500), bid("b", 50), bid("c", 49))
    assert won(venue) == [("a", 50, "reserve"), ("b", 50, "reserve")]


def test_fills_carry_the_sellers_listing_and_order() -> None:
    venue = auction(reserve(50), bid("a", 70))
    (fill,) = venue.close(DAY)
    assert (fill.buy, fill.sell, fill.seller, fill.listing, fill.quantity) == (
        "B-a",
        "S1",
        "seller",
        "L1",
        1,
    )


def test_the_view_shows_the_reserve_and_the_close_but_never_the_bids() -> None:
    venue = auction(reserve(100), bid("ann", 150))
    view = venue.view()
    assert (view.kind, view.best_bid_fen, view.best_ask_fen, view.closes_at) == (
        "sealed-bid",
        None,
        100,
        DAY,
    )
    assert venue.resting() == [reserve(100), bid("ann", 150)]
    venue.close(DAY)
    assert venue.resting() == []


def test_a_bid_may_be_withdrawn_before_the_close() -> None:
    venue = auction(reserve(100), bid("ann", 150), bid("bob", 120))
    assert venue.cancel("B-ann") == bid("ann", 150)
    assert venue.cancel("B-ann") is None
    assert won(venue) == [("bob", 100, "reserve")]
    assert venue.cancel("B-bob") is None  # closed


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (LimitOrder("B9", "zed", "buy", "L1", 100, 2, 0), "one licence"),
        (LimitOrder("B9", "ann", "buy", "L1", 100, 1, 0), "already in this auction"),
        (LimitOrder("B9", "seller", "buy", "L1", 100, 1, 0), "already in this auction"),
        (LimitOrder("S2", "seller", "sell", "L1", 90, 1, 0), "already has its reserve"),
        (LimitOrder("B-ann", "zed", "buy", "L1", 100, 1, 0), "already submitted"),
        (LimitOrder("B9", "zed", "buy", "L1", 100, 1, DAY + 1), "has closed"),
    ],
)
def test_orders_the_auction_refuses(order: LimitOrder, message: str) -> None:
    venue = auction(reserve(100), bid("ann", 150))
    with pytest.raises(MarketError, match=message):
        venue.submit(order)


def test_a_bidder_cannot_become_the_seller() -> None:
    venue = auction(None, bid("ann", 150))
    with pytest.raises(MarketError, match="has bid in this auction"):
        venue.submit(LimitOrder("S1", "ann", "sell", "L1", 90, 1, 0))


def test_the_auction_closes_once_and_not_before_its_time() -> None:
    venue = auction(reserve(100), bid("ann", 150))
    with pytest.raises(MarketError, match="closes at 86400"):
        venue.close(DAY - 1)
    venue.close(DAY)
    with pytest.raises(MarketError, match="already closed"):
        venue.close(DAY)
    with pytest.raises(MarketError, match="has closed"):
        venue.submit(bid("bob", 500, at=DAY))


# -- the mechanism --------------------------------------------------------------------------


def cost(unit_cost: int) -> PricingContext:
    return PricingContext("p/L1", unit_cost, None, 80)


def test_second_price_with_a_cost_reserve_quotes_the_cost() -> None:
    mechanism = make_mechanism("second-price", {"round_days": 2, "units": 3})
    assert isinstance(mechanism, SecondPrice) and mechanism.kind == "sealed-bid"
    assert mechanism.quote(cost(1_234)).price_fen == 1_234
    assert mechanism.quote(cost(0)).price_fen == 1
    venue = mechanism.open_venue("p/L1", opened_at=500)
    assert isinstance(venue, SealedBidVenue) and venue.closes_at == 500 + 2 * DAY


@pytest.mark.parametrize(
    ("value", "unit_cost", "price"),
    [
        ({"dist": "uniform", "low": 0, "high": 10_000}, 0, 5_000),
        ({"dist": "uniform", "low": 0, "high": 10_000}, 2_000, 6_000),
        ({"dist": "exponential", "mean": 1_000}, 250, 1_250),
        ({"dist": "uniform", "low": 0.0, "high": 1_001.4}, 0, 501),  # 500.7: the nearest fen
    ],
)
def test_second_price_with_a_myerson_reserve_from_the_scenarios_value_law(
    value: dict[str, object], unit_cost: int, price: int
) -> None:
    mechanism = make_mechanism("second-price", {"reserve": "myerson", "value": value})
    quote = mechanism.quote(cost(unit_cost))
    assert quote.price_fen == price
    assert quote.reason.startswith(f"Myerson reserve: r - (1 - F(r))/f(r) = {unit_cost} for")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"reserve": "myerson"}, "needs the buyers' value"),
        (
            {"reserve": "myerson", "value": {"dist": "lognormal", "median": 1e5, "sigma": 2.5}},
            "irregular",
        ),
        ({"reserve": "myerson", "value": {"dist": "constant", "value": 5}}, "density"),
        ({"reserve": "vcg"}, "reserve"),
        ({"units": 0}, "units"),
    ],
)
def test_second_price_refuses_bad_params(params: dict[str, object], message: str) -> None:
    with pytest.raises(MarketError, match=message):
        make_mechanism("second-price", params)


# -- properties -----------------------------------------------------------------------------


def run(prices: list[int], reserve_fen: int, units: int | None) -> tuple[SealedBidVenue, list]:
    venue = auction(
        reserve(reserve_fen, units), *(bid(f"b{i}", p, at=i) for i, p in enumerate(prices))
    )
    return venue, venue.close(DAY)


@given(prices=bid_lists, reserve_fen=st.integers(1, 50), units=st.none() | st.integers(1, 5))
def test_auctions_are_individually_rational_and_sell_to_the_top_bids(
    prices: list[int], reserve_fen: int, units: int | None
) -> None:
    venue, fills = run(prices, reserve_fen, units)
    bids = {f"B-b{i}": p for i, p in enumerate(prices)}
    winners = {f.buy for f in fills}
    for fill in fills:
        assert reserve_fen <= fill.price_fen <= bids[fill.buy]  # no winner pays above its bid
        assert fill.buyer != fill.seller
    assert len({f.price_fen for f in fills}) <= 1  # one uniform price
    if units is not None:
        assert len(fills) <= units
    losers = [p for o, p in bids.items() if o not in winners]
    for fill in fills:
        assert all(bids[fill.buy] >= p for p in losers)  # winners outbid every loser
    eligible = sum(p >= reserve_fen for p in prices)
    assert len(fills) == (eligible if units is None else min(units, eligible))
    clearing = venue.clearing()
    assert clearing is not None and len(clearing.ranked) == len(prices)


@given(values=st.lists(st.integers(1, 50), min_size=1, max_size=12), reserve_fen=st.integers(1, 50))
def test_with_truthful_bidders_the_highest_value_wins(values: list[int], reserve_fen: int) -> None:
    _, fills = run(values, reserve_fen, 1)
    if max(values) < reserve_fen:
        assert fills == []
        return
    (fill,) = fills
    assert fill.buy == f"B-b{values.index(max(values))}"  # the earliest of the highest values
    others = sorted(values, reverse=True)[1:2]
    assert fill.price_fen == max([reserve_fen, *others])


@given(
    others=bid_lists,
    value=st.integers(1, 50),
    lie=st.integers(1, 60),
    reserve_fen=st.integers(1, 50),
    units=st.integers(1, 4),
)
def test_bidding_ones_value_is_a_dominant_strategy(
    others: list[int], value: int, lie: int, reserve_fen: int, units: int
) -> None:
    """Vickrey's theorem: whatever the others bid, no bid earns a unit-demand bidder more
    surplus than its value (the bidder arrives last, so ties go against it either way)."""

    def surplus(bid_fen: int) -> int:
        _, fills = run([*others, bid_fen], reserve_fen, units)
        mine = [f for f in fills if f.buy == f"B-b{len(others)}"]
        return sum(value - f.price_fen for f in mine)

    assert surplus(value) >= surplus(lie)
    assert surplus(value) >= 0
