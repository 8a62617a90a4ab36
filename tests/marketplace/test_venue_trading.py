"""Trading through venues: every mechanism's fills checked and recorded, and the rules of
record re-checking them from the ledger alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.money import break_even_fen
from marketplace.pricing import DoubleAuction, SecondPrice
from tests.marketplace.setup import DAY, Market, dataset, market, order


def verify(m: Market) -> Any:
    """Close the log and audit it with the market's rules of record."""
    m.ledger.close()
    key = m.ledger.log_identity.public.verifier_key
    return audit(m.url, verifier_key=key, domain=market_rules)


def test_a_second_price_round_sells_to_the_highest_bid_at_the_second(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(dataset(unit_cost_fen=1_000), mechanism=SecondPrice(round_days=1.0))
    bids = [
        m.env.process(m.exchange.trading.purchase(order(m.buyer, listing, price_fen=4_000))),
        m.env.process(m.exchange.trading.purchase(order(m.buyer2, listing, price_fen=2_500))),
    ]
    m.env.run(until=2)

    [clearing] = m.facts("trade.clearing")
    assert [b.price_fen for b in clearing.body.bids] == [4_000, 2_500]
    # the reserve is the seller's break-even: its cost grossed up by the 2.5 % supplier fee
    assert clearing.body.reserve_fen == break_even_fen(1_000, 250) == 1_026
    assert clearing.body.price_fen == 2_500
    [contract] = m.facts("trade.contract")
    assert (contract.body.buyer, contract.body.price_fen) == (m.buyer.id, 2_500)
    assert contract.body.rule.startswith("second price")
    [cancel] = m.facts("trade.cancel")
    assert (cancel.body.trader, cancel.body.reason) == (m.buyer2.id, "outbid")
    assert cancel.signers == (m.operator.id,)
    assert bids[0].value is not None and bids[1].value is None
    report = verify(m)
    assert report.ok, report.summary()


def test_a_bid_below_the_reserve_wins_nothing_and_a_lone_bid_pays_the_reserve(
    tmp_path: Path,
) -> None:
    m = market(tmp_path)
    listing = m.offer(dataset(unit_cost_fen=3_000), mechanism=SecondPrice())
    m.env.process(m.exchange.trading.purchase(order(m.buyer, listing, price_fen=2_000)))
    m.env.process(m.exchange.trading.purchase(order(m.buyer2, listing, price_fen=5_000)))
    m.env.run(until=2)
    [contract] = m.facts("trade.contract")
    assert (contract.body.buyer, contract.body.price_fen) == (m.buyer2.id, 3_077)  # break-even
    assert contract.body.rule == "reserve"
    report = verify(m)
    assert report.ok, report.summary()


def test_a_resting_bid_fills_when_the_seller_lowers_its_ask(tmp_path: Path) -> None:
    m = market(tmp_path)
    book = DoubleAuction(floor_bp=0)
    listing = m.offer(dataset(unit_cost_fen=1_000), price_fen=3_000, mechanism=book)
    waiting = m.env.process(
        m.exchange.trading.purchase(order(m.buyer, listing, price_fen=2_000), patience_days=5)
    )
    m.env.run(until=1)
    assert m.facts("trade.contract") == [] and not waiting.triggered
    m.exchange.pricing.quote(m.provider, listing, book, 1_800)  # crosses the resting bid
    m.env.run(until=2)
    [contract] = m.facts("trade.contract")
    assert contract.body.price_fen == 2_000  # the resting (maker) order's price
    assert contract.body.rule.startswith("resting order O")
    report = verify(m)
    assert report.ok, report.summary()


def test_a_bid_that_never_fills_is_withdrawn_after_its_patience(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(dataset(), price_fen=3_000, mechanism=DoubleAuction(floor_bp=0))
    got = m.run(
        m.exchange.trading.purchase(order(m.buyer, listing, price_fen=2_000), patience_days=2)
    )
    assert got is None
    [cancel] = m.facts("trade.cancel")
    assert (cancel.body.reason, cancel.signers) == ("expired", (m.buyer.id,))
    assert cancel.time == 2 * DAY
    report = verify(m)
    assert report.ok, report.summary()


def test_a_second_sealed_bid_of_one_buyer_is_refused_not_a_crash(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(dataset(), mechanism=SecondPrice(round_days=2.0))
    m.env.process(m.exchange.trading.purchase(order(m.buyer, listing, price_fen=4_000)))
    m.env.process(m.exchange.trading.purchase(order(m.buyer, listing, price_fen=4_500)))
    m.env.run(until=3)
    [rejected] = m.facts("trade.rejected")
    assert rejected.body.reason == "venue-refused"
    assert "already in this auction" in rejected.body.detail
    assert len(m.facts("trade.contract")) == 1
    report = verify(m)
    assert report.ok, report.summary()


@pytest.mark.parametrize("what", ["winner's price", "a bid left out"])
def test_a_forged_clearing_is_caught_by_the_rules_of_record(tmp_path: Path, what: str) -> None:
    from marketplace.authorship import MarketRules

    m = market(tmp_path)
    listing = m.offer(dataset(unit_cost_fen=1_000), mechanism=SecondPrice())
    m.env.process(m.exchange.trading.purchase(order(m.buyer, listing, price_fen=4_000)))
    m.env.process(m.exchange.trading.purchase(order(m.buyer2, listing, price_fen=2_500)))
    m.env.run(until=2)
    rules = MarketRules()
    problems = []
    for fact in m.facts():
        body = fact.body.model_dump() if hasattr(fact.body, "model_dump") else fact.body
        if fact.kind == "trade.clearing":
            if what == "winner's price":
                body = {**body, "price_fen": 1_000}
            else:
                body = {**body, "bids": body["bids"][:1]}
        problems.append(rules.feed(fact.seq, fact.time, fact.kind, fact.actor, body, fact.signers))
    found = [p for p in problems if p]
    assert found and ("clearing price" in found[0] or "the clearing lists" in found[0])
