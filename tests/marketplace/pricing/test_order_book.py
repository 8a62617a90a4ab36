"""The continuous double auction: price-time priority, maker prices, partial fills, invariants."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings

from marketplace.errors import MarketError
from marketplace.pricing import (
    DoubleAuction,
    Fill,
    LimitOrder,
    OrderBookVenue,
    PricingContext,
    make_mechanism,
)
from tests.marketplace.pricing.strategies import Cancel, order_streams


def buy(order: str, price: int, quantity: int = 1, at: int = 0, trader: str = "") -> LimitOrder:
    return LimitOrder(order, trader or f"buyer-{order}", "buy", "L1", price, quantity, at)


def sell(
    order: str, price: int, quantity: int | None = 1, at: int = 0, trader: str = ""
) -> LimitOrder:
    return LimitOrder(order, trader or f"seller-{order}", "sell", "L1", price, quantity, at)


def traded(fills: list[Fill]) -> list[tuple[str, str, int, int]]:
    return [(f.buy, f.sell, f.price_fen, f.quantity) for f in fills]


# -- the rules, worked by hand --------------------------------------------------------------


def test_a_bid_takes_the_cheapest_asks_first_at_their_prices_and_the_rest_rests() -> None:
    book = OrderBookVenue("L1")
    assert book.submit(sell("S1", 100, 2, at=0)) == []
    assert book.submit(sell("S2", 90, 1, at=1)) == []
    assert book.submit(sell("S3", 100, 1, at=2)) == []
    assert (book.view().best_bid_fen, book.view().best_ask_fen) == (None, 90)

    fills = book.submit(buy("B1", 105, 3, at=3))

    # cheapest first (S2 at 90), then the earlier of the two asks at 100 (S1 before S3)
    assert traded(fills) == [("B1", "S2", 90, 1), ("B1", "S1", 100, 2)]
    assert [f.rule for f in fills] == ["resting order S2", "resting order S1"]
    assert book.resting() == [sell("S3", 100, 1, at=2)]

    fills = book.submit(buy("B2", 100, 2, at=4))
    assert traded(fills) == [("B2", "S3", 100, 1)]
    assert book.resting() == [buy("B2", 100, 1, at=4)]  # the remainder rests
    view = book.view()
    assert (view.best_bid_fen, view.best_ask_fen, view.last_price_fen) == (100, None, 100)
    assert view.kind == "order-book" and view.closes_at is None


def test_an_incoming_ask_trades_at_the_resting_bid_so_the_seller_gets_the_makers_price() -> None:
    book = OrderBookVenue("L1")
    book.submit(buy("B1", 120, 1, at=0))
    book.submit(buy("B2", 150, 1, at=1))
    book.submit(buy("B3", 150, 1, at=2))
    fills = book.submit(sell("S1", 130, 5, at=3))
    assert traded(fills) == [("B2", "S1", 150, 1), ("B3", "S1", 150, 1)]  # 150s by arrival
    assert book.resting() == [buy("B1", 120, 1, at=0), sell("S1", 130, 3, at=3)]


def test_an_unlimited_ask_fills_every_crossing_bid_in_full_and_keeps_resting() -> None:
    book = OrderBookVenue("L1")
    book.submit(buy("B1", 100, 3))
    book.submit(buy("B2", 60, 2))
    fills = book.submit(sell("S1", 80, None, at=1))
    assert traded(fills) == [("B1", "S1", 100, 3)]
    assert book.resting() == [buy("B2", 60, 2), sell("S1", 80, None, at=1)]
    assert traded(book.submit(buy("B3", 80, 4, at=2))) == [("B3", "S1", 80, 4)]
    assert book.resting()[-1] == sell("S1", 80, None, at=1)


def test_fills_name_the_sellers_listing_so_a_category_book_sells_any_sellers_data() -> None:
    book = OrderBookVenue("mobility")
    book.submit(LimitOrder("S1", "p1", "sell", "p1/L007", 50, None, 0))
    (fill,) = book.submit(LimitOrder("B1", "b1", "buy", "mobility", 70, 1, 1))
    assert (fill.listing, fill.buyer, fill.seller) == ("p1/L007", "b1", "p1")


def test_cancel_withdraws_what_is_left_of_an_order() -> None:
    book = OrderBookVenue("L1")
    book.submit(sell("S1", 100, 5))
    book.submit(buy("B1", 100, 2, at=1))
    assert book.cancel("S1") == sell("S1", 100, 3)
    assert book.cancel("S1") is None
    assert book.cancel("never") is None
    assert book.resting() == []


def test_one_order_per_trader_replaces_the_resting_order_on_the_same_side() -> None:
    book = OrderBookVenue("L1", one_order_per_trader=True)
    book.submit(buy("B1", 50, 2, trader="ann"))
    book.submit(sell("S1", 90, 1, trader="ann"))  # the other side is not replaced
    assert book.take_replaced() == []
    book.submit(buy("B2", 60, 1, at=5, trader="ann"))
    assert book.take_replaced() == [buy("B1", 50, 2, trader="ann")]
    assert book.take_replaced() == []  # handed over once
    assert [o.order for o in book.resting()] == ["B2", "S1"]


def test_without_the_option_a_trader_may_rest_several_orders_on_one_side() -> None:
    book = OrderBookVenue("L1")
    book.submit(buy("B1", 50, 1, trader="ann"))
    book.submit(buy("B2", 60, 1, trader="ann"))
    assert book.take_replaced() == []
    assert [o.order for o in book.resting()] == ["B2", "B1"]


def test_a_trader_cannot_trade_with_itself_and_the_book_is_unchanged() -> None:
    book = OrderBookVenue("L1", one_order_per_trader=True)
    book.submit(sell("S1", 100, 1, trader="ann"))
    book.submit(buy("B0", 40, 1, trader="ann"))
    with pytest.raises(MarketError, match="own resting order S1"):
        book.submit(buy("B1", 100, 1, trader="ann"))
    assert [o.order for o in book.resting()] == ["B0", "S1"]  # B0 not replaced either
    assert book.take_replaced() == []
    book.submit(buy("B2", 99, 1, trader="ann"))  # not crossing: fine


def test_an_order_id_rests_once() -> None:
    book = OrderBookVenue("L1")
    book.submit(buy("B1", 50))
    with pytest.raises(MarketError, match="already rests"):
        book.submit(buy("B1", 60))


def test_close_does_nothing_to_a_continuous_book() -> None:
    book = OrderBookVenue("L1")
    book.submit(buy("B1", 50))
    assert book.close(10**6) == []
    assert book.resting() == [buy("B1", 50)]


# -- the mechanism --------------------------------------------------------------------------


def test_double_auction_is_made_by_name_and_quotes_the_clipped_ask() -> None:
    mechanism = make_mechanism(
        "double-auction", {"book": "category", "patience_days": 2, "floor_bp": 12_000}
    )
    assert isinstance(mechanism, DoubleAuction) and mechanism.kind == "order-book"
    assert mechanism.good("p/L1", "mobility") == "mobility"
    assert DoubleAuction().good("p/L1", "mobility") == "p/L1"
    assert mechanism.patience_s == 2 * 86_400
    quote = mechanism.quote(PricingContext("p/L1", 1_000, 1_100, 80))
    assert (quote.price_fen, quote.reason) == (1_200, "proposal 1100 clipped to [1200, 10000]")
    assert mechanism.quote(PricingContext("p/L1", 1_000, 2_000, 80)).reason == (
        "ask by provider strategy"
    )
    venue = mechanism.open_venue("mobility", 0)
    assert isinstance(venue, OrderBookVenue) and venue.one_order_per_trader


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"book": "exchange"}, "book"),
        ({"patience_days": 0}, "patience_days"),
        ({"floor_bp": 20_000, "cap_bp": 10_000}, "floor_bp <= cap_bp"),
    ],
)
def test_double_auction_refuses_bad_params(params: dict[str, object], message: str) -> None:
    with pytest.raises(MarketError, match=message):
        make_mechanism("double-auction", params)


# -- properties -----------------------------------------------------------------------------


@settings(max_examples=300)
@given(stream=order_streams())
def test_the_book_never_stays_crossed_and_every_fill_respects_both_limits(
    stream: list[LimitOrder | Cancel],
) -> None:
    book = OrderBookVenue("L1", one_order_per_trader=True)
    orders: dict[str, LimitOrder] = {}
    balance: Counter[str] = Counter()
    for action in stream:
        if isinstance(action, Cancel):
            if orders:
                book.cancel(sorted(orders)[action.which % len(orders)])
            continue
        orders[action.order] = action
        try:
            fills = book.submit(action)
        except MarketError:
            continue  # a refused self-trade
        for fill in fills:
            bid, ask = orders[fill.buy], orders[fill.sell]
            assert bid.price_fen >= fill.price_fen >= ask.price_fen
            maker = bid if fill.sell == action.order else ask
            assert fill.price_fen == maker.price_fen  # the resting order's price
            assert fill.buyer != fill.seller
            balance[fill.buyer] -= fill.price_fen * fill.quantity
            balance[fill.seller] += fill.price_fen * fill.quantity
        view = book.view()
        if view.best_bid_fen is not None and view.best_ask_fen is not None:
            assert view.best_bid_fen < view.best_ask_fen
    assert sum(balance.values()) == 0  # every fen a buyer paid, a seller received


@settings(max_examples=300)
@given(stream=order_streams())
def test_quantity_is_conserved_filled_plus_resting_plus_withdrawn_is_what_was_submitted(
    stream: list[LimitOrder | Cancel],
) -> None:
    book = OrderBookVenue("L1", one_order_per_trader=True)
    submitted: Counter[str] = Counter()
    filled: Counter[str] = Counter()
    withdrawn: Counter[str] = Counter()
    ids: list[str] = []
    for action in stream:
        if isinstance(action, Cancel):
            if ids and (gone := book.cancel(ids[action.which % len(ids)])) is not None:
                withdrawn[gone.order] += gone.quantity or 0
            continue
        try:
            fills = book.submit(action)
        except MarketError:
            continue
        ids.append(action.order)
        if action.quantity is not None:  # an unlimited ask has no quantity to conserve
            submitted[action.order] = action.quantity
        for fill in fills:
            filled[fill.buy] += fill.quantity
            filled[fill.sell] += fill.quantity
        for gone in book.take_replaced():
            withdrawn[gone.order] += gone.quantity or 0
    resting = Counter({o.order: o.quantity or 0 for o in book.resting()})
    for order, quantity in submitted.items():
        assert filled[order] + resting[order] + withdrawn[order] == quantity, order
    assert set(resting) <= set(ids)


@given(stream=order_streams(max_size=25))
def test_resting_orders_are_in_price_time_priority(stream: list[LimitOrder | Cancel]) -> None:
    book = OrderBookVenue("L1")
    for action in stream:
        if isinstance(action, LimitOrder):
            try:
                book.submit(action)
            except MarketError:
                continue
    rest = book.resting()
    bids = [o for o in rest if o.side == "buy"]
    asks = [o for o in rest if o.side == "sell"]
    assert rest == bids + asks
    assert [(-o.price_fen, o.at) for o in bids] == sorted((-o.price_fen, o.at) for o in bids)
    assert [(o.price_fen, o.at) for o in asks] == sorted((o.price_fen, o.at) for o in asks)
