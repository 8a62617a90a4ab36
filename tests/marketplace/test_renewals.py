"""A licence renewal is an order that cites the contract it renews: the rules of record accept
it only from that contract's buyer, for its listing, once its term has ended."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.state import ContractState
from tests.marketplace.setup import Market, market, order

TERM_DAYS = 30


def signed(tmp_path: Path) -> tuple[Market, ContractState]:
    m = market(tmp_path)
    listing = m.offer(price_fen=1_500)
    contract = m.run(m.exchange.trading.purchase(order(m.buyer, listing, duration_days=TERM_DAYS)))
    assert contract is not None
    return m, contract


def renew(m: Market, contract: ContractState, *, buyer: str | None = None) -> None:
    """Place an order renewing ``contract`` now (by its buyer, unless ``buyer`` says)."""
    identity = m.buyer2 if buyer == m.buyer2.id else m.buyer
    renewal = replace(
        order(identity, contract.listing, duration_days=TERM_DAYS), renews=contract.contract
    )
    m.run(m.exchange.trading.purchase(renewal))


def problems(m: Market) -> str:
    """The first entry the audit refuses, and why ("" when every entry passes)."""
    m.ledger.close()
    report = audit(m.url, domain=market_rules)
    return "" if report.first_bad is None else str(report.first_bad)


def test_a_renewal_after_the_term_is_accepted_and_signs_a_new_contract(tmp_path: Path) -> None:
    m, contract = signed(tmp_path)
    m.env.run(until=m.env.now + TERM_DAYS + 1)
    renew(m, contract)
    [first, second] = m.facts("trade.order")
    assert first.body.renews is None and second.body.renews == contract.contract
    assert len(m.facts("trade.contract")) == 2
    assert problems(m) == ""


@pytest.mark.parametrize(
    ("wait_days", "by_other", "reason"),
    [
        (TERM_DAYS // 2, False, "before its term ends"),
        (TERM_DAYS + 1, True, "another buyer's contract"),
    ],
)
def test_a_renewal_out_of_turn_is_refused_by_the_rules_of_record(
    tmp_path: Path, wait_days: int, by_other: bool, reason: str
) -> None:
    m, contract = signed(tmp_path)
    m.env.run(until=m.env.now + wait_days)
    renew(m, contract, buyer=m.buyer2.id if by_other else None)
    found = problems(m)
    assert reason in found


def test_a_renewal_of_a_contract_never_signed_is_refused(tmp_path: Path) -> None:
    m, contract = signed(tmp_path)
    m.env.run(until=m.env.now + TERM_DAYS + 1)
    renew(m, replace(contract, contract="C9999999"))
    assert "no contract for" in problems(m)
