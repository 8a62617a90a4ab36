"""Operation: delivery times by licence, settlement cycles, refunds, and money conservation."""

from __future__ import annotations

import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.config import FeeSchedule, OperationConfig
from marketplace.distributions import Constant
from marketplace.entries import MembershipFee, SettlementItem
from marketplace.invariants import check_invariants
from marketplace.state import Licence
from tests.marketplace.setup import (
    DAY,
    ENDOWMENT,
    Fact,
    Market,
    dataset,
    exact_config,
    market,
    order,
)


def operation(**fields: Any) -> OperationConfig:
    base: dict[str, Any] = {
        "download_mb_per_day": 1_000,
        "api_setup_days": Constant(value=1.0),
        "compute_setup_days": Constant(value=2.0),
        "download_failure_bp": 0,
        "api_failure_bp": 0,
        "compute_failure_bp": 0,
    }
    return OperationConfig(**(base | fields))


def buy(m: Market, licence: Licence = "download", price_fen: int = 2_000) -> None:
    listing = m.offer(dataset(size_mb=750), price_fen=price_fen)
    m.run(m.exchange.trading.purchase(order(m.buyer, listing, licence=licence)))


def settlement_items(m: Market) -> list[SettlementItem]:
    return [item for fact in m.facts("operation.settlement") for item in fact.body.items]


@pytest.mark.parametrize(
    ("licence", "days"),
    [("download", 0.75), ("api", 1.0), ("compute-in-place", 2.0)],
)
def test_delivery_time_depends_on_the_licence(
    tmp_path: Path, licence: Licence, days: float
) -> None:
    m = market(tmp_path)
    m.env.run(until=1)
    buy(m, licence)  # download: 750 MB at 1,000 MB a day
    m.env.run(until=10)
    m.exchange.operation.settle()
    [item] = settlement_items(m)
    assert item.delivered_at == round((1 + days) * DAY)


def test_delivery_jitter_adds_to_the_delivery_time(tmp_path: Path) -> None:
    m = market(
        tmp_path, exact_config(operation=operation(delivery_jitter_days=Constant(value=0.25)))
    )
    buy(m, "download")
    m.env.run(until=10)
    m.exchange.operation.settle()
    [item] = settlement_items(m)
    assert item.delivered_at == DAY  # 0.75 + 0.25 days


def test_a_delivery_settles_price_less_fee_to_the_provider(tmp_path: Path) -> None:
    m = market(tmp_path)
    buy(m, price_fen=2_020)
    m.env.run(until=5)

    assert m.exchange.operation.settle() == 1

    fee = 51  # 2.5 % of 2,020 = 50.5, half up
    assert m.exchange.accounts.balance(m.provider.id) == 2_020 - fee
    assert m.exchange.accounts.balance("exchange") == fee
    assert m.exchange.accounts.balance("escrow") == 0
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT - 2_020
    [fact] = m.facts("operation.settlement")
    [contract] = m.facts("trade.contract")
    assert fact.body.cycle == 1
    assert fact.body.items == [
        SettlementItem(
            contract=contract.body.contract,
            outcome="delivered",
            delivered_at=DAY * 3 // 4,
            to_provider_fen=2_020 - fee,
            fee_fen=fee,
            refund_fen=0,
        )
    ]
    assert (fact.time, fact.signers) == (5 * DAY, (m.operator.id,))


def test_a_failed_delivery_refunds_the_buyer_in_full(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(operation=operation(download_failure_bp=10_000)))
    buy(m, "download", price_fen=2_020)
    m.env.run(until=5)
    m.exchange.operation.settle()

    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT
    assert m.exchange.accounts.balance(m.provider.id) == 0
    assert m.exchange.accounts.balance("exchange") == 0
    assert m.exchange.accounts.balance("escrow") == 0
    [item] = settlement_items(m)
    assert (item.outcome, item.refund_fen, item.to_provider_fen, item.fee_fen) == (
        "failed",
        2_020,
        0,
        0,
    )


def test_one_cycle_settles_every_finished_delivery_and_only_those(tmp_path: Path) -> None:
    config = exact_config(operation=operation(download_failure_bp=10_000))
    m = market(tmp_path, config)
    buy(m, "download", price_fen=1_000)  # fails after 0.75 days
    buy(m, "api", price_fen=3_000)  # delivered after 1 day
    buy(m, "compute-in-place", price_fen=5_000)  # delivered after 2 days
    m.env.run(until=1.5)
    assert m.exchange.operation.settle() == 2
    m.env.run(until=3)
    assert m.exchange.operation.settle() == 1

    cycles = [f.body for f in m.facts("operation.settlement")]
    assert [c.cycle for c in cycles] == [1, 2]
    assert [[i.outcome for i in c.items] for c in cycles] == [
        ["failed", "delivered"],
        ["delivered"],
    ]
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT - 8_000
    assert m.exchange.accounts.balance(m.provider.id) == 8_000 - 75 - 125
    assert m.exchange.accounts.balance("escrow") == 0


def test_settling_with_nothing_finished_writes_nothing(tmp_path: Path) -> None:
    m = market(tmp_path)
    assert m.exchange.operation.settle() == 0
    buy(m, "compute-in-place")
    m.env.run(until=1)  # still being provisioned
    assert m.exchange.operation.settle() == 0
    assert m.facts("operation.settlement") == []
    assert m.exchange.accounts.balance("escrow") == 2_000


def test_closing_the_books_bills_hosting_and_settles(tmp_path: Path) -> None:
    m = market(tmp_path)
    buy(m, "api")
    m.env.run(until=30)
    m.exchange.close_books()
    assert len(m.facts("operation.settlement")) == 1
    assert len(m.facts("storage.hosting")) == 1
    assert m.exchange.accounts.balance("escrow") == 0


def test_buyers_pay_the_membership_fee_on_joining(tmp_path: Path) -> None:
    fees = FeeSchedule(membership_fee_fen=300_000)
    m = market(tmp_path, exact_config(fees=fees), endowment_fen=1_000_000)
    assert m.exchange.accounts.balance(m.buyer.id) == 700_000
    assert m.exchange.accounts.balance(m.provider.id) == 0
    assert m.exchange.accounts.balance("exchange") == 600_000
    fact = m.facts("operation.membership")[0]
    assert fact.body == MembershipFee(
        account=m.buyer.id,
        fee_fen=300_000,
        period_days=365,
        valid_from=0,
        valid_until=365 * DAY,
        renewal=False,
        expected_surplus_fen=0,
    )
    assert m.exchange.member_until(m.buyer.id) == 365 * DAY
    # A buyer who cannot cover the fee does not join, and pays nothing.
    poor = market(tmp_path / "poor", exact_config(fees=fees), endowment_fen=100)
    assert poor.exchange.accounts.balance(poor.buyer.id) == 100
    assert poor.exchange.member_until(poor.buyer.id) is None
    assert poor.facts("operation.membership") == []


def test_a_renewal_starts_when_the_last_membership_ends(tmp_path: Path) -> None:
    fees = FeeSchedule(membership_fee_fen=1_000, membership_period_days=30)
    m = market(tmp_path, exact_config(fees=fees))
    m.env.run(until=10)
    assert m.exchange.join(m.buyer, expected_surplus_fen=5_000)
    first, renewal = [
        f.body for f in m.facts("operation.membership") if f.body.account == m.buyer.id
    ]
    assert (first.valid_from, first.valid_until, first.renewal) == (0, 30 * DAY, False)
    assert (renewal.valid_from, renewal.valid_until, renewal.renewal) == (30 * DAY, 60 * DAY, True)
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT - 2_000


def test_only_members_trade(tmp_path: Path) -> None:
    m = market(tmp_path, join=False)
    listing = m.offer()
    ticket = m.run(m.exchange.trading.purchase(order(m.buyer, listing)))
    assert ticket is None
    [refusal] = m.facts("trade.rejected")
    assert refusal.body.reason == "not-a-member"
    assert m.facts("trade.contract") == []
    m.exchange.join(m.buyer, expected_surplus_fen=0)
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is not None
    assert len(m.facts("trade.contract")) == 1


# -- money is conserved, and the ledger accounts for every fen ------------------------------


def fold_balances(facts: list[Fact]) -> dict[str, int]:
    """Balances as the ledger tells them (the table in ``marketplace.entries``)."""
    balances = {"exchange": 0, "escrow": 0}
    parties: dict[str, tuple[str, str]] = {}  # contract -> (buyer, provider)

    def move(source: str, target: str, fen: int) -> None:
        balances[source] -= fen
        balances[target] += fen

    for fact in facts:
        body = fact.body
        match fact.kind:
            case "account.open":
                balances[body.account] = body.endowment_fen
            case "operation.membership" | "operation.fee":
                move(body.account, "exchange", body.fee_fen)
            case "storage.hosting":
                for provider, fen in body.charges.items():
                    move(provider, "exchange", fen)
            case "trade.contract":
                parties[body.contract] = (body.buyer, body.provider)
                move(body.buyer, "escrow", body.price_fen)
            case "operation.settlement":
                for item in body.items:
                    buyer, provider = parties[item.contract]
                    move("escrow", provider, item.to_provider_fen)
                    move("escrow", "exchange", item.fee_fen)
                    move("escrow", buyer, item.refund_fen)
    return balances


Plan = tuple[int, int, Licence, float]  # listing index, buyer index, licence, order day

plans = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 1),
        st.sampled_from(["download", "api", "compute-in-place"]),
        st.floats(0, 12, allow_nan=False),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=plans,
    failure_bp=st.sampled_from([0, 5_000, 10_000]),
    membership_fen=st.sampled_from([0, 2_000]),
    supplier_bp=st.sampled_from([0, 250, 2_500, 9_000]) | st.integers(0, 9_999),
    hosting_fen=st.sampled_from([0, 50, 5_000]),
    act_fees=st.tuples(st.sampled_from([0, 300, 10_000]), st.sampled_from([0, 700, 20_000])),
    endowment_fen=st.sampled_from([50_000, 3_000, 0]) | st.integers(0, 8_000),
    prices=st.lists(st.integers(1, 3_000), min_size=3, max_size=3),
    withdraw_on=st.none() | st.floats(0, 15, allow_nan=False),
    dispute=st.tuples(
        st.sampled_from([0, 5_000, 10_000]),  # chance a delivery is disputed
        st.sampled_from([0, 10_000]) | st.integers(0, 10_000),  # chance it is upheld
        st.sampled_from([0, 5_000, 10_000]) | st.integers(0, 10_000),  # share refunded
    ),
)
def test_money_is_conserved_whatever_happens(
    plan: list[Plan],
    failure_bp: int,
    membership_fen: int,
    supplier_bp: int,
    hosting_fen: int,
    act_fees: tuple[int, int],
    endowment_fen: int,
    prices: list[int],
    withdraw_on: float | None,
    dispute: tuple[int, int, int],
) -> None:
    """Under any fee schedule (listing and assessment fees too, beyond what a provider holds),
    with refunds of failed deliveries, partial refunds of disputed
    ones, a withdrawal part-way and buyers who cannot afford their membership: every fen is
    accounted for, and the ledger's invariants (its two independent accounts of money among
    them) hold."""
    config = exact_config(
        fees=FeeSchedule(
            membership_fee_fen=membership_fen,
            supplier_fee_bp=supplier_bp,
            hosting_fen_per_gb_day=hosting_fen,
            hosting_period_days=3,
            listing_fee_fen=act_fees[0],
            assessment_fee_fen=act_fees[1],
        ),
        operation=operation(
            download_failure_bp=failure_bp,
            api_failure_bp=failure_bp,
            compute_failure_bp=failure_bp,
            dispute_bp=dispute[0],
            dispute_upheld_bp=dispute[1],
            partial_refund_bp=dispute[2],
            dispute_days=Constant(value=2.0),
        ),
    )
    with tempfile.TemporaryDirectory() as tmp:
        m = market(Path(tmp), config, endowment_fen=endowment_fen, provider_endowment_fen=500)
        listings = [
            m.offer(dataset(size_mb=4_000), price_fen=prices[0]),
            m.offer(dataset(size_mb=100), price_fen=prices[1], provider=m.rival),
            m.offer(price_fen=prices[2], certified=False),  # the exchange must refuse these
        ]
        buyers = [m.buyer, m.buyer2]
        accounts = m.exchange.accounts

        def shop(which: int, who: int, licence: Licence, day: float) -> Generator[simpy.Event]:
            yield m.env.timeout(day)
            chosen = order(buyers[who], listings[which], licence=licence)
            yield m.env.process(m.exchange.trading.purchase(chosen))

        def operate() -> Generator[simpy.Event]:
            while True:
                yield m.env.timeout(1)
                m.exchange.operation.settle()
                if round(m.env.now) % 3 == 0:
                    m.exchange.storage.bill_hosting()

        def withdraw(day: float) -> Generator[simpy.Event]:
            yield m.env.timeout(day)
            m.exchange.storage.withdraw(m.provider, listings[0], 0, -1, 0)

        for step in plan:
            m.env.process(shop(*step))
        m.env.process(operate())
        if withdraw_on is not None:
            m.env.process(withdraw(withdraw_on))
        for day in range(1, 21):
            m.env.run(until=day)
            assert accounts.total() == accounts.endowments
            assert accounts.balance("escrow") >= 0
        m.exchange.close_books()

        assert accounts.total() == accounts.endowments
        assert accounts.balance("escrow") == 0
        assert all(accounts.balance(b.id) >= 0 for b in buyers)
        assert fold_balances(m.facts()) == dict(accounts.snapshot())
        contracts = m.facts("trade.contract")
        assert all(f.body.listing != listings[2].listing for f in contracts)
        if withdraw_on is not None:
            [gone] = m.facts("storage.withdrawal")
            assert all(  # signed before the withdrawal (the same second, at the earliest)
                f.seq < gone.seq for f in contracts if f.body.listing == listings[0].listing
            )
        m.ledger.close()
        results = check_invariants(m.url)
        assert all(r.ok for r in results), [r for r in results if not r.ok]
