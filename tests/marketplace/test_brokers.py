"""Data merchants: licence registrations, derived products whose certificates cite their
parents, royalties flowing upstream, transfer registrations — each allowed when the rules of
record allow it, refused and recorded (or named by the audit) when they do not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ledger import Identity, audit
from marketplace.authorship import market_rules
from marketplace.entries import RIGHTS, RightsLicence, Royalty
from marketplace.entries_rights import RightsTransfer
from marketplace.invariants import check_invariants
from marketplace.invariants_derived import DERIVED, DerivedCheck
from marketplace.money import apply_bp
from marketplace.state import ContractState, LicenceState, ListingState
from tests.keys import test_identity
from tests.marketplace.setup import DAY, SEED, Market, dataset, market, order

ROYALTY_BP = 2_000


def with_broker(tmp_path: Path) -> tuple[Market, Identity]:
    m = market(tmp_path)
    broker = test_identity(SEED, "broker-a", "broker")
    m.exchange.admit(broker, 1_000_000)
    assert m.exchange.join(broker, expected_surplus_fen=0)  # a merchant buys as a member
    return m, broker


def bought(m: Market, broker: Identity, listing: ListingState) -> ContractState:
    contract = m.run(m.exchange.trading.purchase(order(broker, listing, duration_days=365)))
    assert contract is not None
    m.env.run(until=m.env.now + 2)  # 500 MB at 1,000 MB a day: delivered
    m.exchange.operation.settle()
    assert contract.outcome == "delivered"
    return contract


def licensed(m: Market, broker: Identity) -> tuple[ListingState, LicenceState]:
    source = m.offer(price_fen=1_500)
    contract = bought(m, broker, source)
    licence = m.exchange.rights.license(broker, contract, ROYALTY_BP, 200)
    assert licence is not None
    return source, licence


def derived(m: Market, broker: Identity, licence: LicenceState) -> ListingState:
    spec = dataset(dataset="broker-a/X001", quality_pct=95, unit_cost_fen=100)
    return m.offer(spec, price_fen=3_000, provider=broker, licences=(licence,))


def closed_and_checked(m: Market) -> None:
    m.ledger.close()
    report = audit(m.url, domain=market_rules)
    assert report.ok, report.summary()
    failed = [r for r in check_invariants(m.url) if r.checked and not r.ok]
    assert not failed, failed


# -- licences ---------------------------------------------------------------------------
def test_a_licence_is_registered_by_holder_and_licensee(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    source, licence = licensed(m, broker)
    [fact] = m.facts("rights.licence")
    body: RightsLicence = fact.body
    parent = source.certificates["processing-use"]
    assert fact.signers == (m.provider.id, broker.id)
    assert (body.certificate, body.licensor, body.licensee) == (
        parent.certificate,
        m.provider.id,
        broker.id,
    )
    assert body.royalty_bp == ROYALTY_BP and body.valid_until - body.valid_from == 200 * DAY
    assert licence.in_force(m.exchange.now_s())
    closed_and_checked(m)


def test_no_licence_under_an_ended_certificate(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    source = m.offer(price_fen=1_500)
    contract = bought(m, broker, source)
    assert m.exchange.rights.revoke(source.certificates["processing-use"], "upheld claim")
    assert m.exchange.rights.license(broker, contract, ROYALTY_BP, 200) is None
    [refused] = m.facts("rights.refusal")
    assert (refused.body.action, refused.body.state) == ("license", "revoked")
    assert m.facts("rights.licence") == []
    closed_and_checked(m)


# -- derived products and royalties ------------------------------------------------------
def test_a_derived_product_cites_its_parent_and_pays_it(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    source, licence = licensed(m, broker)
    product = derived(m, broker, licence)
    application = m.facts("rights.application")[-1].body
    assert application.registration == "derived" and application.licences == [licence.licence]
    decision = m.facts("rights.decision")[-1].body
    parent = source.certificates["processing-use"].certificate
    assert decision.approved and all(c.parents == [parent] for c in decision.certificates)
    assert decision.valid_until <= licence.valid_until  # no longer than the licence
    before = m.exchange.balance(m.provider.id)
    sale = m.run(m.exchange.trading.purchase(order(m.buyer, product)))
    assert sale is not None and sale.provider == broker.id
    m.env.run(until=m.env.now + 2)
    m.exchange.operation.settle()
    [item] = m.facts("operation.settlement")[-1].body.items
    [royalty] = m.facts("operation.royalty")
    paid: Royalty = royalty.body
    assert paid.royalty_fen == apply_bp(item.to_provider_fen, ROYALTY_BP) > 0
    assert (paid.licensee, paid.licensor, paid.licence) == (
        broker.id,
        m.provider.id,
        licence.licence,
    )
    assert m.exchange.balance(m.provider.id) - before == paid.royalty_fen
    assert product.royalties_fen == paid.royalty_fen
    closed_and_checked(m)


def test_a_derived_product_is_refused_once_its_licence_ended(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    source, licence = licensed(m, broker)
    spec = dataset(dataset="broker-a/X001", quality_pct=95)
    listing = m.run(m.exchange.storage.list_dataset(broker, spec, (licence,)))
    assert m.exchange.rights.cancel(
        m.provider, source.certificates["processing-use"], "giving it up"
    )
    decided = m.exchange.rights.apply(broker, listing)
    assert decided.triggered and decided.value is None
    [refused] = m.facts("rights.refusal")
    assert refused.body.action == "license" and licence.licence in refused.body.reason
    assert len(m.facts("rights.application")) == 1  # the source's: none for the product
    closed_and_checked(m)


def test_a_licence_that_ends_under_review_refuses_the_product(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    source, licence = licensed(m, broker)
    spec = dataset(dataset="broker-a/X001", quality_pct=95)
    listing = m.run(m.exchange.storage.list_dataset(broker, spec, (licence,)))
    decided = m.exchange.rights.apply(broker, listing)
    assert m.exchange.rights.revoke(source.certificates["processing-use"], "upheld claim")
    taken = m.exchange.rights.next_application().value
    m.exchange.rights.review(m.assessor, taken, True, ["fine"], 0.0)
    assert decided.value is None
    decision = m.facts("rights.decision")[-1].body
    assert not decision.approved and "licences it derives under ended" in decision.reasons[-1]
    closed_and_checked(m)


def test_only_the_licensee_lists_under_a_licence(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    _source, licence = licensed(m, broker)
    with pytest.raises(Exception, match="does not hold licence"):
        m.run(m.exchange.storage.list_dataset(m.rival, dataset(dataset="x"), (licence,)))


# -- what the rules of record refuse (found by the audit) -------------------------------
def forged(m: Market, kind: str, body: object, signers: list[Identity]) -> str:
    m.exchange.record(kind, body, signers)  # type: ignore[arg-type]
    m.ledger.close()
    report = audit(m.url, domain=market_rules)
    assert not report.ok
    return report.summary()


def test_the_audit_names_a_royalty_short_of_the_licence(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    _source, licence = licensed(m, broker)
    product = derived(m, broker, licence)
    sale = m.run(m.exchange.trading.purchase(order(m.buyer, product)))
    m.env.run(until=m.env.now + 2)
    m.exchange.operation.settle()
    [royalty] = m.facts("operation.royalty")
    short = royalty.body.model_copy(update={"royalty_fen": royalty.body.royalty_fen - 1})
    assert sale is not None
    # paid twice, and short: the first problem the rules find is the second payment
    text = forged(m, "operation.royalty", short, [m.operator])
    assert "paid twice" in text


def test_the_audit_names_a_licence_its_signer_cannot_grant(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    source, licence = licensed(m, broker)
    [fact] = m.facts("rights.licence")
    stolen = fact.body.model_copy(update={"licence": "L999999", "licensor": m.rival.id})
    text = forged(m, "rights.licence", stolen, [m.rival, broker])
    assert f"which {m.provider.id} holds" in text, text
    assert licence.licensor == m.provider.id == source.provider


def test_the_audit_names_a_derived_application_under_anothers_licence(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    _source, licence = licensed(m, broker)
    listing = m.run(m.exchange.storage.list_dataset(m.rival, dataset(dataset="rival/X")))
    body = m.facts("rights.application")[0].body.model_copy(
        update={
            "application": "A999999",
            "listing": listing.listing,
            "registration": "derived",
            "licences": [licence.licence],
        }
    )
    assert "not provider-b's" in forged(m, "rights.application", body, [m.rival])


# -- transfers ---------------------------------------------------------------------------
def test_a_transfer_moves_the_rights_the_listing_and_its_sales(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    listing = m.offer(price_fen=1_500)
    old = {right: listing.certificates[right] for right in RIGHTS}
    seller_before, broker_before = (m.exchange.balance(p.id) for p in (m.provider, broker))
    assert m.exchange.rights.transfer(m.provider, broker, listing, 40_000)
    [fact] = m.facts("rights.transfer")
    body: RightsTransfer = fact.body
    assert fact.signers == (m.provider.id, broker.id, m.operator.id)
    assert sorted(body.replaces) == sorted(c.certificate for c in old.values())
    for issued in body.certificates:
        assert issued.holder == broker.id and issued.parents == [old[issued.right].certificate]
        assert issued.valid_until == old[issued.right].valid_until  # the term does not restart
    assert all(c.status == "superseded" for c in old.values())
    assert listing.provider == broker.id and m.exchange.take_transferred(broker.id) == [listing]
    assert m.exchange.balance(m.provider.id) - seller_before == 40_000
    assert broker_before - m.exchange.balance(broker.id) == 40_000
    sale = m.run(m.exchange.trading.purchase(order(m.buyer, listing)))
    assert sale is not None and sale.provider == broker.id
    m.env.run(until=m.env.now + 2)
    m.exchange.operation.settle()
    assert m.exchange.balance(broker.id) > broker_before - 40_000  # the sale paid the new holder
    closed_and_checked(m)


def test_a_sale_signed_before_a_transfer_pays_the_seller_who_signed(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    listing = m.offer(price_fen=1_500)
    m.env.process(m.exchange.trading.purchase(order(m.buyer, listing)))
    m.env.run(until=m.env.now + 0.5)  # signed, still downloading
    before = m.exchange.balance(m.provider.id)
    assert m.exchange.rights.transfer(m.provider, broker, listing, 1)
    m.env.run(until=m.env.now + 2)
    m.exchange.operation.settle()
    [item] = m.facts("operation.settlement")[-1].body.items
    assert item.outcome == "delivered"
    assert m.exchange.balance(m.provider.id) - before == 1 + item.to_provider_fen
    closed_and_checked(m)


def test_no_transfer_of_ended_rights_or_of_a_derived_product(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    listing = m.offer(price_fen=1_500)
    assert m.exchange.rights.revoke(listing.certificates["holding"], "upheld claim")
    assert not m.exchange.rights.transfer(m.provider, broker, listing, 1)
    [refused] = m.facts("rights.refusal")
    assert (refused.body.action, refused.body.state) == ("transfer", "revoked")
    _source, licence = licensed(m, broker)
    product = derived(m, broker, licence)
    with pytest.raises(Exception, match="cannot take over"):
        m.exchange.rights.transfer(broker, m.provider, product, 0)
    closed_and_checked(m)


# -- invariant 6, from the facts alone ----------------------------------------------------
def test_invariant_6_names_a_parent_that_was_never_licensed(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    _source, licence = licensed(m, broker)
    derived(m, broker, licence)
    m.ledger.flush()
    check = DerivedCheck()
    for fact in m.facts():
        body = fact.body.model_dump() if hasattr(fact.body, "model_dump") else fact.body
        if fact.kind == "rights.decision" and body["application"] == "A000002":
            for issued in body["certificates"]:
                issued["parents"] = ["C-A999999-P"]
        check.feed(fact.seq, fact.time, fact.kind, fact.actor, body)
    check.finish()
    assert check.offences and "are not the certificates it was licensed" in check.offences[0]
    honest = [r for r in check_invariants(m.url) if r.name == DERIVED]
    assert honest[0].ok and "1 derived products" in honest[0].detail


def test_a_licence_state_ends_with_its_parent_or_its_term(tmp_path: Path) -> None:
    m, broker = with_broker(tmp_path)
    source, licence = licensed(m, broker)
    now = m.exchange.now_s()
    assert licence.in_force(now) and not licence.in_force(licence.valid_until)
    source.certificates["processing-use"].status = "superseded"  # a renewal carries it
    assert licence.in_force(now)
    ended = replace(licence, certificate=replace(licence.certificate, status="revoked"))
    assert not ended.in_force(now)
