"""Myerson's reserve: known answers derived by hand, the first-order condition, irregular laws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.distributions import (
    Beta,
    Constant,
    Exponential,
    LogNormal,
    Triangular,
    Uniform,
    UniformInt,
)
from marketplace.errors import MarketError
from marketplace.pricing.myerson import myerson_reserve, value_law, virtual_value

# Uniform on [a, b]: F(v) = (v - a)/(b - a), f = 1/(b - a), so (1 - F)/f = b - v and
# φ(v) = 2v - b; φ(r) = c gives r = (b + c)/2, unless that is below a (then every buyer is
# worth selling to and r = a).


@pytest.mark.parametrize(
    ("low", "high", "cost", "reserve"),
    [
        (0.0, 1.0, 0.0, 0.5),  # the textbook answer
        (0.0, 1.0, 0.4, 0.7),
        (0.0, 10_000.0, 2_000.0, 6_000.0),
        (600.0, 1_000.0, 300.0, 650.0),
        (600.0, 1_000.0, 0.0, 600.0),  # (b + c)/2 = 500 < a: sell to everyone
        (0.0, 1.0, 2.0, 2.0),  # nobody is worth more than the cost: never sell at a loss
    ],
)
def test_uniform_values_give_half_of_top_plus_cost(
    low: float, high: float, cost: float, reserve: float
) -> None:
    assert myerson_reserve(Uniform(low=low, high=high), cost) == pytest.approx(reserve, abs=1e-6)


# Exponential of mean m: 1 - F(v) = e^{-v/m}, f(v) = e^{-v/m}/m, so (1 - F)/f = m and
# φ(v) = v - m; φ(r) = c gives r = m + c whatever the cost.


@given(
    mean=st.floats(min_value=1.0, max_value=1e7),
    cost=st.floats(min_value=0.0, max_value=1e7),
)
def test_exponential_values_give_mean_plus_cost(mean: float, cost: float) -> None:
    assert myerson_reserve(Exponential(mean=mean), cost) == pytest.approx(mean + cost, rel=1e-6)


def revenue_from_one_buyer(
    value: Uniform | LogNormal | Beta | Triangular, price: float, cost: float
) -> float:
    """(p - c)(1 - F(p)): the expected profit of offering one buyer the price p."""
    return (price - cost) * float(value_law(value).sf(price))


@pytest.mark.parametrize(
    ("value", "cost"),
    [
        (LogNormal(median=600_000, sigma=0.8), 100_000.0),
        (LogNormal(median=600_000, sigma=0.8), 0.0),
        (LogNormal(median=50, sigma=1.5), 20.0),
        (Beta(a=2, b=2, low=0, high=1_000), 100.0),
        (Triangular(low=100, mode=400, high=1_000), 150.0),
    ],
)
def test_the_reserve_solves_the_first_order_condition_and_maximises_profit_from_one_buyer(
    value: LogNormal | Beta | Triangular, cost: float
) -> None:
    reserve = myerson_reserve(value, cost)
    law = value_law(value)
    assert virtual_value(law, reserve) == pytest.approx(cost, abs=1e-6 * max(1.0, reserve))
    # With one bidder the reserve is a posted price: Myerson's r maximises (r - c)(1 - F(r)).
    grid = np.linspace(float(law.ppf(1e-4)), float(law.ppf(1 - 1e-4)), 2_001)
    best = max(revenue_from_one_buyer(value, float(p), cost) for p in grid)
    assert revenue_from_one_buyer(value, reserve, cost) >= best * (1 - 1e-9)


@pytest.mark.parametrize(
    "value",
    [LogNormal(median=600_000, sigma=2.0), Beta(a=0.5, b=0.5), Beta(a=0.3, b=2.0)],
)
def test_an_irregular_distribution_is_refused_with_where_the_virtual_value_falls(
    value: LogNormal | Beta,
) -> None:
    with pytest.raises(MarketError, match=r"irregular: the virtual value .* falls between"):
        myerson_reserve(value, 0.0)


@pytest.mark.parametrize(
    "value",
    [
        Constant(value=5.0),
        UniformInt(low=1, high=9),
        Uniform(low=3, high=3),
        LogNormal(median=10, sigma=0),
    ],
)
def test_values_without_a_density_are_refused(
    value: Constant | UniformInt | Uniform | LogNormal,
) -> None:
    with pytest.raises(MarketError, match="needs values with a density"):
        myerson_reserve(value, 0.0)


@given(
    cost=st.floats(min_value=0.0, max_value=2e6),
    more=st.floats(min_value=1.0, max_value=2e6),
)
def test_the_reserve_never_falls_below_cost_and_rises_with_it(cost: float, more: float) -> None:
    value = LogNormal(median=600_000, sigma=0.8)
    low, high = myerson_reserve(value, cost), myerson_reserve(value, cost + more)
    assert low >= cost and high >= cost + more
    assert high >= low
    assert math.isfinite(high)
