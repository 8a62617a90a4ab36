"""Fees and participation as levers: break-even pricing, withdrawals, memberships, and the rules
of record and second account of money that hold them to the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import FeeSchedule
from marketplace.entries import DeliveryDispute, DeliveryRuling
from marketplace.errors import MarketError
from marketplace.invariants import MONEY, check_invariants
from marketplace.metrics import LedgerFold
from marketplace.money import apply_bp, break_even_fen
from tests.marketplace.setup import DAY, dataset, exact_config, market, order
from tests.marketplace.stories import LISTING, Script, certified_market, delivered


def refusal(s: Script, tmp_path: Path) -> str:
    """Close the script's ledger and return the audit's verdict, which must be a refusal."""
    s.close()
    report = audit(tmp_path / "ledger.db", domain=market_rules)
    assert not report.ok
    return report.summary()


# -- break-even -------------------------------------------------------------------------------
@given(cost=st.integers(0, 10**12), fee_bp=st.integers(0, 9_999))
def test_break_even_is_the_lowest_price_that_keeps_the_cost(cost: int, fee_bp: int) -> None:
    price = break_even_fen(cost, fee_bp)
    assert price is not None
    assert price - apply_bp(price, fee_bp) >= cost
    assert price == 0 or (price - 1) - apply_bp(price - 1, fee_bp) < cost


def test_no_price_survives_a_fee_of_everything() -> None:
    assert break_even_fen(1_000, 10_000) is None
    assert break_even_fen(0, 10_000) == 0
    with pytest.raises(ValueError):
        break_even_fen(-1, 0)


# -- withdrawals --------------------------------------------------------------------------------
def test_a_withdrawn_listing_leaves_the_catalogue_and_never_trades(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(dataset(size_mb=1_024))
    assert [o.listing for o in m.exchange.offers("mobility")] == [listing.listing]
    m.env.run(until=10)
    m.exchange.storage.withdraw(m.provider, listing, 10, 0, 500)
    assert list(m.exchange.offers("mobility")) == []
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is None
    [refusal] = m.facts("trade.rejected")
    assert refusal.body.reason == "withdrawn"
    with pytest.raises(MarketError, match="already withdrawn"):
        m.exchange.storage.withdraw(m.provider, listing, 10, 0, 500)
    with pytest.raises(MarketError, match="withdrawn"):
        m.exchange.pricing.quote(m.provider, listing, m.exchange.trading.mechanism_of(listing))
    # hosting is billed up to the withdrawal and never after it
    m.env.run(until=40)
    m.exchange.storage.bill_hosting()
    m.exchange.storage.bill_hosting()
    [bill] = m.facts("storage.hosting")
    assert bill.body.charges == {m.provider.id: 10 * 50}  # 1 GB × 50 fen × 10 days
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok


def test_only_its_provider_withdraws_a_listing(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer()
    with pytest.raises(MarketError, match="cannot withdraw"):
        m.exchange.storage.withdraw(m.rival, listing, 0, 0, 1)


def test_a_contract_signed_after_a_withdrawal_breaks_the_rules_of_record(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.withdraw(LISTING, 7)
    s.contract("K1", "b1", 100_000, 8)
    assert "was withdrawn at seq" in refusal(s, tmp_path)


def test_a_withdrawal_that_pays_its_way_is_no_unprofitable_one(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.withdraw(LISTING, 7, margin=5_000, hosting=100)
    assert "its margin covers its hosting" in refusal(s, tmp_path)


# -- memberships ------------------------------------------------------------------------------
def test_a_contract_with_a_buyer_whose_membership_ended_breaks_the_rules(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")  # b1 and b2 are members for 365 days
    s.contract("K1", "b1", 100_000, 370)
    assert "is not a member of the exchange" in refusal(s, tmp_path)


def test_a_renewal_must_follow_the_last_period(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.members.pop("b1")  # the script forgets: its next membership claims to be a first one
    s.membership("b1", 10_000, 30)
    assert "starts before the last one ends" in refusal(s, tmp_path)


def test_a_buyer_who_cannot_pay_the_fee_is_no_member(tmp_path: Path) -> None:
    fees = FeeSchedule(membership_fee_fen=2_000_000)
    m = market(tmp_path, exact_config(fees=fees))
    assert m.exchange.member_until(m.buyer.id) is None
    assert not m.exchange.join(m.buyer, expected_surplus_fen=10**9)
    assert m.facts("operation.membership") == []


# -- the second account of money ----------------------------------------------------------------
def test_the_statement_catches_postings_that_go_astray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invariant 2 is no identity: were the fold to post a settlement's provider share to the
    wrong account (Σ balances still equal to Σ endowments), the statement disagrees."""
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 100_000, 8, fee=2_500)
    s.settle(10, delivered("K1", 100_000, 2_500, 9))
    s.close()
    assert all(r.ok for r in check_invariants(tmp_path / "ledger.db"))

    honest = LedgerFold._move

    def astray(fold: LedgerFold, source: str, target: str, amount: int) -> None:
        honest(fold, source, "p2" if target == "p1" else target, amount)

    monkeypatch.setattr(LedgerFold, "_move", astray)
    [money] = [r for r in check_invariants(tmp_path / "ledger.db") if r.name == MONEY]
    assert not money.ok
    assert money.detail == "account p1: the postings give 0 fen, its statement 97500 fen"


def test_a_membership_year_is_counted_in_days(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(fees=FeeSchedule(membership_fee_fen=0)))
    [first, _second] = m.facts("operation.membership")
    assert first.body.valid_until - first.body.valid_from == 365 * DAY


# -- delivery disputes --------------------------------------------------------------------------
def test_a_partial_refund_needs_an_upheld_ruling(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 100_000, 8, fee=2_500)
    refunded = delivered("K1", 100_000, 1_250, 9).model_copy(
        update={"refund_fen": 50_000, "to_provider_fen": 48_750}
    )
    s.settle(10, refunded)
    assert "refunds 50000 fen of delivered 'K1', ruled 0" in refusal(s, tmp_path)


def test_no_settlement_while_a_dispute_is_open(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 100_000, 8, fee=2_500)
    claim = DeliveryDispute(contract="K1", buyer="b1", grounds="not as described")
    s.record("operation.dispute", claim, 9, "b1")
    s.settle(10, delivered("K1", 100_000, 2_500, 9))
    assert "while its dispute is open" in refusal(s, tmp_path)


def test_a_ruled_refund_settles_and_keeps_every_invariant(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 100_000, 8, fee=2_500)
    claim = DeliveryDispute(contract="K1", buyer="b1", grounds="not as described")
    s.record("operation.dispute", claim, 9, "b1")
    ruling = DeliveryRuling(contract="K1", upheld=True, refund_fen=50_000, days_x1000=1_000)
    s.record("operation.ruling", ruling, 10, "op")
    refunded = delivered("K1", 100_000, 1_250, 9).model_copy(
        update={"refund_fen": 50_000, "to_provider_fen": 48_750}
    )
    s.settle(11, refunded)
    s.close()
    assert all(r.ok for r in check_invariants(tmp_path / "ledger.db"))


def test_a_buyer_may_lapse_and_join_again(tmp_path: Path) -> None:
    fees = FeeSchedule(membership_fee_fen=1_000, membership_period_days=30)
    m = market(tmp_path, exact_config(fees=fees))
    m.env.run(until=40)
    assert m.exchange.join(m.buyer, expected_surplus_fen=5_000)
    later = [f.body for f in m.facts("operation.membership") if f.body.account == m.buyer.id][-1]
    assert (later.renewal, later.valid_from) == (False, 40 * 86_400)
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok
