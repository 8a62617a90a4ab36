"""Rights confirmation: applications queue, assessors decide, approvals are signed certificates."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import simpy

from marketplace.config import RightsConfig
from marketplace.entries import RIGHTS, CertificateDecision, RightsApplication
from marketplace.errors import MarketError
from marketplace.rights import Application
from marketplace.state import CertificateState, ListingState
from tests.marketplace.setup import DAY, Market, dataset, exact_config, market


def listed(m: Market) -> ListingState:
    return m.run(m.exchange.storage.list_dataset(m.provider, dataset()))


def assess(m: Market, approve: bool, review_days: float = 2.0) -> Generator[simpy.Event, Any, None]:
    """A fake assessor: take one application, review for ``review_days``, decide."""
    application: Application = yield m.exchange.rights.next_application()
    yield m.env.timeout(review_days)
    reasons = ["complete chain of title"] if approve else ["provenance unclear"]
    m.exchange.rights.decide(m.assessor, application, approve, reasons, review_days)


def test_an_application_is_recorded_and_queued(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = listed(m)

    decided = m.exchange.rights.apply(m.provider, listing)

    assert m.exchange.rights.backlog == 1
    assert not decided.triggered
    [fact] = m.facts("rights.application")
    assert fact.body == RightsApplication(
        application="A000001", listing=listing.listing, rights=list(RIGHTS)
    )
    assert fact.signers == (m.provider.id,)
    assert listing.certificate is None and not listing.rights_decided


def test_applications_are_taken_first_come_first_served(tmp_path: Path) -> None:
    m = market(tmp_path)
    first, second = listed(m), listed(m)
    m.exchange.rights.apply(m.provider, first)
    m.exchange.rights.apply(m.provider, second)
    m.env.process(assess(m, approve=True))
    m.env.run(until=5)
    assert first.certificate is not None
    assert second.certificate is None
    assert m.exchange.rights.backlog == 1


def test_an_approval_issues_a_certificate_for_the_configured_term(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=RightsConfig(certificate_valid_days=90)))
    listing = listed(m)
    got: list[CertificateState | None] = []

    def provider() -> Generator[simpy.Event, Any, None]:
        certificate = yield m.exchange.rights.apply(m.provider, listing)
        got.append(certificate)

    m.env.process(provider())
    m.env.process(assess(m, approve=True, review_days=2.0))
    m.env.run(until=10)

    certificate = listing.certificate
    assert certificate is not None and got == [certificate]
    assert (certificate.valid_from, certificate.valid_until) == (2 * DAY, 92 * DAY)
    assert certificate.valid_at(2 * DAY) and certificate.valid_at(92 * DAY - 1)
    assert not certificate.valid_at(92 * DAY)
    assert certificate.assessor == m.assessor.id
    [fact] = m.facts("rights.decision")
    assert fact.body == CertificateDecision(
        application="A000001",
        listing=listing.listing,
        approved=True,
        certificate=certificate.certificate,
        rights=list(RIGHTS),
        valid_from=2 * DAY,
        valid_until=92 * DAY,
        review_days_x1000=2_000,
        reasons=["complete chain of title"],
    )
    assert fact.time == 2 * DAY and fact.seq == certificate.seq
    assert fact.signers == (m.assessor.id,) and m.verifies(fact, m.assessor)


def test_a_certificate_marks_a_priced_offer_certified(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer(certified=False)
    assert [o.certified for o in m.exchange.offers("mobility")] == [False]
    m.exchange.rights.apply(m.provider, listing)
    m.env.process(assess(m, approve=True))
    m.env.run(until=5)
    assert [o.certified for o in m.exchange.offers("mobility")] == [True]


def test_a_rejection_issues_no_certificate(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = listed(m)
    got: list[CertificateState | None] = []

    def provider() -> Generator[simpy.Event, Any, None]:
        got.append((yield m.exchange.rights.apply(m.provider, listing)))

    m.env.process(provider())
    m.env.process(assess(m, approve=False, review_days=1.5))
    m.env.run(until=10)

    assert got == [None]
    assert listing.certificate is None and listing.rights_decided
    [fact] = m.facts("rights.decision")
    assert fact.body.approved is False
    assert fact.body.certificate is None and fact.body.rights == []
    assert fact.body.reasons == ["provenance unclear"]
    assert fact.body.review_days_x1000 == 1_500


def test_another_provider_cannot_apply_for_a_listing(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = listed(m)
    with pytest.raises(MarketError, match="cannot apply"):
        m.exchange.rights.apply(m.rival, listing)
    assert m.exchange.rights.backlog == 0
    assert m.facts("rights.application") == []


def test_an_application_is_decided_only_once(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = listed(m)
    m.exchange.rights.apply(m.provider, listing)
    application = m.exchange.rights.next_application().value
    m.exchange.rights.decide(m.assessor, application, True, ["ok"], 0.0)
    with pytest.raises(MarketError):
        m.exchange.rights.decide(m.assessor, application, False, ["changed my mind"], 0.0)
    assert [f.body.approved for f in m.facts("rights.decision")] == [True]
