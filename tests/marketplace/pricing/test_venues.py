"""Every registered mechanism, through the one interface: quotes, and fills that respect limits."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.errors import MarketError
from marketplace.pricing import (
    MECHANISMS,
    Fill,
    LimitOrder,
    PricingContext,
    Venue,
    make_mechanism,
)

NAMES = sorted(MECHANISMS)


@pytest.mark.parametrize("name", NAMES)
def test_every_mechanism_is_made_with_its_defaults_and_quotes_a_positive_price(name: str) -> None:
    mechanism = make_mechanism(name)
    assert mechanism.name == name
    quote = mechanism.quote(PricingContext("p/L1", 1_000, 1_500, 80))
    assert quote.price_fen >= 1 and quote.reason
    venue = mechanism.open_venue("p/L1", opened_at=0)
    assert venue.kind == mechanism.kind == venue.view().kind


@settings(max_examples=60)
@given(
    name=st.sampled_from(NAMES),
    ask=st.integers(1, 100),
    bids=st.lists(st.integers(1, 150), max_size=8),
)
def test_at_every_venue_a_fill_is_within_both_limits_and_moves_money_from_buyer_to_seller(
    name: str, ask: int, bids: list[int]
) -> None:
    """The trading stage's generic flow: the seller's order at its quote, buyers' orders, the
    close at ``closes_at``; every fill must be individually rational for both sides."""
    venue: Venue = make_mechanism(name).open_venue("p/L1", opened_at=0)
    quantity = 1 if venue.kind == "sealed-bid" else None
    orders = {"S1": LimitOrder("S1", "seller", "sell", "p/L1", ask, quantity, 0)}
    fills: list[Fill] = venue.submit(orders["S1"])
    for i, price in enumerate(bids):
        order = LimitOrder(f"B{i}", f"buyer-{i}", "buy", "p/L1", price, 1, i + 1)
        orders[order.order] = order
        try:
            fills += venue.submit(order)
        except MarketError:  # a negotiation takes one buyer, in turn
            assert venue.kind == "bilateral"
    closes_at = venue.view().closes_at
    fills += venue.close(closes_at if closes_at is not None else 10**6)
    money: Counter[str] = Counter()
    for fill in fills:
        bid, offer = orders[fill.buy], orders[fill.sell]
        assert offer.price_fen <= fill.price_fen <= bid.price_fen
        assert 1 <= fill.quantity <= (bid.quantity or 0)
        assert fill.buyer == bid.trader and fill.seller == offer.trader != fill.buyer
        money[fill.buyer] -= fill.price_fen * fill.quantity
        money[fill.seller] += fill.price_fen * fill.quantity
    assert sum(money.values()) == 0
    assert len({f.buy for f in fills}) == len(fills)  # each buyer's unit is sold once
