"""Fees per act, from the schedule: a listing fee for each dataset listed and an assessment fee
for each rights application, each an entry the folds and the money statement account for."""

from __future__ import annotations

from pathlib import Path

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import FeeSchedule
from marketplace.entries import ActFee
from marketplace.invariants import check_invariants
from marketplace.metrics import fold
from tests.marketplace.setup import exact_config, market


def test_listing_and_assessment_fees_are_charged_and_folded(tmp_path: Path) -> None:
    fees = FeeSchedule(membership_fee_fen=0, listing_fee_fen=20_000, assessment_fee_fen=50_000)
    m = market(tmp_path, exact_config(fees=fees), provider_endowment_fen=100_000)
    listing = m.offer()
    charged = [f.body for f in m.facts("operation.fee")]
    assert charged == [
        ActFee(account=m.provider.id, fee="listing", ref=listing.listing, fee_fen=20_000),
        ActFee(account=m.provider.id, fee="assessment", ref="A000001", fee_fen=50_000),
    ]
    assert m.exchange.balance(m.provider.id) == 30_000
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok
    assert all(r.ok for r in check_invariants(m.url) if r.checked)
    figures = fold(m.url)
    assert (figures.fees_listing_fen, figures.fees_assessment_fen) == (20_000, 50_000)
    assert figures.fees_total_fen == 70_000


def test_a_fee_goes_into_debt_rather_than_blocking_the_act(tmp_path: Path) -> None:
    fees = FeeSchedule(membership_fee_fen=0, listing_fee_fen=20_000)
    m = market(tmp_path, exact_config(fees=fees))  # the provider holds nothing
    m.offer()
    assert m.exchange.balance(m.provider.id) == -20_000  # billed like hosting
    m.ledger.close()
    assert all(r.ok for r in check_invariants(m.url) if r.checked)


def test_the_audit_names_a_fee_charged_twice_or_to_another(tmp_path: Path) -> None:
    fees = FeeSchedule(membership_fee_fen=0, listing_fee_fen=20_000)
    m = market(tmp_path, exact_config(fees=fees))
    m.offer()
    [fact] = m.facts("operation.fee")
    m.exchange.record("operation.fee", fact.body, [m.operator])
    m.ledger.close()
    report = audit(m.url, domain=market_rules)
    assert not report.ok and "charged twice" in report.summary()
