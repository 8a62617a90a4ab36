"""What a buyer expects of membership: the surplus its needs could have had, never less than
nothing (it declines offers dearer than their worth), so a free membership is always taken."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agents.buyer import best_surplus
from agents.strategies import PurchaseObservation
from marketplace.state import Offer


def offer(listing: str, price: int, certified: bool = True) -> Offer:
    return Offer(listing, "provider-a", price, 100, certified)


def test_a_page_dearer_than_the_need_is_worth_nothing_not_a_loss() -> None:
    seen = PurchaseObservation(1_000, (offer("a", 5_000), offer("b", 9_000)))
    assert best_surplus(seen) == 0


def test_the_best_certified_offer_sets_the_surplus() -> None:
    seen = PurchaseObservation(10_000, (offer("a", 4_000), offer("b", 1_000, certified=False)))
    assert best_surplus(seen) == 6_000


@given(
    st.integers(1, 10**9),
    st.lists(st.tuples(st.integers(1, 10**9), st.booleans()), max_size=20),
)
def test_expected_surplus_is_never_negative(value: int, page: list[tuple[int, bool]]) -> None:
    offers = tuple(offer(f"L{i}", price, certified) for i, (price, certified) in enumerate(page))
    assert best_surplus(PurchaseObservation(value, offers)) >= 0
