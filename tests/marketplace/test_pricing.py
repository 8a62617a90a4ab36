"""Pricing: exact integer prices, the mechanism registry, and the stage that records quotes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.entries import PriceQuote
from marketplace.errors import MarketError, UnknownMechanismError
from marketplace.money import apply_bp, break_even_fen
from marketplace.pricing import (
    MECHANISMS,
    CostPlus,
    LimitOrder,
    PostedPrice,
    PricingContext,
    Quote,
    make_mechanism,
    register_mechanism,
)
from tests.marketplace.setup import dataset, market

costs = st.integers(min_value=0, max_value=10**12)
rates = st.integers(min_value=0, max_value=200_000)


def context(cost: int, proposed: int | None = None) -> PricingContext:
    return PricingContext("p/L001", cost, proposed, 80)


# -- cost-plus ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cost", "markup_bp", "price"),
    [
        (1_000, 3_000, 1_300),
        (999, 2_500, 1_249),  # 249.75 rounds up to 250
        (2, 2_500, 3),  # 0.5 fen rounds half up
        (6, 2_500, 8),  # 1.5 fen rounds half up
        (3, 1_000, 3),  # 0.3 fen rounds down
        (1_234, 0, 1_234),
        (0, 3_000, 1),  # never below one fen
    ],
)
def test_cost_plus_is_exact_integer_arithmetic(cost: int, markup_bp: int, price: int) -> None:
    assert CostPlus(markup_bp=markup_bp).quote(context(cost)).price_fen == price


def test_cost_plus_ignores_the_proposal() -> None:
    assert CostPlus().quote(context(1_000, proposed=99_999)).price_fen == 1_300


def test_cost_plus_refuses_a_negative_markup() -> None:
    with pytest.raises(MarketError, match="markup_bp"):
        CostPlus(markup_bp=-1)


@given(cost=costs, markup=rates, more=rates)
def test_cost_plus_covers_cost_and_rises_with_markup(cost: int, markup: int, more: int) -> None:
    low = CostPlus(markup_bp=markup).quote(context(cost)).price_fen
    high = CostPlus(markup_bp=markup + more).quote(context(cost)).price_fen
    assert low >= max(cost, 1)
    assert high >= low


# -- posted price ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proposed", "price", "clipped"),
    [(500, 1_000, True), (1_000, 1_000, False), (2_000, 2_000, False), (9_000, 3_000, True)],
)
def test_posted_price_is_clipped_to_floor_and_cap(proposed: int, price: int, clipped: bool) -> None:
    quote = PostedPrice(floor_bp=10_000, cap_bp=30_000).quote(context(1_000, proposed))
    assert quote.price_fen == price
    assert ("clipped to [1000, 3000]" in quote.reason) is clipped


def test_posted_price_needs_a_proposal() -> None:
    with pytest.raises(MarketError, match="proposed nothing"):
        PostedPrice().quote(context(1_000, None))


@pytest.mark.parametrize(("floor", "cap"), [(20_000, 10_000), (-1, 10_000)])
def test_posted_price_refuses_inverted_bounds(floor: int, cap: int) -> None:
    with pytest.raises(MarketError, match="floor_bp <= cap_bp"):
        PostedPrice(floor_bp=floor, cap_bp=cap)


@given(
    cost=st.integers(min_value=0, max_value=10**9),
    floor=rates,
    width=rates,
    proposed=st.integers(min_value=0, max_value=10**13),
)
def test_posted_price_stays_within_bounds(cost: int, floor: int, width: int, proposed: int) -> None:
    mechanism = PostedPrice(floor_bp=floor, cap_bp=floor + width)
    price = mechanism.quote(context(cost, proposed)).price_fen
    low = max(1, (cost * floor + 5_000) // 10_000)
    high = max(low, (cost * (floor + width) + 5_000) // 10_000)
    assert low <= price <= high
    if low <= proposed <= high:
        assert price == proposed


# -- registry -------------------------------------------------------------------------------


def test_mechanisms_are_made_by_name_with_params() -> None:
    mechanism = make_mechanism("cost-plus", {"markup_bp": 1_000})
    assert mechanism.quote(context(1_000)).price_fen == 1_100
    assert make_mechanism("posted").quote(context(1_000, 1_500)).price_fen == 1_500


def test_unknown_mechanism_error_lists_the_allowed_names() -> None:
    with pytest.raises(UnknownMechanismError) as caught:
        make_mechanism("vickrey")
    message = str(caught.value)
    assert "'vickrey'" in message
    assert all(name in message for name in MECHANISMS)
    assert isinstance(caught.value, MarketError)


def test_registry_refuses_a_second_mechanism_under_a_taken_name() -> None:
    with pytest.raises(MarketError, match="registered twice"):

        @register_mechanism("cost-plus")
        @dataclass(frozen=True)
        class Impostor:
            name: ClassVar[str] = "cost-plus"

    assert MECHANISMS["cost-plus"] is CostPlus


def test_a_new_mechanism_registers_and_is_made_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("marketplace.pricing.protocol.MECHANISMS", dict(MECHANISMS))

    @register_mechanism("flat")
    @dataclass(frozen=True)
    class Flat:
        name: ClassVar[str] = "flat"
        price_fen: int = 100

        def quote(self, context: PricingContext) -> Quote:
            return Quote(self.price_fen, "flat")

    assert make_mechanism("flat", {"price_fen": 42}).quote(context(1_000)).price_fen == 42


# -- the pricing stage ----------------------------------------------------------------------


def test_a_quote_is_recorded_and_puts_the_listing_in_the_catalogue(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.run(m.exchange.storage.list_dataset(m.provider, dataset(unit_cost_fen=2_000)))
    assert m.exchange.offers("mobility") == ()

    price = m.exchange.pricing.quote(m.provider, listing, CostPlus(markup_bp=2_500))

    # cost-plus marks up the break-even price: 2,000 grossed up by the 2.5 % supplier fee
    break_even = break_even_fen(2_000, 250)
    assert break_even == 2_051  # 2,051 - 51 fee = 2,000: the lowest such price
    assert price == break_even + apply_bp(break_even, 2_500) == 2_564
    [offer] = m.exchange.offers("mobility")
    assert (offer.listing, offer.price_fen, offer.certified) == (listing.listing, price, False)
    [quote] = m.facts("pricing.quote")
    assert quote.body == PriceQuote(
        listing=listing.listing,
        mechanism="cost-plus",
        price_fen=2_564,
        cost_fen=2_000,
        reason="break-even 2051 + 2500 bp markup",
    )
    assert quote.signers == (m.provider.id,)


def test_an_unchanged_price_is_not_recorded_again(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.run(m.exchange.storage.list_dataset(m.provider, dataset()))
    for proposal in (1_500, 1_500, 1_800):
        m.exchange.pricing.quote(m.provider, listing, PostedPrice(), proposal)
    assert [f.body.price_fen for f in m.facts("pricing.quote")] == [1_500, 1_800]
    assert [o.price_fen for o in m.exchange.offers("mobility")] == [1_800]


def test_only_the_listing_provider_may_price_it(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.run(m.exchange.storage.list_dataset(m.provider, dataset()))
    with pytest.raises(MarketError, match="cannot price"):
        m.exchange.pricing.quote(m.rival, listing, CostPlus())
    assert m.facts("pricing.quote") == []
    assert listing.price_fen is None


def test_posted_venue_fills_a_bid_that_reaches_the_ask_at_the_ask_and_refuses_the_rest() -> None:
    venue = CostPlus().open_venue("L1", opened_at=0)
    assert venue.submit(LimitOrder("B1", "buyer-1", "buy", "L1", 500, 1, 0)) == []  # no ask yet
    venue.submit(LimitOrder("Q7", "seller", "sell", "L1", 1_000, None, 0))
    assert venue.submit(LimitOrder("B2", "buyer-2", "buy", "L1", 999, 1, 5)) == []
    (fill,) = venue.submit(LimitOrder("B3", "buyer-3", "buy", "L1", 1_500, 1, 9))
    assert (fill.buyer, fill.seller, fill.price_fen, fill.sell, fill.rule) == (
        "buyer-3",
        "seller",
        1_000,
        "Q7",
        "posted ask",
    )
    assert venue.resting() == [LimitOrder("Q7", "seller", "sell", "L1", 1_000, None, 0)]
    assert venue.view().best_ask_fen == 1_000 and venue.view().last_price_fen == 1_000
    assert venue.bids_seen == [500, 999, 1_500]  # refused bids are demand information too
    assert venue.cancel("Q7") is not None and venue.resting() == []


def test_limit_orders_refuse_nonpositive_prices_and_unlimited_buys() -> None:
    with pytest.raises(MarketError, match="price must be > 0"):
        LimitOrder("B1", "b", "buy", "L1", 0, 1, 0)
    with pytest.raises(MarketError, match="needs a quantity"):
        LimitOrder("B1", "b", "buy", "L1", 10, None, 0)
