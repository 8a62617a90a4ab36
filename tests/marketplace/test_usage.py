"""API subscriptions are metered: each billing period's calls are billed at the published rate,
the provider paid it less the supplier fee; a period the licence or certificate no longer allows
bills nothing and is recorded as refused."""

from __future__ import annotations

from pathlib import Path

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import FeeSchedule, OperationConfig
from marketplace.distributions import Constant
from marketplace.entries import ApiUsage
from marketplace.invariants import check_invariants
from marketplace.money import apply_bp
from marketplace.state import ContractState
from tests.marketplace.setup import DAY, Market, exact_config, market, order

RATE = 5_000  # fen per 1,000 calls
FEE_BP = 250


def subscribed(tmp_path: Path) -> tuple[Market, ContractState]:
    config = exact_config(
        fees=FeeSchedule(membership_fee_fen=0, supplier_fee_bp=FEE_BP),
        operation=OperationConfig(
            api_setup_days=Constant(value=1.0),
            api_failure_bp=0,
            api_fen_per_1000_calls=RATE,
        ),
    )
    m = market(tmp_path, config)
    listing = m.offer(price_fen=1_500)
    contract = m.run(m.exchange.trading.purchase(order(m.buyer, listing, licence="api")))
    assert contract is not None
    m.env.run(until=m.env.now + 2)  # provisioned
    return m, contract


def test_calls_are_billed_at_the_rate_and_split_with_the_fee(tmp_path: Path) -> None:
    m, contract = subscribed(tmp_path)
    since = m.exchange.now_s()
    buyer_before = m.exchange.balance(m.buyer.id)
    provider_before = m.exchange.balance(m.provider.id)
    m.env.run(until=m.env.now + 30)
    assert m.exchange.operation.meter(m.buyer, contract, 1_234, since)
    [fact] = m.facts("operation.usage")
    usage: ApiUsage = fact.body
    cost = (1_234 * RATE + 500) // 1_000  # 6,170 fen
    assert (usage.calls, usage.cost_fen, usage.fee_fen) == (1_234, cost, apply_bp(cost, FEE_BP))
    assert usage.to_provider_fen == cost - usage.fee_fen and usage.period_from == since
    assert fact.signers == (m.buyer.id, m.operator.id)
    assert buyer_before - m.exchange.balance(m.buyer.id) == cost
    assert m.exchange.balance(m.provider.id) - provider_before == usage.to_provider_fen
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok
    assert all(r.ok for r in check_invariants(m.url) if r.checked)


def test_no_billing_under_an_ended_certificate_or_after_the_term(tmp_path: Path) -> None:
    m, contract = subscribed(tmp_path)
    since = m.exchange.now_s()
    assert contract.listing.certificate is not None
    assert m.exchange.rights.revoke(contract.listing.certificate, "upheld claim")
    assert not m.exchange.operation.meter(m.buyer, contract, 500, since)
    expired = contract.signed_at + contract.duration_days * DAY
    assert not m.exchange.operation.meter(m.buyer, contract, 500, expired)
    refused = [f.body for f in m.facts("operation.usage")]
    assert [u.refused for u in refused] == ["certificate-ended", "licence-expired"]
    assert all(u.cost_fen == u.calls == u.to_provider_fen == 0 for u in refused)
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok


def test_the_audit_names_a_period_billed_at_the_wrong_price(tmp_path: Path) -> None:
    m, contract = subscribed(tmp_path)
    since = m.exchange.now_s()
    m.env.run(until=m.env.now + 30)
    assert m.exchange.operation.meter(m.buyer, contract, 1_000, since)
    [fact] = m.facts("operation.usage")
    dear = fact.body.model_copy(update={"cost_fen": 6_000, "to_provider_fen": 5_850})
    m.exchange.record("operation.usage", dear, [m.buyer, m.operator])
    m.ledger.close()
    report = audit(m.url, domain=market_rules)
    assert not report.ok and "1000 calls at 5000 fen per 1,000 cost 5000 fen" in report.summary()
