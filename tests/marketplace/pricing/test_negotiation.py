"""Alternating offers: turns, acceptance at the standing offer, the deadline, and two tactics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.trading_strategies import Faratin, TradeObservation
from marketplace.errors import MarketError
from marketplace.pricing import (
    Fill,
    LimitOrder,
    Negotiation,
    NegotiationVenue,
    PricingContext,
    Side,
    make_mechanism,
)

DAY = 86_400


def offer(order: str, side: Side, price: int, at: int = 0) -> LimitOrder:
    trader = "buyer" if side == "buy" else "seller"
    return LimitOrder(order, trader, side, "p/L1", price, 1 if side == "buy" else None, at)


def talks(*offers: LimitOrder) -> tuple[NegotiationVenue, list[Fill]]:
    venue = NegotiationVenue("p/L1", closes_at=10 * DAY)
    fills: list[Fill] = []
    for o in offers:
        fills += venue.submit(o)
    return venue, fills


def test_offers_alternate_and_one_that_meets_the_standing_offer_fills_at_it() -> None:
    venue, fills = talks(offer("S1", "sell", 1_000), offer("B1", "buy", 600))
    assert fills == []
    view = venue.view()
    assert (view.best_bid_fen, view.best_ask_fen, view.to_move, view.kind) == (
        600, 1_000, "sell", "bilateral"
    )  # fmt: skip
    venue.submit(offer("S2", "sell", 900, at=DAY))  # replaces the seller's standing offer
    assert [o.order for o in venue.resting()] == ["B1", "S2"]
    venue.submit(offer("B2", "buy", 700, at=2 * DAY))
    (fill,) = venue.submit(offer("S3", "sell", 650, at=3 * DAY))  # crosses the buyer's 700
    assert (fill.buy, fill.sell, fill.price_fen, fill.quantity, fill.rule) == (
        "B2", "S3", 700, 1, "accepted offer"
    )  # fmt: skip
    assert (fill.buyer, fill.seller, fill.listing) == ("buyer", "seller", "p/L1")
    assert venue.over and venue.resting() == [] and venue.view().last_price_fen == 700
    assert venue.view().to_move is None


def test_the_buyer_may_open_and_an_ask_at_its_bid_is_an_acceptance() -> None:
    _, fills = talks(offer("B1", "buy", 500), offer("S1", "sell", 500))
    assert [(f.price_fen, f.buy) for f in fills] == [(500, "B1")]


def test_an_out_of_turn_offer_is_refused() -> None:
    venue, _ = talks(offer("S1", "sell", 1_000))
    with pytest.raises(MarketError, match="out of turn: it is the buyer's turn"):
        venue.submit(offer("S2", "sell", 900))
    assert venue.resting() == [offer("S1", "sell", 1_000)]


def test_only_the_two_parties_may_make_offers() -> None:
    venue, _ = talks(offer("S1", "sell", 1_000), offer("B1", "buy", 600))
    with pytest.raises(MarketError, match="zed is not a party; the seller is seller"):
        venue.submit(LimitOrder("S2", "zed", "sell", "p/L1", 700, None, 0))
    venue2, _ = talks(offer("S1", "sell", 1_000))
    with pytest.raises(MarketError, match="cannot negotiate with itself"):
        venue2.submit(LimitOrder("B1", "seller", "buy", "p/L1", 2_000, 1, 0))
    with pytest.raises(MarketError, match="already made"):
        venue2.submit(LimitOrder("S1", "buyer", "buy", "p/L1", 900, 1, 0))


def test_the_deadline_ends_it_without_a_fill() -> None:
    venue, _ = talks(offer("S1", "sell", 1_000), offer("B1", "buy", 600))
    with pytest.raises(MarketError, match="ends at 864000"):
        venue.close(10 * DAY - 1)
    with pytest.raises(MarketError, match="is over"):
        venue.submit(offer("S2", "sell", 600, at=10 * DAY + 1))
    assert venue.close(10 * DAY) == []
    assert venue.over and venue.resting() == []
    with pytest.raises(MarketError, match="is over"):
        venue.submit(offer("S2", "sell", 600, at=10 * DAY))
    assert venue.close(10 * DAY) == []  # closing an ended negotiation changes nothing


def test_an_agreement_ends_it_before_the_deadline_and_close_is_then_harmless() -> None:
    venue, _ = talks(offer("S1", "sell", 1_000), offer("B1", "buy", 1_000))
    assert venue.close(DAY) == []


def test_a_standing_offer_may_be_withdrawn() -> None:
    venue, _ = talks(offer("S1", "sell", 1_000), offer("B1", "buy", 600))
    assert venue.cancel("B1") == offer("B1", "buy", 600)
    assert venue.cancel("B1") is None
    assert venue.view().to_move == "sell"


def test_negotiation_is_made_by_name_and_quotes_the_list_price() -> None:
    mechanism = make_mechanism("negotiation", {"deadline_days": 10, "round_days": 1})
    assert isinstance(mechanism, Negotiation) and mechanism.kind == "bilateral"
    assert (mechanism.deadline_s, mechanism.round_s, mechanism.rounds) == (10 * DAY, DAY, 11)
    quote = mechanism.quote(PricingContext("p/L1", 1_000, 2_500, 80))
    assert (quote.price_fen, quote.reason) == (2_500, "list price by provider strategy")
    venue = mechanism.open_venue("p/L1", opened_at=7)
    assert isinstance(venue, NegotiationVenue) and venue.closes_at == 7 + 10 * DAY


def test_negotiation_refuses_a_round_longer_than_the_deadline() -> None:
    with pytest.raises(MarketError, match="round_days <= deadline_days"):
        make_mechanism("negotiation", {"deadline_days": 1, "round_days": 2})


# -- two Faratin tactics negotiating --------------------------------------------------------


def negotiate(
    cost: int, value: int, seller: Faratin, buyer: Faratin, rounds: int = 10
) -> tuple[list[int], list[Fill]]:
    """The seller opens at ``3 × cost + 100``; one offer a day, alternately, to day ``rounds``."""
    venue = NegotiationVenue("p/L1", closes_at=rounds * DAY)
    offers: list[int] = []
    for r in range(rounds + 1):
        side: Side = "sell" if r % 2 == 0 else "buy"
        view = venue.view()
        standing = view.best_bid_fen if side == "sell" else view.best_ask_fen
        tactic = seller if side == "sell" else buyer
        seen = TradeObservation(
            side, cost if side == "sell" else value, view, 100, 100_000, 0.5, 0.5,
            counterpart_fen=standing, elapsed_s=r * DAY, deadline_s=rounds * DAY,
            quote_fen=3 * cost + 100 if side == "sell" else None,
        )  # fmt: skip
        price = tactic.decide(seen)
        if price is None:
            continue
        offers.append(price)
        fills = venue.submit(offer(f"{side}-{r}", side, price, at=r * DAY))
        if fills:
            return offers, fills
    return offers, venue.close(rounds * DAY)


def test_two_linear_tactics_meet_at_the_standing_ask_worked_by_hand() -> None:
    # seller: 200 + ⌈(1 − r/10)·(700 − 200)⌉ on even days; buyer: 100 + ⌊r/10·(900 − 100)⌋
    offers, fills = negotiate(200, 900, Faratin(), Faratin())
    assert offers == [700, 180, 600, 340, 500, 500]
    (fill,) = fills  # day 5: the buyer's 500 meets the seller's standing 500
    assert (fill.price_fen, fill.buy, fill.sell) == (500, "buy-5", "sell-4")


@given(
    cost=st.integers(100, 10_000),
    value=st.integers(100, 40_000),
    betas=st.tuples(st.floats(0.1, 10), st.floats(0.1, 10)),
)
def test_negotiated_prices_are_individually_rational(
    cost: int, value: int, betas: tuple[float, float]
) -> None:
    _, fills = negotiate(cost, value, Faratin(beta=betas[0]), Faratin(beta=betas[1]))
    for fill in fills:
        assert cost <= fill.price_fen <= value
    if value < cost:
        assert fills == []
