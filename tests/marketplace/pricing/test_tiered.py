"""Tiered pricing: versions by added noise, exact prices, the menu, and buyers sorting by value."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import MarketError
from marketplace.pricing import (
    LimitOrder,
    PricingContext,
    Tiered,
    TieredVenue,
    Version,
    choose_version,
    make_mechanism,
)


def context(cost: int = 1_000, proposed: int = 4_000, quality: int = 90) -> PricingContext:
    return PricingContext("p/L1", cost, proposed, quality)


def ask(version: int, price: int) -> LimitOrder:
    return LimitOrder(f"S{version}", "seller", "sell", "p/L1", price, None, 0, version=version)


def bid(order: str, version: int, price: int) -> LimitOrder:
    return LimitOrder(order, f"buyer-{order}", "buy", "p/L1", price, 1, 5, version=version)


# noise variances 0, ¼ and 1 times the data's: reliabilities 1, 4/5, 1/2; with γ = 2 the
# prices are the top price times 1, 16/25 and 1/4.


def test_the_menu_prices_each_version_by_its_reliability_squared() -> None:
    tiered = make_mechanism("tiered", {"noise_var_bp": [0, 2_500, 10_000], "gamma": 2})
    assert isinstance(tiered, Tiered) and tiered.kind == "posted"
    assert [tiered.reliability(k) for k in range(3)] == [1, Fraction(4, 5), Fraction(1, 2)]
    assert tiered.qualities() == (100, 80, 50)
    assert tiered.menu(context()) == (
        Version(0, 90, 4_000),
        Version(1, 72, 2_560),
        Version(2, 45, 1_000),
    )
    assert tiered.quote(context()).price_fen == 4_000


def test_no_version_is_priced_below_the_floor() -> None:
    menu = Tiered().menu(context(proposed=3_000))
    assert [v.price_fen for v in menu] == [3_000, 1_920, 1_000]  # 750 is raised to cost


def test_prices_round_half_up_to_whole_fen() -> None:
    # 1 002 × 16/25 = 641.28 → 641; 1 002 / 4 = 250.5 → 251 (no floor but 1 fen)
    menu = Tiered(floor_bp=0).menu(context(cost=1_000, proposed=1_002))
    assert [v.price_fen for v in menu] == [1_002, 641, 251]


@pytest.mark.parametrize(
    ("value", "version"),
    [(10_000, 0), (6_000, 1), (4_000, 2), (2_000, None), (2_001, 2)],
)
def test_buyers_sort_themselves_by_value_across_the_menu(value: int, version: int | None) -> None:
    # surplus at (100 %, 4 000), (80 %, 2 560), (50 %, 1 000): the largest positive one wins
    menu = ((100, 4_000), (80, 2_560), (50, 1_000))
    assert choose_version(value, menu) == version


def venue_with_menu() -> TieredVenue:
    tiered = Tiered()
    venue = tiered.open_venue("p/L1", 0)
    for version in tiered.menu(context()):
        venue.submit(ask(version.version, version.price_fen))
    return venue


def test_a_buy_order_fills_at_its_versions_ask_and_says_which_version() -> None:
    venue = venue_with_menu()
    assert venue.view().menu == ((100, 4_000), (80, 2_560), (50, 1_000))
    assert venue.view().best_ask_fen == 4_000
    assert venue.submit(bid("B1", 1, 2_559)) == []  # refused, never rests
    (fill,) = venue.submit(bid("B2", 1, 3_000))
    assert (fill.price_fen, fill.version, fill.sell, fill.rule) == (
        2_560, 1, "S1", "posted ask, version 1"
    )  # fmt: skip
    assert venue.bids_seen == [(1, 2_559), (1, 3_000)]
    assert [o.order for o in venue.resting()] == ["S0", "S1", "S2"]
    assert venue.view().last_price_fen == 2_560


def test_the_menu_lists_versions_up_to_the_first_without_an_ask() -> None:
    venue = TieredVenue("p/L1", (100, 80, 50))
    venue.submit(ask(0, 4_000))
    venue.submit(ask(2, 1_000))
    assert venue.view().menu == ((100, 4_000),)
    assert venue.cancel("S0") == ask(0, 4_000)
    assert venue.view().menu == () and venue.view().best_ask_fen is None
    assert venue.submit(bid("B1", 0, 9_999)) == []
    assert venue.close(100) == []


def test_orders_for_versions_the_venue_lacks_and_limited_asks_are_refused() -> None:
    venue = venue_with_menu()
    with pytest.raises(MarketError, match="versions 0-2, not 3"):
        venue.submit(bid("B1", 3, 9_999))
    with pytest.raises(MarketError, match="must be unlimited"):
        venue.submit(LimitOrder("S9", "seller", "sell", "p/L1", 10, 5, 0, version=1))
    with pytest.raises(MarketError, match="version must be >= 0"):
        LimitOrder("B9", "b", "buy", "p/L1", 10, 1, 0, version=-1)


@pytest.mark.parametrize(
    "params",
    [{"noise_var_bp": [100, 200]}, {"noise_var_bp": [0, 500, 500]}, {"noise_var_bp": []},
     {"gamma": 0}, {"noise_var_bp": [0, 1.5]}],
)  # fmt: skip
def test_tiered_refuses_bad_schedules(params: dict[str, object]) -> None:
    with pytest.raises(MarketError):
        make_mechanism("tiered", params)


@given(
    noise=st.lists(st.integers(1, 10**6), max_size=6, unique=True),
    gamma=st.integers(1, 4),
    cost=st.integers(0, 10**7),
    proposed=st.integers(1, 10**9),
    quality=st.integers(0, 100),
)
def test_lower_versions_never_cost_more_or_give_more_and_respect_the_floor(
    noise: list[int], gamma: int, cost: int, proposed: int, quality: int
) -> None:
    tiered = Tiered(noise_var_bp=[0, *sorted(noise)], gamma=gamma)
    menu = tiered.menu(context(cost, proposed, quality))
    floor = max(1, cost)
    assert menu[0].price_fen == tiered.quote(context(cost, proposed, quality)).price_fen
    for better, worse in pairwise(menu):
        assert worse.price_fen <= better.price_fen
        assert worse.quality_pct <= better.quality_pct
    assert all(v.price_fen >= floor for v in menu)
    assert menu[0].quality_pct == quality
