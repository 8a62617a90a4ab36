""" "No use scenario, no trade": a listing names the uses its licences may serve; an order for
another use is refused and recorded, and where the venue requires it an order must state a use
and a listing name its uses."""

from __future__ import annotations

from pathlib import Path

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import TradingConfig
from marketplace.distributions import Constant
from tests.marketplace.setup import Market, dataset, exact_config, market, order


def gated(tmp_path: Path, *, required: bool) -> Market:
    trading = TradingConfig(
        capacity=4, matching_days=Constant(value=0.0), require_use_scenario=required
    )
    return market(tmp_path, exact_config(trading=trading))


def test_an_order_outside_the_permitted_uses_is_refused(tmp_path: Path) -> None:
    m = gated(tmp_path, required=False)
    listing = m.offer(dataset(permitted_uses=("credit-risk", "research")))
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing, use="marketing"))) is None
    [refused] = m.facts("trade.rejected")
    assert refused.body.reason == "use-not-permitted" and "credit-risk" in refused.body.detail
    contract = m.run(m.exchange.trading.purchase(order(m.buyer, listing, use="research")))
    assert contract is not None
    [signed] = m.facts("trade.contract")
    assert signed.body.use == "research"
    [listed] = m.facts("storage.listing")
    assert listed.body.permitted_uses == ["credit-risk", "research"]
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok


def test_without_the_requirement_an_open_listing_takes_any_order(tmp_path: Path) -> None:
    m = gated(tmp_path, required=False)
    listing = m.offer()
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing))) is not None


def test_the_venue_requirement_refuses_orders_and_listings_without_uses(tmp_path: Path) -> None:
    m = gated(tmp_path, required=True)
    open_listing = m.offer()
    named = m.offer(dataset(dataset="ds-2", permitted_uses=("research",)))
    assert m.run(m.exchange.trading.purchase(order(m.buyer, open_listing, use="research"))) is None
    assert m.run(m.exchange.trading.purchase(order(m.buyer, named))) is None
    reasons = [(f.body.reason, f.body.detail) for f in m.facts("trade.rejected")]
    assert reasons == [
        ("no-use-scenario", f"{open_listing.listing}: the listing names none"),
        ("no-use-scenario", f"{named.listing}: the order states no use"),
    ]
    assert m.run(m.exchange.trading.purchase(order(m.buyer, named, use="research"))) is not None


def test_the_audit_names_a_contract_for_a_use_the_listing_does_not_permit(
    tmp_path: Path,
) -> None:
    m = gated(tmp_path, required=False)
    listing = m.offer(dataset(permitted_uses=("research",)))
    assert m.run(m.exchange.trading.purchase(order(m.buyer, listing, use="research")))
    [signed] = m.facts("trade.contract")
    forged = signed.body.model_copy(update={"contract": "K9999999", "use": "marketing"})
    m.exchange.record("trade.contract", forged, [m.buyer, m.provider])
    m.ledger.close()
    report = audit(m.url, domain=market_rules)
    assert not report.ok and "use 'marketing' is not one" in report.summary()
