"""Money in integer fen, accounts that only move it, and the service-time distributions."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from marketplace.accounts import Accounts
from marketplace.distributions import (
    Beta,
    Constant,
    Distribution,
    Exponential,
    LogNormal,
    Triangular,
    Uniform,
    UniformInt,
)
from marketplace.errors import InsufficientFundsError, MarketError
from marketplace.money import apply_bp, format_fen

# -- apply_bp and format_fen ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate_bp", "expected"),
    [
        (1_000, 250, 25),
        (1_020, 250, 26),  # 25.5 → 26: half up
        (1_019, 250, 25),  # 25.475 → 25
        (20, 250, 1),  # 0.5 → 1
        (19, 250, 0),  # 0.475 → 0
        (1, 5_000, 1),  # 0.5 → 1
        (1, 4_999, 0),
        (123_456, 10_000, 123_456),
        (123_456, 0, 0),
        (0, 10_000, 0),
        (7, 30_000, 21),  # rates above 100 % are allowed
    ],
)
def test_apply_bp_rounds_half_up(amount: int, rate_bp: int, expected: int) -> None:
    assert apply_bp(amount, rate_bp) == expected


@given(st.integers(0, 10**15), st.integers(0, 10**6))
def test_apply_bp_is_the_exact_product_rounded_half_up(amount: int, rate_bp: int) -> None:
    exact = Fraction(amount * rate_bp, 10_000)
    result = apply_bp(amount, rate_bp)
    assert isinstance(result, int)
    assert result - Fraction(1, 2) <= exact < result + Fraction(1, 2)


@pytest.mark.parametrize(("amount", "rate_bp"), [(-1, 250), (100, -1), (-5, -5)])
def test_apply_bp_refuses_negative_inputs(amount: int, rate_bp: int) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        apply_bp(amount, rate_bp)


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (123_456, "¥1,234.56"),
        (0, "¥0.00"),
        (5, "¥0.05"),
        (100, "¥1.00"),
        (-150, "-¥1.50"),
        (100_000_000_07, "¥100,000,000.07"),
    ],
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


# -- accounts -------------------------------------------------------------------------------


def test_accounts_refuse_overdrafts_but_hosting_may_run_a_debt() -> None:
    accounts = Accounts()
    accounts.open("buyer", 1_000)
    accounts.open("provider", 0)
    with pytest.raises(InsufficientFundsError):
        accounts.move("buyer", "escrow", 1_001)
    assert accounts.balance("buyer") == 1_000
    accounts.move("provider", "exchange", 300, allow_debt=True)
    assert accounts.balance("provider") == -300
    assert accounts.total() == accounts.endowments == 1_000


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (lambda a: a.open("buyer", 5), "already open"),
        (lambda a: a.open("new", -1), "negative"),
        (lambda a: a.move("buyer", "escrow", -1), "non-negative"),
        (lambda a: a.move("buyer", "nobody", 1), "no account"),
    ],
)
def test_accounts_refuse_bad_operations(action: Callable[[Accounts], None], match: str) -> None:
    accounts = Accounts()
    accounts.open("buyer", 10)
    with pytest.raises(MarketError, match=match):
        action(accounts)
    assert accounts.snapshot() == {"buyer": 10, "escrow": 0, "exchange": 0}


names = st.sampled_from(["a", "b", "c", "exchange", "escrow"])


@given(
    endowments=st.lists(st.integers(0, 10**9), min_size=3, max_size=3),
    moves=st.lists(st.tuples(names, names, st.integers(0, 10**9), st.booleans()), max_size=30),
)
def test_moves_never_create_or_destroy_money(
    endowments: list[int], moves: list[tuple[str, str, int, bool]]
) -> None:
    accounts = Accounts()
    for name, fen in zip("abc", endowments, strict=True):
        accounts.open(name, fen)
    for source, target, fen, debt in moves:
        try:
            accounts.move(source, target, fen, allow_debt=debt)
        except InsufficientFundsError:
            assert not debt
        assert accounts.total() == accounts.endowments == sum(endowments)


# -- distributions --------------------------------------------------------------------------

#: (distribution, support low, support high, integer-valued)
CASES = [
    (Constant(value=3.5), 3.5, 3.5, False),
    (Uniform(low=2.0, high=5.0), 2.0, 5.0, False),
    (UniformInt(low=1, high=6), 1, 6, True),
    (Exponential(mean=2.0), 0.0, math.inf, False),
    (LogNormal(median=1.5, sigma=0.6), 0.0, math.inf, False),
    (Beta(a=2.0, b=5.0, low=10.0, high=20.0), 10.0, 20.0, False),
    (Triangular(low=1.0, mode=2.0, high=6.0), 1.0, 6.0, False),
]
IDS = [case[0].dist for case in CASES]


@pytest.mark.parametrize(("dist", "low", "high", "integral"), CASES, ids=IDS)
def test_sampling_is_reproducible_and_within_support(
    dist: Distribution, low: float, high: float, integral: bool
) -> None:
    first = [dist.sample(np.random.default_rng(2024)) for _ in range(3)]
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    run_a = [dist.sample(rng_a) for _ in range(500)]
    run_b = [dist.sample(rng_b) for _ in range(500)]
    assert run_a == run_b
    assert first[0] == first[1] == first[2]
    assert all(isinstance(x, float) and low <= x <= high for x in run_a)
    if integral:
        assert all(x == int(x) for x in run_a)
        assert set(run_a) == set(range(int(low), int(high) + 1))


@pytest.mark.parametrize(("dist", "low", "high", "integral"), CASES, ids=IDS)
def test_empirical_mean_matches_mean(
    dist: Distribution, low: float, high: float, integral: bool
) -> None:
    rng = np.random.default_rng(20_240_601)
    samples = [dist.sample(rng) for _ in range(20_000)]
    assert sum(samples) / len(samples) == pytest.approx(dist.mean(), rel=0.03)


@pytest.mark.parametrize(
    "bad",
    [
        {"dist": "uniform", "low": 5, "high": 1},
        {"dist": "uniform-int", "low": 3, "high": 2},
        {"dist": "triangular", "low": 1, "mode": 7, "high": 6},
        {"dist": "triangular", "low": 2, "mode": 2, "high": 2},
        {"dist": "exponential", "mean": 0},
        {"dist": "lognormal", "median": 0, "sigma": 1},
        {"dist": "lognormal", "median": 1, "sigma": -0.1},
        {"dist": "beta", "a": 0, "b": 1},
        {"dist": "constant", "value": 1, "extra": 2},
        {"dist": "gamma", "shape": 2},
    ],
    ids=lambda bad: str(bad["dist"]),
)
def test_bad_parameters_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Distribution).validate_python(bad)


def test_the_error_names_the_bounds() -> None:
    with pytest.raises(ValidationError, match=r"high \(1\.0\) must be >= low \(5\.0\)"):
        Uniform(low=5, high=1)


def test_beta_refuses_high_below_low() -> None:
    with pytest.raises(ValidationError):
        Beta(a=2.0, b=2.0, low=20.0, high=10.0)


@pytest.mark.parametrize(("dist", "low", "high", "integral"), CASES, ids=IDS)
def test_distributions_round_trip_through_their_tag(
    dist: Distribution, low: float, high: float, integral: bool
) -> None:
    adapter: TypeAdapter[Distribution] = TypeAdapter(Distribution)
    assert adapter.validate_python(adapter.dump_python(dist, by_alias=True)) == dist
