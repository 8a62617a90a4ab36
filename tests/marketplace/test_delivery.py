"""Delivery modes: listings offered only compute-in-place, and the jobs run under such licences."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import OperationConfig
from marketplace.distributions import Constant
from marketplace.errors import MarketError
from marketplace.invariants import check_invariants
from marketplace.metrics import fold
from marketplace.operation import cpu_hours_cost
from marketplace.state import ContractState
from tests.marketplace.setup import ENDOWMENT, Market, dataset, exact_config, market, order

COMPUTE_ONLY = dataset(delivery_modes=("compute-in-place",))


def compute_contract(m: Market) -> ContractState:
    listing = m.offer(COMPUTE_ONLY)
    contract = m.run(
        m.exchange.trading.purchase(order(m.buyer, listing, licence="compute-in-place"))
    )
    assert contract is not None
    return contract


def test_a_licence_the_listing_is_not_offered_in_is_refused(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(COMPUTE_ONLY)
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is None  # a download
    [refusal] = m.facts("trade.rejected")
    assert refusal.body.reason == "licence-not-offered"
    [listed] = m.facts("storage.listing")
    assert listed.body.delivery_modes == ["compute-in-place"]


def test_a_job_is_charged_its_compute_and_signed_by_both(tmp_path: Path) -> None:
    m = market(tmp_path)
    contract = compute_contract(m)
    m.env.run(until=5)
    assert m.exchange.operation.run_job(m.buyer, contract, 2.5)
    [job] = m.facts("operation.job")
    assert job.signers == (m.buyer.id, m.operator.id)
    assert (job.body.cpu_hours_x1000, job.body.cost_fen, job.body.refused) == (2_500, 2_500, None)
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT - contract.price_fen - 2_500
    m.exchange.close_books()
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok
    figures = fold(m.url)
    assert (figures.compute_jobs, figures.fees_compute_fen) == (1, 2_500)


def test_jobs_after_the_term_or_beyond_the_funds_are_refused_at_no_cost(tmp_path: Path) -> None:
    m = market(tmp_path, endowment_fen=5_000)
    contract = compute_contract(m)
    m.env.run(until=2)
    assert not m.exchange.operation.run_job(m.buyer, contract, 100.0)  # ¥1,000 > what is left
    m.env.run(until=contract.duration_days + 1)
    assert not m.exchange.operation.run_job(m.buyer, contract, 0.1)
    refused = [f.body.refused for f in m.facts("operation.job")]
    assert refused == ["insufficient-funds", "licence-expired"]
    assert all(f.body.cost_fen == 0 for f in m.facts("operation.job"))
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok


def test_only_the_licensee_runs_jobs_and_only_under_compute(tmp_path: Path) -> None:
    m = market(tmp_path)
    contract = compute_contract(m)
    with pytest.raises(MarketError):
        m.exchange.operation.run_job(m.buyer2, contract, 1.0)
    download = m.run(m.exchange.trading.purchase(order(m.buyer, m.offer())))
    with pytest.raises(MarketError):
        m.exchange.operation.run_job(m.buyer, download, 1.0)


def test_a_job_under_a_revoked_certificate_is_refused(tmp_path: Path) -> None:
    m = market(tmp_path)
    contract = compute_contract(m)
    assert contract.certificate is not None
    m.exchange.rights.revoke(contract.certificate, "upheld claim")
    assert not m.exchange.operation.run_job(m.buyer, contract, 1.0)
    assert m.facts("operation.job")[0].body.refused == "certificate-ended"


@pytest.mark.parametrize(("hours", "rate", "fen"), [(2.0, 1_000, 2_000), (0.0004, 1_000, 0)])
def test_compute_is_charged_in_whole_fen(hours: float, rate: int, fen: int) -> None:
    assert cpu_hours_cost(hours, rate) == fen


def test_an_upheld_dispute_refunds_part_of_the_price(tmp_path: Path) -> None:
    disputes = OperationConfig(
        download_mb_per_day=1_000,
        download_failure_bp=0,
        dispute_bp=10_000,
        dispute_upheld_bp=10_000,
        partial_refund_bp=4_000,
        dispute_days=Constant(value=3.0),
    )
    m = market(tmp_path, exact_config(operation=disputes))
    listing = m.offer(price_fen=10_000)
    contract = m.run(m.exchange.trading.purchase(order(m.buyer, listing)))
    assert contract is not None
    m.env.run(until=10)
    m.exchange.operation.settle()
    [claim] = m.facts("operation.dispute")
    [ruling] = m.facts("operation.ruling")
    assert claim.signers == (m.buyer.id,) and ruling.body.refund_fen == 4_000
    [item] = m.facts("operation.settlement")[0].body.items
    # the supplier fee (2.5 %) is charged on the 6,000 the provider keeps
    assert (item.outcome, item.refund_fen, item.fee_fen, item.to_provider_fen) == (
        "delivered",
        4_000,
        150,
        5_850,
    )
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT - 6_000
    m.ledger.close()
    assert all(r.ok for r in check_invariants(m.url))
    figures = fold(m.url)
    assert (figures.delivery_disputes, figures.partial_refunds_fen) == (1, 4_000)


def test_a_revocation_during_a_ruling_does_not_undo_a_delivery(tmp_path: Path) -> None:
    """The data arrived before the certificate ended; only the ruling came later."""
    disputes = OperationConfig(
        download_mb_per_day=1_000,
        download_failure_bp=0,
        dispute_bp=10_000,
        dispute_upheld_bp=0,
        dispute_days=Constant(value=10.0),
    )
    m = market(tmp_path, exact_config(operation=disputes))
    listing = m.offer(price_fen=10_000)
    contract = m.run(m.exchange.trading.purchase(order(m.buyer, listing)))
    assert contract is not None and listing.certificate is not None
    m.env.run(until=3)  # delivered (0.5 day), the ruling still 10 days away
    m.exchange.rights.revoke(listing.certificate, "upheld claim")
    m.env.run(until=15)
    m.exchange.operation.settle()
    [item] = m.facts("operation.settlement")[0].body.items
    assert item.outcome == "delivered" and item.delivered_at < 3 * 86_400
    m.ledger.close()
    assert all(r.ok for r in check_invariants(m.url))


def test_no_job_runs_once_the_certificate_that_superseded_the_contracts_ended(
    tmp_path: Path,
) -> None:
    m = market(tmp_path)
    contract = compute_contract(m)
    listing = contract.listing
    m.exchange.rights.apply(m.provider, listing)  # a change: supersedes the contract's certificate
    application = m.exchange.rights.next_application().value
    m.exchange.rights.review(m.assessor, application, True, ["ok"], 0.0)
    assert contract.certificate is not None and contract.certificate.status == "superseded"
    assert listing.certificate is not None
    m.exchange.rights.revoke(listing.certificate, "upheld claim")
    m.env.run(until=5)
    assert not m.exchange.operation.run_job(m.buyer, contract, 1.0)
    assert m.facts("operation.job")[0].body.refused == "certificate-ended"
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok
