"""Rights registration: review steps by specialty, public notice, objections and arbitration,
one certificate per right, and every state a certificate can pass through."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import simpy

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import RightsConfig
from marketplace.distributions import Constant
from marketplace.entries import RIGHTS, RightsApplication
from marketplace.errors import MarketError
from marketplace.rights import Application
from marketplace.rights_states import ACTIONS, STATES, refusal
from marketplace.state import CertificateState, ListingState
from tests.marketplace.setup import DAY, Market, dataset, exact_config, market, order

THREE_STEPS = RightsConfig(steps=["compliance", "legal", "quality"])


def listed(m: Market) -> ListingState:
    return m.run(m.exchange.storage.list_dataset(m.provider, dataset()))


def assess(
    m: Market, approve: bool, review_days: float = 2.0, specialty: Any = None
) -> Generator[simpy.Event, Any, None]:
    """A fake assessor of one specialty: take one application, review for ``review_days``."""
    application: Application = yield m.exchange.rights.next_application(specialty)
    yield m.env.timeout(review_days)
    reasons = ["complete chain of title"] if approve else ["provenance unclear"]
    m.exchange.rights.review(m.assessor, application, approve, reasons, review_days)


def certified(m: Market) -> ListingState:
    listing = listed(m)
    m.exchange.rights.apply(m.provider, listing)
    m.env.process(assess(m, approve=True, review_days=0.0))
    m.env.run(until=m.env.now + 1)
    assert listing.certificate is not None
    return listing


def audited(m: Market) -> str:
    m.ledger.close()
    report = audit(m.url, domain=market_rules)
    assert report.ok, report.summary()
    return report.summary()


# -- applying and reviewing ---------------------------------------------------------------------
def test_an_application_is_recorded_and_queued(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = listed(m)
    decided = m.exchange.rights.apply(m.provider, listing)
    assert m.exchange.rights.backlog == 1 and not decided.triggered
    [fact] = m.facts("rights.application")
    assert fact.body == RightsApplication(
        application="A000001", listing=listing.listing, rights=list(RIGHTS)
    )
    assert fact.body.registration == "first" and fact.signers == (m.provider.id,)


def test_each_step_is_its_own_queue_in_order(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=THREE_STEPS))
    listing = listed(m)
    m.exchange.rights.apply(m.provider, listing)
    rights = m.exchange.rights
    assert (rights.backlog_of("compliance"), rights.backlog_of("legal")) == (1, 0)
    m.env.process(assess(m, True, 1.0, "compliance"))
    m.env.run(until=2)
    assert (rights.backlog_of("compliance"), rights.backlog_of("legal")) == (0, 1)
    m.env.process(assess(m, True, 1.0, "legal"))
    m.env.process(assess(m, True, 1.0, "quality"))
    m.env.run(until=5)
    assert [f.body.specialty for f in m.facts("rights.review")] == list(THREE_STEPS.steps)
    [decision] = m.facts("rights.decision")
    assert decision.body.approved and decision.body.review_days_x1000 == 3_000
    assert decision.signers == (m.operator.id,)
    assert audited(m).startswith("OK")


def test_an_approval_issues_one_certificate_per_right(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=RightsConfig(certificate_valid_days=90)))
    listing = listed(m)
    got: list[CertificateState | None] = []

    def provider() -> Generator[simpy.Event, Any, None]:
        got.append((yield m.exchange.rights.apply(m.provider, listing)))

    m.env.process(provider())
    m.env.process(assess(m, approve=True, review_days=2.0))
    m.env.run(until=10)
    [fact] = m.facts("rights.decision")
    issued = fact.body.certificates
    assert sorted(c.right for c in issued) == sorted(RIGHTS)
    assert all(c.holder == m.provider.id and c.parents == [] for c in issued)
    assert all((c.valid_from, c.valid_until) == (2 * DAY, 92 * DAY) for c in issued)
    certificate = listing.certificate
    assert certificate is not None and got == [certificate]
    assert (
        certificate.right == "product-operation"
        and fact.body.certificate == certificate.certificate
    )
    assert set(listing.certificates) == set(RIGHTS)
    assert certificate.valid_at(92 * DAY - 1) and not certificate.valid_at(92 * DAY)


def test_a_failed_step_refuses_the_application(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=THREE_STEPS))
    listing = listed(m)
    got: list[CertificateState | None] = []

    def provider() -> Generator[simpy.Event, Any, None]:
        got.append((yield m.exchange.rights.apply(m.provider, listing)))

    m.env.process(provider())
    m.env.process(assess(m, True, 1.0, "compliance"))
    m.env.process(assess(m, False, 1.5, "legal"))
    m.env.run(until=10)
    assert got == [None] and listing.certificate is None and listing.rights_decided
    [fact] = m.facts("rights.decision")
    assert not fact.body.approved and fact.body.certificates == []
    assert fact.body.reasons == ["compliance: complete chain of title", "legal: provenance unclear"]
    assert m.exchange.rights.backlog_of("quality") == 0  # the last step never saw it


def test_another_provider_cannot_apply_for_a_listing(tmp_path: Path) -> None:
    m = market(tmp_path)
    with pytest.raises(MarketError, match="cannot apply"):
        m.exchange.rights.apply(m.rival, listed(m))
    assert m.facts("rights.application") == []


def test_an_application_is_decided_only_once(tmp_path: Path) -> None:
    m = market(tmp_path)
    m.exchange.rights.apply(m.provider, listed(m))
    application = m.exchange.rights.next_application().value
    m.exchange.rights.review(m.assessor, application, True, ["ok"], 0.0)
    with pytest.raises(MarketError):
        m.exchange.rights.review(m.assessor, application, False, ["changed my mind"], 0.0)


# -- notice, objections, arbitration ---------------------------------------------------------------
def noticed(tmp_path: Path, **config: Any) -> tuple[Market, ListingState]:
    rights = RightsConfig(notice_days=10, arbitration_days=Constant(value=4.0), **config)
    m = market(tmp_path, exact_config(rights=rights))
    listing = listed(m)
    m.exchange.rights.apply(m.provider, listing)
    m.env.process(assess(m, True, 1.0))
    return m, listing


def test_a_certificate_waits_for_the_notice_to_end(tmp_path: Path) -> None:
    m, listing = noticed(tmp_path)
    m.env.run(until=10.5)
    [notice] = m.facts("rights.notice")
    assert (notice.body.notice_from, notice.body.notice_until) == (DAY, 11 * DAY)
    assert listing.certificate is None and m.facts("rights.decision") == []
    m.env.run(until=12)
    [decision] = m.facts("rights.decision")
    assert decision.time == 11 * DAY and decision.body.approved
    assert audited(m).startswith("OK")


def test_an_upheld_objection_refuses_the_application(tmp_path: Path) -> None:
    m, listing = noticed(tmp_path, objection_bp=10_000, upheld_bp=10_000)
    m.env.run(until=30)
    [objection] = m.facts("rights.objection")
    assert objection.body.objector == m.rival.id and objection.signers == (m.rival.id,)
    [ruling] = m.facts("rights.arbitration")
    assert ruling.body.upheld and ruling.time == objection.time + 4 * DAY
    [decision] = m.facts("rights.decision")
    assert not decision.body.approved and listing.certificate is None
    assert "an objection to the notice was upheld" in decision.body.reasons
    assert audited(m).startswith("OK")


def test_a_dismissed_objection_lets_the_certificate_issue_after_the_notice(
    tmp_path: Path,
) -> None:
    m, _listing = noticed(tmp_path, objection_bp=10_000, upheld_bp=0)
    m.env.run(until=30)
    [ruling] = m.facts("rights.arbitration")
    [decision] = m.facts("rights.decision")
    assert not ruling.body.upheld and decision.body.approved
    assert decision.time >= max(ruling.time, 11 * DAY)
    assert audited(m).startswith("OK")


def test_an_upheld_claim_revokes_an_issued_certificate(tmp_path: Path) -> None:
    rights = RightsConfig(
        claim_bp=10_000,
        claim_after_days=5.0,
        arbitration_days=Constant(value=3.0),
        upheld_bp=10_000,
    )
    m = market(tmp_path, exact_config(rights=rights))
    listing = listed(m)
    m.exchange.rights.apply(m.provider, listing)
    m.env.process(assess(m, True, 0.0))
    m.env.run(until=200)
    revoked = m.facts("rights.revocation")
    assert sorted(f.body.certificate for f in revoked) == sorted(
        c.certificate for c in listing.certificates.values()
    )
    assert all(c.status == "revoked" for c in listing.certificates.values())
    assert audited(m).startswith("OK")


# -- the states of a certificate ------------------------------------------------------------------
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_the_table_of_transitions(state: str, action: Any) -> None:
    allowed = state == "valid" or (state == "expired" and action == "renew")
    assert (refusal(state, action) is None) == allowed


def test_revoking_stops_listing_trading_and_delivery(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer()
    slow = order(m.buyer, listing, licence="compute-in-place")  # 2 days to deliver
    m.env.process(m.exchange.trading.purchase(slow))
    m.env.run(until=1)
    assert [f.body.contract for f in m.facts("trade.contract")] == ["K0000001"]
    assert listing.certificate is not None
    assert m.exchange.rights.revoke(listing.certificate, "fraudulent sources")
    assert [o.certified for o in m.exchange.offers("mobility")] == [False]
    assert m.run(m.exchange.trading.purchase(order(m.buyer2, listing))) is None
    [refused] = m.facts("trade.rejected")
    assert refused.body.reason == "certificate-ended"
    m.env.run(until=5)
    m.exchange.operation.settle()
    [settlement] = m.facts("operation.settlement")
    assert [i.outcome for i in settlement.body.items] == ["cancelled"]  # refunded, not delivered
    assert audited(m).startswith("OK")


def test_a_holder_cancels_and_nobody_else_may(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = certified(m)
    certificate = listing.certificates["holding"]
    with pytest.raises(MarketError, match="does not hold"):
        m.exchange.rights.cancel(m.rival, certificate, "not mine")
    assert m.exchange.rights.cancel(m.provider, certificate, "giving it up")
    [fact] = m.facts("rights.cancellation")
    assert fact.signers == (m.provider.id,) and certificate.status == "cancelled"


@pytest.mark.parametrize("ended", ["revoke", "cancel"])
def test_acts_on_an_ended_certificate_are_refused_and_recorded(tmp_path: Path, ended: str) -> None:
    m = market(tmp_path)
    listing = certified(m)
    certificate = listing.certificate
    assert certificate is not None
    if ended == "revoke":
        assert m.exchange.rights.revoke(certificate, "upheld claim")
    else:
        assert m.exchange.rights.cancel(m.provider, certificate, "withdrawn")
    state = certificate.status
    assert not m.exchange.rights.revoke(certificate, "again")
    assert not m.exchange.rights.cancel(m.provider, certificate, "again")
    renewal = m.exchange.rights.apply(m.provider, listing)
    assert renewal.triggered and renewal.value is None
    refusals = m.facts("rights.refusal")
    assert [(f.body.action, f.body.state) for f in refusals] == [
        ("revoke", state),
        ("cancel", state),
        ("renew", state),
    ]
    assert all(f.body.reason and f.signers == (m.operator.id,) for f in refusals)
    assert len(m.facts("rights.application")) == 1  # the renewal never became an application
    assert audited(m).startswith("OK")


def test_an_expired_certificate_may_be_renewed_but_not_revoked(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=RightsConfig(certificate_valid_days=5)))
    listing = certified(m)
    old = listing.certificate
    assert old is not None
    m.env.run(until=10)
    assert old.state_at(m.exchange.now_s()) == "expired"
    assert not m.exchange.rights.revoke(old, "too late")
    m.exchange.rights.apply(m.provider, listing)
    m.env.process(assess(m, True, 0.0))
    m.env.run(until=11)
    application = m.facts("rights.application")[-1].body
    assert application.registration == "change" and old.certificate in application.replaces
    new = listing.certificate
    assert new is not None and new is not old and old.status == "superseded"
    assert new.parents == (old.certificate,)
    assert audited(m).startswith("OK")


def test_a_change_supersedes_the_certificates_in_force(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = certified(m)
    before = dict(listing.certificates)
    m.exchange.rights.apply(m.provider, listing)
    m.env.process(assess(m, True, 0.0))
    m.env.run(until=m.env.now + 1)
    assert all(c.status == "superseded" for c in before.values())
    assert all(listing.certificates[r].parents == (before[r].certificate,) for r in RIGHTS)
    assert audited(m).startswith("OK")
