"""The catalogue as buyers and providers see it: current per change, bounded per look."""

from __future__ import annotations

from pathlib import Path

from marketplace.config import RightsConfig
from tests.marketplace.setup import dataset, exact_config, market


def test_offers_follow_prices_and_certificates(tmp_path: Path) -> None:
    m = market(tmp_path, exact_config(rights=RightsConfig(certificate_valid_days=2)))
    certified = m.offer(dataset(category="mobility"), 1_000)
    pending = m.offer(dataset(category="mobility"), 2_000, certified=False)
    m.offer(dataset(category="finance"), 3_000)
    view = {o.listing: (o.price_fen, o.certified) for o in m.exchange.offers("mobility")}
    assert view == {certified.listing: (1_000, True), pending.listing: (2_000, False)}
    m.env.run(until=3)  # the certificate (2 days) has expired: the view says so
    assert [o.certified for o in m.exchange.offers("mobility")] == [False, False]
    assert m.exchange.offers("no-such-category") == ()


def test_nearby_offers_are_bounded_and_exclude_the_listing(tmp_path: Path) -> None:
    m = market(tmp_path)
    listings = [m.offer(dataset(category="retail"), 1_000 + i, certified=False) for i in range(30)]
    middle = listings[15]
    nearby = m.exchange.nearby_offers(middle, 10)
    assert len(nearby) == 10
    assert middle.listing not in {o.listing for o in nearby}
    slots = sorted(int(o.listing.rsplit("L", 1)[1]) for o in nearby)
    assert slots[0] >= 11 and slots[-1] <= 21  # the neighbours, not the whole category
    assert len(m.exchange.nearby_offers(listings[0], 50)) == 29
