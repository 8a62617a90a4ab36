"""Strategies are pure functions of an observation: tested here without SimPy or an exchange."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.strategies import (
    STRATEGIES,
    ClearanceObservation,
    ClearanceVerdict,
    Offer,
    PriceObservation,
    PurchaseObservation,
    ReviewDecision,
    ReviewObservation,
    StrategyKind,
    make_strategy,
    register,
    strategy_names,
)
from agents.trading_strategies import TradeObservation
from marketplace.pricing import VenueView


def priced(
    cost: int = 1_000,
    current: int | None = None,
    sales: int = 0,
    rivals: tuple[int, ...] = (),
) -> PriceObservation:
    return PriceObservation(cost, current, sales, 30.0, 80, rivals)


def offer(listing: str, price: int, quality: int = 100, certified: bool = True) -> Offer:
    return Offer(listing, "provider-a", price, quality, certified)


def shopping(value: int, *offers: Offer) -> PurchaseObservation:
    return PurchaseObservation(value, offers)


def review(
    quality: int, draw: float, classification: str = "general", sensitive: bool = False
) -> ReviewObservation:
    return ReviewObservation(quality, classification, sensitive, draw)


# -- pricing --------------------------------------------------------------------------------


def test_markup_prices_at_a_fixed_markup_over_cost_whatever_the_market() -> None:
    markup = make_strategy("pricing", "markup", {"markup_bp": 2_500})
    assert markup.decide(priced(cost=1_000)) == 1_250
    assert markup.decide(priced(cost=1_000, current=9_999, sales=50, rivals=(1,))) == 1_250
    assert make_strategy("pricing", "markup").decide(priced(cost=333)) == 499


def test_demand_adaptive_starts_at_its_start_markup() -> None:
    adaptive = make_strategy("pricing", "demand-adaptive", {"start_markup_bp": 8_000})
    assert adaptive.decide(priced(cost=1_000, current=None, sales=7)) == 1_800


@pytest.mark.parametrize(
    ("sales", "price"),
    [(0, 1_620), (1, 1_800), (2, 1_980), (9, 1_980)],
)
def test_demand_adaptive_follows_demand(sales: int, price: int) -> None:
    adaptive = make_strategy("pricing", "demand-adaptive", {"step_bp": 1_000, "target_sales": 2})
    assert adaptive.decide(priced(cost=1_000, current=1_800, sales=sales)) == price


def test_demand_adaptive_never_cuts_below_cost() -> None:
    adaptive = make_strategy("pricing", "demand-adaptive")
    assert adaptive.decide(priced(cost=1_000, current=1_050, sales=0)) == 1_000
    assert adaptive.decide(priced(cost=1_000, current=900, sales=1)) == 1_000


@given(
    cost=st.integers(0, 10**9),
    current=st.none() | st.integers(1, 10**10),
    sales=st.integers(0, 100),
    step=st.integers(0, 10_000),
    start=st.integers(0, 50_000),
)
def test_demand_adaptive_prices_are_never_below_cost(
    cost: int, current: int | None, sales: int, step: int, start: int
) -> None:
    adaptive = make_strategy(
        "pricing", "demand-adaptive", {"step_bp": step, "start_markup_bp": start}
    )
    assert adaptive.decide(priced(cost=cost, current=current, sales=sales)) >= cost


# -- purchase -------------------------------------------------------------------------------


def test_best_surplus_picks_the_largest_surplus() -> None:
    seen = shopping(
        10_000,
        offer("a", 6_000),  # surplus 4,000
        offer("b", 5_000),  # 5,000
        offer("c", 3_000, quality=50),  # worth 5,000: surplus 2,000
    )
    assert make_strategy("purchase", "best-surplus").decide(seen) == "b"


def test_best_surplus_ignores_uncertified_offers() -> None:
    seen = shopping(10_000, offer("pending", 1, certified=False), offer("ok", 9_000))
    assert make_strategy("purchase", "best-surplus").decide(seen) == "ok"
    assert (
        make_strategy("purchase", "best-surplus").decide(shopping(10_000, seen.offers[0])) is None
    )


@pytest.mark.parametrize(
    "offers",
    [
        (),
        (offer("even", 10_000),),  # zero surplus is not worth buying
        (offer("dear", 12_000),),
        (offer("poor", 6_000, quality=50),),
    ],
)
def test_best_surplus_buys_nothing_without_a_positive_surplus(offers: tuple[Offer, ...]) -> None:
    assert make_strategy("purchase", "best-surplus").decide(shopping(10_000, *offers)) is None


@pytest.mark.parametrize("name", ["best-surplus", "cheapest", "naive"])
def test_ties_are_broken_the_same_way_in_any_order(name: str) -> None:
    tied = [offer("x-2", 4_000), offer("x-1", 4_000), offer("x-3", 4_000)]
    strategy = make_strategy("purchase", name)
    choices = {strategy.decide(shopping(10_000, *order)) for order in itertools.permutations(tied)}
    assert len(choices) == 1 and choices <= {"x-1", "x-2", "x-3"}


def test_cheapest_buys_the_cheapest_certified_offer_worth_its_price() -> None:
    cheapest = make_strategy("purchase", "cheapest")
    seen = shopping(
        10_000,
        offer("dearer", 7_000),
        offer("cheap-pending", 100, certified=False),
        offer("cheap", 5_000, quality=50),  # worth exactly its price
        offer("cheap-poor", 4_000, quality=30),  # worth 3,000 < 4,000
    )
    assert cheapest.decide(seen) == "cheap"
    assert cheapest.decide(shopping(10_000, offer("dear", 10_001))) is None


def test_naive_may_pick_an_uncertified_offer() -> None:
    seen = shopping(10_000, offer("pending", 1_000, certified=False), offer("ok", 8_000))
    assert make_strategy("purchase", "naive").decide(seen) == "pending"
    assert make_strategy("purchase", "naive").decide(shopping(100, seen.offers[1])) is None


offers = st.lists(
    st.builds(
        Offer,
        listing=st.text("abc", min_size=1, max_size=3),
        provider=st.just("p"),
        price_fen=st.integers(1, 20_000),
        quality_pct=st.integers(0, 100),
        certified=st.booleans(),
    ),
    max_size=6,
)


@given(value=st.integers(1, 20_000), offers=offers)
def test_careful_buyers_only_buy_certified_offers_worth_their_price(
    value: int, offers: list[Offer]
) -> None:
    by_listing = {o.listing: o for o in offers}
    for name in ("best-surplus", "cheapest"):
        choice = make_strategy("purchase", name).decide(shopping(value, *by_listing.values()))
        if choice is not None:
            chosen = by_listing[choice]
            assert chosen.certified
            assert value * chosen.quality_pct // 100 >= chosen.price_fen


# -- review ---------------------------------------------------------------------------------


def test_quality_logistic_approves_when_the_draw_is_below_the_probability() -> None:
    assessor = make_strategy("review", "quality-logistic", {"midpoint_pct": 45, "scale_pct": 8})
    # At the midpoint the probability is one half.
    assert assessor.decide(review(45, draw=0.49)).approved
    assert not assessor.decide(review(45, draw=0.51)).approved
    assert assessor.decide(review(95, draw=0.99)).approved  # p ≈ 0.998
    assert not assessor.decide(review(5, draw=0.01)).approved  # p ≈ 0.007


def test_quality_logistic_is_stricter_for_sensitive_or_important_data() -> None:
    assessor = make_strategy("review", "quality-logistic")
    draw = 0.5  # quality 50: p ≈ 0.65 at midpoint 45, ≈ 0.35 at 55, ≈ 0.13 at 65
    general = assessor.decide(review(50, draw))
    sensitive = assessor.decide(review(50, draw, sensitive=True))
    important = assessor.decide(review(50, draw, classification="important"))
    assert general.approved
    assert not sensitive.approved and not important.approved
    # The two shifts add up: a draw of 0.2 passes one of them but not both.
    assert assessor.decide(review(50, 0.2, sensitive=True)).approved
    both = assessor.decide(review(50, 0.2, classification="important", sensitive=True))
    assert not both.approved
    assert any("sensitive" in reason for reason in sensitive.reasons)
    assert any("important" in reason for reason in important.reasons)
    assert "midpoint 65" in both.reasons[-1]


@given(quality=st.integers(0, 100), draw=st.floats(0, 1, exclude_max=True))
def test_quality_logistic_never_approves_sensitive_data_it_would_reject_as_general(
    quality: int, draw: float
) -> None:
    assessor = make_strategy("review", "quality-logistic")
    if assessor.decide(review(quality, draw, sensitive=True)).approved:
        assert assessor.decide(review(quality, draw)).approved
    decision = assessor.decide(review(quality, draw))
    assert isinstance(decision, ReviewDecision) and decision.reasons


# -- the registry ---------------------------------------------------------------------------

SAMPLES = {
    "pricing": priced(current=1_500, sales=1, rivals=(1_400,)),
    "purchase": shopping(5_000, offer("a", 1_000), offer("b", 2_000, certified=False)),
    "review": review(60, 0.3),
    "clearance": ClearanceObservation("security-assessment", True, False, False, 0.5),
    "trading": TradeObservation(
        "buy", 5_000, VenueView("posted", None, 4_000, None, None), 1, 10_000, 0.3, 0.7
    ),
}
RESULT_TYPES: dict[StrategyKind, tuple[type, ...]] = {
    "pricing": (int,),
    "purchase": (str, type(None)),
    "review": (ReviewDecision,),
    "clearance": (ClearanceVerdict,),
    "trading": (int, type(None)),
}


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.74, 0.76, 0.9, 0.999])
def test_risk_weighted_clearance_approves_below_its_probability(draw: float) -> None:
    """0.9 base, less 0.15 for important data: approved exactly when the draw is below 0.75."""
    strategy = make_strategy("clearance", "risk-weighted")
    verdict = strategy.decide(ClearanceObservation("security-assessment", True, False, False, draw))
    assert verdict.approved == (draw < 0.75)
    assert "important data: stricter review" in verdict.reasons
    renewal = ClearanceObservation("security-assessment", True, False, True, draw)
    assert strategy.decide(renewal).approved == (draw < 0.80)


@pytest.mark.parametrize(
    ("kind", "name"),
    [(kind, name) for kind in STRATEGIES for name in strategy_names(kind)],
)
def test_every_registered_strategy_decides_with_its_defaults(kind: StrategyKind, name: str) -> None:
    strategy = make_strategy(kind, name)
    first = strategy.decide(SAMPLES[kind])
    assert isinstance(first, RESULT_TYPES[kind])
    assert strategy.decide(SAMPLES[kind]) == first  # pure: same observation, same decision


def test_unknown_strategy_error_lists_the_allowed_names() -> None:
    with pytest.raises(ValueError, match="unknown purchase strategy 'psychic'") as caught:
        make_strategy("purchase", "psychic")
    assert all(repr(name) in str(caught.value) for name in strategy_names("purchase"))


def test_bad_strategy_parameters_are_reported() -> None:
    unknown = r"pricing strategy 'markup': unknown parameter 'markdown_bp'; allowed: markup_bp"
    with pytest.raises(ValueError, match=unknown):
        make_strategy("pricing", "markup", {"markdown_bp": 10})
    # An int parameter must be an int: a float would leak into prices in fen.
    with pytest.raises(ValueError, match=r"markup_bp = 1\.5: Input should be a valid integer"):
        make_strategy("pricing", "markup", {"markup_bp": 1.5})
    with pytest.raises(ValueError, match=r"markup_bp = 'x'"):
        make_strategy("pricing", "markup", {"markup_bp": "x"})
    with pytest.raises(ValueError, match="scale_pct = 0: Input should be greater than 0"):
        make_strategy("review", "quality-logistic", {"scale_pct": 0})


def test_a_name_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @register("pricing", "markup")
        class Again:
            pass

    assert make_strategy("pricing", "markup").decide(priced(cost=100)) == 150


def test_a_new_strategy_is_a_small_registered_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STRATEGIES, "pricing", dict(STRATEGIES["pricing"]))

    @register("pricing", "undercut")
    @dataclass(frozen=True)
    class Undercut:
        step_bp: int = 500

        def decide(self, seen: PriceObservation) -> int:
            rival = min(seen.rival_prices_fen, default=seen.current_fen or seen.unit_cost_fen)
            return max(seen.unit_cost_fen, rival - rival * self.step_bp // 10_000)

    undercut = make_strategy("pricing", "undercut", {"step_bp": 1_000})
    assert undercut.decide(priced(cost=1_000, rivals=(3_000, 2_000))) == 1_800
    assert undercut.decide(priced(cost=1_000, rivals=(1_050,))) == 1_000
    assert "undercut" in strategy_names("pricing")
