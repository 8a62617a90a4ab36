"""Trading: no valid certificate, no trade; contracts signed by both parties; the transfer gate."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import simpy

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import ClearanceConfig, RightsConfig, TradingConfig
from marketplace.crossborder_hook import GateDecision, Requirement
from marketplace.distributions import Constant
from marketplace.entries import ClearanceApplication, ClearanceDecision, Contract, TradeRejected
from marketplace.errors import MarketError
from marketplace.pricing import PostedPrice
from marketplace.state import ContractState
from tests.marketplace.setup import DAY, ENDOWMENT, Market, dataset, exact_config, market, order


@dataclass
class Gate:
    """A transfer gate that gives one fixed decision and remembers the facts it was shown."""

    decision: GateDecision
    seen: list[dict[str, Any]] = field(default_factory=list)

    def evaluate(self, facts: dict[str, Any]) -> GateDecision:
        self.seen.append(facts)
        return self.decision


def assert_nothing_traded(m: Market, balances: dict[str, int]) -> None:
    assert m.facts("trade.contract") == []
    assert dict(m.exchange.accounts.snapshot()) == balances
    assert m.exchange.operation.in_delivery == 0


def rejection(m: Market) -> TradeRejected:
    [fact] = m.facts("trade.rejected")
    assert fact.signers == (m.operator.id,)
    return fact.body


# -- the key rule ---------------------------------------------------------------------------


def test_an_uncertified_listing_cannot_be_bought(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(price_fen=1_500, certified=False)
    before = dict(m.exchange.accounts.snapshot())

    contract = m.run(m.exchange.trading.purchase(order(m.buyer, listing)))

    assert contract is None
    body = rejection(m)
    assert (body.buyer, body.listing, body.reason) == (
        m.buyer.id,
        listing.listing,
        "no-certificate",
    )
    assert_nothing_traded(m, before)
    assert listing.sales == 0


def test_a_rejected_application_still_cannot_be_bought(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(certified=False)
    m.exchange.rights.apply(m.provider, listing)
    application = m.exchange.rights.next_application().value
    m.exchange.rights.review(m.assessor, application, False, ["no title"], 0.0)
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is None
    assert rejection(m).reason == "no-certificate"


def test_an_expired_certificate_cannot_be_traded_on(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=RightsConfig(certificate_valid_days=1)))
    listing = m.offer()
    m.env.run(until=2)
    before = dict(m.exchange.accounts.snapshot())

    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is None

    body = rejection(m)
    assert body.reason == "certificate-expired"
    assert str(DAY) in body.detail
    assert_nothing_traded(m, before)


def test_the_certificate_is_checked_when_matching_ends(tmp_path: Path) -> None:
    config = exact_config(
        rights=RightsConfig(certificate_valid_days=1),
        trading=TradingConfig(capacity=1, matching_days=Constant(value=0.75)),
    )
    m = market(tmp_path, config)
    listing = m.offer()  # certified at t=0, valid until t=1 day
    m.env.run(until=0.5)
    # Valid when ordered at t=0.5, expired when the desk finishes at t=1.25.
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is None
    assert rejection(m).reason == "certificate-expired"


def test_an_expired_certificate_is_not_shown_as_certified(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=RightsConfig(certificate_valid_days=1)))
    m.offer()
    assert [o.certified for o in m.exchange.offers("mobility")] == [True]
    m.env.run(until=2)
    assert [o.certified for o in m.exchange.offers("mobility")] == [False]


def test_a_buyer_who_cannot_pay_is_refused(tmp_path: Path) -> None:
    m = market(tmp_path, endowment_fen=1_499)
    listing = m.offer(price_fen=1_500)
    before = dict(m.exchange.accounts.snapshot())

    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is None

    body = rejection(m)
    assert body.reason == "insufficient-funds"
    assert "1500" in body.detail and "1499" in body.detail
    assert_nothing_traded(m, before)


def test_an_order_for_an_unpriced_or_unknown_listing_is_an_error(tmp_path: Path) -> None:
    m = market(tmp_path)
    unpriced = m.run(m.exchange.storage.list_dataset(m.provider, dataset()))
    with pytest.raises(MarketError, match="not on offer"):
        m.run(m.exchange.trading.purchase(order(m.buyer, unpriced)))
    with pytest.raises(MarketError, match="not on offer"):
        m.run(m.exchange.trading.purchase(order(m.buyer, unpriced, listing="nobody/L001")))


# -- contracts ------------------------------------------------------------------------------


def test_a_valid_order_is_a_contract_signed_by_buyer_and_provider(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(price_fen=1_020)
    m.env.run(until=3)

    contract: ContractState = m.run(
        m.exchange.trading.purchase(order(m.buyer, listing, licence="api", value_fen=4_000))
    )

    # 2.5 % of 1,020 fen is 25.5 fen: rounded half up to 26.
    assert (contract.price_fen, contract.supplier_fee_fen) == (1_020, 26)
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT - 1_020
    assert m.exchange.accounts.balance("escrow") == 1_020
    assert m.exchange.accounts.balance(m.provider.id) == 0  # paid at settlement, not before
    assert listing.sales == 1
    assert m.facts("trade.rejected") == []
    [fact] = m.facts("trade.contract")
    assert fact.body == Contract(
        contract=contract.contract,
        listing=listing.listing,
        certificate=listing.certificate.certificate if listing.certificate else "",
        buyer=m.buyer.id,
        provider=m.provider.id,
        price_fen=1_020,
        supplier_fee_fen=26,
        licence="api",
        duration_days=30,
        destination="CN",
        cross_border=False,
        requirements=[],
        order="O0000001",
        quote_seq=listing.quote_seq or 0,
        ordered_at=3 * DAY,
        research={"buyer_value_fen": 4_000, "provider_cost_fen": 1_000},
        mechanism="posted",
        ask=f"quote-{listing.quote_seq}",
        rule="posted ask",
    )
    assert (fact.time, fact.seq) == (3 * DAY, contract.seq)
    assert fact.actor == m.buyer.id
    assert fact.signers == (m.buyer.id, m.provider.id)
    assert m.verifies(fact, m.buyer) and m.verifies(fact, m.provider)
    assert not m.verifies(fact, m.rival)

    m.ledger.close()
    report = audit(
        m.url, verifier_key=m.ledger.log_identity.public.verifier_key, domain=market_rules
    )
    assert report.ok, report.summary()


def test_each_contract_moves_its_own_price(tmp_path: Path) -> None:
    m = market(tmp_path)
    cheap, dear = m.offer(price_fen=1_000), m.offer(price_fen=2_000)
    m.run(m.exchange.trading.purchase(order(m.buyer, cheap)))
    m.run(m.exchange.trading.purchase(order(m.buyer2, dear)))
    m.run(m.exchange.trading.purchase(order(m.buyer, dear)))
    contracts = [f.body for f in m.facts("trade.contract")]
    assert [(c.buyer, c.price_fen, c.supplier_fee_fen) for c in contracts] == [
        (m.buyer.id, 1_000, 25),
        (m.buyer2.id, 2_000, 50),
        (m.buyer.id, 2_000, 50),
    ]
    assert len({c.contract for c in contracts}) == 3
    assert m.exchange.accounts.balance("escrow") == 5_000
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT - 3_000


def test_the_desk_serves_orders_one_at_a_time_with_capacity_one(tmp_path: Path) -> None:
    config = exact_config(trading=TradingConfig(capacity=1, matching_days=Constant(value=0.5)))
    m = market(tmp_path, config)
    listing = m.offer()
    for buyer in (m.buyer, m.buyer2):
        m.env.process(m.exchange.trading.purchase(order(buyer, listing)))
    m.env.run(until=2)
    assert [f.time for f in m.facts("trade.contract")] == [DAY // 2, DAY]


# -- cross-border ---------------------------------------------------------------------------


def test_a_domestic_order_does_not_consult_the_gate(tmp_path: Path) -> None:
    gate = Gate(GateDecision("forbidden", ("never",)))
    m = market(tmp_path, gate=gate)
    listing = m.offer()
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing, destination="CN")))
    assert gate.seen == []


def test_a_forbidden_transfer_is_rejected(tmp_path: Path) -> None:
    gate = Gate(GateDecision("forbidden", ("dsl/art31-important-data",)))
    m = market(tmp_path, gate=gate)
    listing = m.offer(dataset(classification="important", pi_subjects=10, sensitive_pi_subjects=1))
    before = dict(m.exchange.accounts.snapshot())

    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing, destination="US"))) is None

    body = rejection(m)
    assert (body.reason, body.detail) == ("forbidden", "dsl/art31-important-data")
    assert body.rules == ["dsl/art31-important-data"] and body.destination == "US"
    assert body.price_fen == listing.price_fen and body.facts == gate.seen[0]
    assert_nothing_traded(m, before)
    [facts] = gate.seen
    assert (facts["origin"], facts["destination"], facts["date"]) == ("CN", "US", "2025-01-01")
    assert facts["data"] == {
        "personal": True,
        "sensitive": True,
        "important": True,
        "core": False,
        "ftz_negative_list": False,
        "transit_only": False,
    }
    assert (facts["pi_subjects_ytd"], facts["sensitive_pi_subjects_ytd"]) == (10, 1)


def test_a_conditional_transfer_waits_for_its_mechanism_before_delivery(tmp_path: Path) -> None:
    requirement = Requirement(
        pack="pipl",
        any_of=("standard-contract",),
        fastest="standard-contract",
        lead_time_days=10,
        rules=("pipl/art38",),
        lead_times={"standard-contract": 10},
    )
    gate = Gate(GateDecision("conditional", ("pipl/art38",), (requirement,)))
    # The exporter and recipient carry the contract out themselves: 10 working days.
    clearance = ClearanceConfig(routes={"standard-contract": "self"})
    m = market(tmp_path, exact_config(clearance=clearance), gate=gate)
    listing = m.offer(dataset(size_mb=500))  # a 0.5-day download at 1,000 MB a day
    settled: list[int] = []
    ready = m.exchange.calendar.after_working_days(0, 10) / DAY  # 2025-01-16, past New Year

    def buy_then_settle() -> Generator[simpy.Event, Any, None]:
        contract = yield m.env.process(
            m.exchange.trading.purchase(order(m.buyer, listing, destination="DE"))
        )
        assert contract is not None
        yield m.env.timeout(ready - 1)
        settled.append(m.exchange.operation.settle())  # mechanism not done yet
        yield m.env.timeout(2)
        settled.append(m.exchange.operation.settle())

    m.env.process(buy_then_settle())
    m.env.run(until=30)

    [contract] = m.facts("trade.contract")
    assert contract.body.cross_border is True
    assert [r.any_of for r in contract.body.requirements] == [["standard-contract"]]
    [application] = m.facts("crossborder.application")
    assert application.body == ClearanceApplication(
        application="X000001",
        mechanism="standard-contract",
        route="self",
        exporter=m.provider.id,
        recipient=m.buyer.id,
        contract=contract.body.contract,
        pack="pipl",
    )
    assert application.signers == (m.provider.id, m.buyer.id)  # a contract between them
    [decision] = m.facts("crossborder.decision")
    assert isinstance(decision.body, ClearanceDecision) and decision.body.approved
    assert decision.time == ready * DAY == decision.body.valid_from
    assert decision.body.valid_until == decision.body.valid_from + 1_095 * DAY
    assert settled == [0, 1]
    [settlement] = m.facts("operation.settlement")
    [item] = settlement.body.items
    assert item.moved_at == ready * DAY and item.delivered_at == ready * DAY + DAY // 2
    assert decision.seq < settlement.seq


def test_an_allowed_transfer_needs_no_mechanism(tmp_path: Path) -> None:
    gate = Gate(GateDecision("allowed", ("open",)))
    m = market(tmp_path, gate=gate)
    listing = m.offer()
    m.run(m.exchange.trading.purchase(order(m.buyer, listing, destination="SG")))
    m.env.run(until=5)
    [contract] = m.facts("trade.contract")
    assert contract.body.cross_border and contract.body.requirements == []
    assert m.facts("crossborder.application") == []
    assert len(gate.seen) == 1


def test_an_order_is_refused_when_the_price_rose_after_the_buyer_saw_it(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(price_fen=1_000)
    seen = order(m.buyer, listing)  # the buyer accepts 1,000 fen
    m.exchange.pricing.quote(m.provider, listing, PostedPrice(floor_bp=0), 1_200)
    assert m.run(m.exchange.trading.purchase(seen)) is None
    [rejected] = m.facts("trade.rejected")
    assert rejected.body.reason == "price-changed"
    assert m.facts("trade.contract") == []
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT
