"""The reference price: quality-adjusted median of a category's latest contracts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import MarketError
from marketplace.pricing import Comparable, ReferencePrices


def test_no_reference_before_a_comparable_contract() -> None:
    prices = ReferencePrices()
    assert prices.reference("mobility", 80) is None
    prices.record("finance", 80, 1_000, 0)
    assert prices.reference("mobility", 80) is None


def test_prices_are_scaled_to_full_quality_and_back() -> None:
    prices = ReferencePrices()
    prices.record("mobility", 50, 1_000, 0)  # 2 000 at full quality
    assert prices.reference("mobility", 100) == 2_000
    assert prices.reference("mobility", 80) == 1_600
    assert prices.reference("mobility", 0) == 1  # never below one fen


def test_the_median_of_the_full_quality_prices_an_even_count_averaging_the_middle_two() -> None:
    prices = ReferencePrices()
    for quality, price in [(100, 1_000), (50, 600), (80, 2_000), (100, 90_000)]:
        prices.record("mobility", quality, price, 0)
    # full quality: 1 000, 1 200, 2 500, 90 000 → median (1 200 + 2 500) / 2 = 1 850
    assert prices.reference("mobility", 100) == 1_850
    assert prices.reference("mobility", 33) == 611  # 610.5 rounds half up
    prices.record("mobility", 100, 1_100, 1)  # odd count: the middle one, 1 200
    assert prices.reference("mobility", 100) == 1_200


def test_only_the_latest_window_counts() -> None:
    prices = ReferencePrices(window=2)
    for at, price in enumerate((100, 5_000, 7_000)):
        prices.record("mobility", 100, price, at)
    assert prices.comparables("mobility") == (
        Comparable(100, 5_000, 1),
        Comparable(100, 7_000, 2),
    )
    assert prices.reference("mobility", 100) == 6_000


def test_contracts_older_than_max_age_drop_out() -> None:
    prices = ReferencePrices(max_age_s=100)
    prices.record("mobility", 100, 1_000, 0)
    prices.record("mobility", 100, 3_000, 150)
    assert prices.reference("mobility", 100, now=100) == 2_000
    assert prices.reference("mobility", 100, now=101) == 3_000
    assert prices.reference("mobility", 100, now=251) is None
    assert prices.reference("mobility", 100) == 2_000  # without a time: the whole window


@pytest.mark.parametrize(
    ("quality", "price", "message"),
    [(0, 100, "quality must be within 1-100"), (101, 100, "1-100"), (50, 0, ">= 1 fen")],
)
def test_contracts_that_cannot_be_adjusted_are_refused(
    quality: int, price: int, message: str
) -> None:
    with pytest.raises(MarketError, match=message):
        ReferencePrices().record("mobility", quality, price, 0)


def test_bad_settings_and_questions_are_refused() -> None:
    with pytest.raises(MarketError, match="window"):
        ReferencePrices(window=0)
    with pytest.raises(MarketError, match="max_age_s"):
        ReferencePrices(max_age_s=-1)
    with pytest.raises(MarketError, match="0-100"):
        ReferencePrices().reference("mobility", 101)


@given(
    trades=st.lists(st.tuples(st.integers(1, 100), st.integers(1, 10**9)), min_size=1, max_size=30),
    quality=st.integers(1, 100),
)
def test_the_reference_lies_within_the_adjusted_prices_of_the_window(
    trades: list[tuple[int, int]], quality: int
) -> None:
    prices = ReferencePrices(window=10)
    for at, (q, p) in enumerate(trades):
        prices.record("c", q, p, at)
    reference = prices.reference("c", quality)
    assert reference is not None
    adjusted = [p * 100 / q * quality / 100 for q, p in trades[-10:]]
    assert min(adjusted) - 1 <= reference <= max(adjusted) + 1
    # one absurd deal cannot drag the median past the ordinary ones (two or more remain)
    prices.record("c", 1, 10**9, len(trades))
    moved = prices.reference("c", quality)
    if len(trades) >= 2:
        assert moved is not None and moved <= max(adjusted) + 1
