"""Storage: the ingest queue, the listing fact, and hosting bills in exact fen."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import simpy

from ledger import audit
from marketplace.authorship import market_rules
from marketplace.config import FeeSchedule, StorageConfig
from marketplace.distributions import Constant
from marketplace.entries import HostingCharge, Listing
from marketplace.errors import MarketError
from marketplace.metrics import fold
from marketplace.state import ListingState
from tests.marketplace.setup import DAY, Market, dataset, exact_config, market


def test_one_ingest_channel_queues_the_second_listing(tmp_path: Path) -> None:
    config = exact_config(storage=StorageConfig(capacity=1, ingest_days=Constant(value=1.0)))
    m = market(tmp_path, config)
    listed: list[tuple[float, ListingState]] = []

    def bring(name: str) -> Generator[simpy.Event, Any, None]:
        spec = dataset(dataset=name)
        listing = yield m.env.process(m.exchange.storage.list_dataset(m.provider, spec))
        listed.append((m.env.now, listing))

    m.env.process(bring("first"))
    m.env.process(bring("second"))
    m.env.run(until=5)

    assert [(now, listing.spec.dataset) for now, listing in listed] == [
        (1.0, "first"),
        (2.0, "second"),
    ]
    assert [f.time for f in m.facts("storage.listing")] == [1 * DAY, 2 * DAY]


def test_two_channels_ingest_in_parallel(tmp_path: Path) -> None:
    config = exact_config(storage=StorageConfig(capacity=2, ingest_days=Constant(value=1.0)))
    m = market(tmp_path, config)
    for name in ("first", "second"):
        m.env.process(m.exchange.storage.list_dataset(m.provider, dataset(dataset=name)))
    m.env.run(until=5)
    assert [f.time for f in m.facts("storage.listing")] == [DAY, DAY]


def test_the_listing_fact_describes_the_dataset(tmp_path: Path) -> None:
    config = exact_config(storage=StorageConfig(capacity=1, ingest_days=Constant(value=0.25)))
    m = market(tmp_path, config)
    spec = dataset(
        dataset="census-2024",
        category="health",
        size_mb=2_048,
        records=9_000,
        pi_subjects=1_200,
        sensitive_pi_subjects=120,
        classification="important",
        origin="CN",
        quality_pct=91,
    )
    first = m.run(m.exchange.storage.list_dataset(m.provider, spec))
    second = m.run(m.exchange.storage.list_dataset(m.provider, spec))

    assert (first.listing, second.listing) == ("provider-a/L001", "provider-a/L002")
    assert m.exchange.listings[first.listing] is first
    [fact, _] = m.facts("storage.listing")
    assert fact.body == Listing(
        listing="provider-a/L001",
        dataset="census-2024",
        category="health",
        size_mb=2_048,
        records=9_000,
        pi_subjects=1_200,
        sensitive_pi_subjects=120,
        classification="important",
        origin="CN",
        quality_pct=91,
        ingest_days_x1000=250,
    )
    assert fact.signers == (m.provider.id,)
    assert m.verifies(fact, m.provider)
    assert (first.listed_at, first.seq) == (fact.time, fact.seq)
    assert fact.time == DAY // 4


def test_listing_ids_are_numbered_per_provider(tmp_path: Path) -> None:
    m = market(tmp_path)
    ids = [
        m.run(m.exchange.storage.list_dataset(who, dataset())).listing
        for who in (m.provider, m.rival, m.provider)
    ]
    assert ids == ["provider-a/L001", "provider-b/L001", "provider-a/L002"]


# -- hosting --------------------------------------------------------------------------------


def hosting_market(tmp_path: Path, rate: int = 50) -> Market:
    fees = FeeSchedule(membership_fee_fen=0, hosting_fen_per_gb_day=rate)
    return market(tmp_path, exact_config(fees=fees))


def test_hosting_bill_is_exact_and_may_put_a_provider_in_debt(tmp_path: Path) -> None:
    m = hosting_market(tmp_path)
    m.run(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=2_048)))
    m.run(m.exchange.storage.list_dataset(m.rival, dataset(size_mb=1_000)))
    m.env.run(until=3)

    m.exchange.storage.bill_hosting()

    # 2 GB × 50 fen × 3 days = 300 fen; 1000/1024 GB × 50 × 3 = 146.48... floored to 146.
    charges = {m.provider.id: 300, m.rival.id: 146}
    assert m.exchange.accounts.balance(m.provider.id) == -300
    assert m.exchange.accounts.balance(m.rival.id) == -146
    assert m.exchange.accounts.balance("exchange") == 446
    [bill] = m.facts("storage.hosting")
    assert bill.body == HostingCharge(
        period_start=0, period_end=3 * DAY, rate_fen_per_gb_day=50, charges=charges
    )
    assert bill.signers == (m.operator.id,)
    assert m.exchange.accounts.total() == m.exchange.accounts.endowments


def test_hosting_is_billed_from_the_listing_time_and_only_once(tmp_path: Path) -> None:
    m = hosting_market(tmp_path)
    m.env.run(until=1)
    m.run(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=1_024)))
    m.env.run(until=5)
    m.exchange.storage.bill_hosting()
    m.exchange.storage.bill_hosting()  # nothing accrued since
    m.env.run(until=7)
    m.exchange.storage.bill_hosting()

    bills = [f.body for f in m.facts("storage.hosting")]
    assert [(b.period_start, b.period_end, b.charges) for b in bills] == [
        (0, 5 * DAY, {m.provider.id: 200}),
        (5 * DAY, 7 * DAY, {m.provider.id: 100}),
    ]
    assert m.exchange.accounts.balance(m.provider.id) == -300


def test_nothing_accrued_writes_no_bill(tmp_path: Path) -> None:
    m = hosting_market(tmp_path)
    m.exchange.storage.bill_hosting()  # no listings at all
    m.run(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=1)))
    m.exchange.storage.bill_hosting()  # listed just now
    m.env.run(until=10)
    m.exchange.storage.bill_hosting()  # 1 MB × 50 fen × 10 days / 1024 < 1 fen
    assert m.facts("storage.hosting") == []
    assert m.exchange.accounts.balance(m.provider.id) == 0


def test_fractions_of_a_fen_carry_over_to_a_later_bill(tmp_path: Path) -> None:
    m = hosting_market(tmp_path)
    m.run(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=1)))
    m.env.run(until=10)
    m.exchange.storage.bill_hosting()  # 0.49 fen: not billed, not lost
    m.env.run(until=21)
    m.exchange.storage.bill_hosting()  # 21 days × 50 / 1024 = 1.03 fen
    [bill] = m.facts("storage.hosting")
    assert bill.body.charges == {m.provider.id: 1}


def test_a_zero_rate_bills_nothing(tmp_path: Path) -> None:
    m = hosting_market(tmp_path, rate=0)
    m.run(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=10_000)))
    m.env.run(until=30)
    m.exchange.storage.bill_hosting()
    assert m.facts("storage.hosting") == []


# -- submissions, hosting space, versions, the listing gate -----------------------------------
def test_a_submission_is_recorded_and_its_wait_folds(tmp_path: Path) -> None:
    config = exact_config(storage=StorageConfig(capacity=1, ingest_days=Constant(value=1.0)))
    m = market(tmp_path, config)
    for name in ("first", "second"):
        m.env.process(m.exchange.storage.list_dataset(m.provider, dataset(dataset=name)))
    m.env.run(until=1.5)
    assert [f.body.dataset for f in m.facts("storage.submission")] == ["first", "second"]
    assert m.exchange.storage.waiting == 1
    m.env.run(until=5)
    m.ledger.flush()
    figures = fold(m.url)
    assert figures.submissions == 2 and figures.ingest_backlog_end == 0
    assert (figures.ingest_wait_days_p50, figures.ingest_wait_days_p90) == (1.0, 2.0)
    assert figures.ingest_backlog_max == 2


def test_a_full_store_holds_a_dataset_until_a_withdrawal_frees_space(tmp_path: Path) -> None:
    storage = StorageConfig(capacity=2, ingest_days=Constant(value=0.0), hosting_capacity_gb=1)
    m = market(tmp_path, exact_config(storage=storage))
    first = m.run(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=800)))
    waiting = m.env.process(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=300)))
    m.env.run(until=10)
    assert not waiting.triggered and m.exchange.storage.waiting == 1
    m.exchange.storage.withdraw(m.provider, first, 10, 0, 1)
    m.env.run(until=11)
    assert waiting.triggered and len(m.facts("storage.listing")) == 2
    with pytest.raises(MarketError, match="exceeds the hosting capacity"):
        m.run(m.exchange.storage.list_dataset(m.provider, dataset(size_mb=2_000)))


def test_a_new_version_is_numbered_and_only_by_its_provider(tmp_path: Path) -> None:
    m = market(tmp_path)
    listing = m.offer()
    assert m.exchange.storage.new_version(m.provider, listing, 3_000_000) == 2
    assert m.exchange.storage.new_version(m.provider, listing, 3_100_000) == 3
    with pytest.raises(MarketError):
        m.exchange.storage.new_version(m.rival, listing, 1)
    assert [f.body.version for f in m.facts("storage.version")] == [2, 3]
    m.ledger.close()
    assert audit(m.url, domain=market_rules).ok


def test_no_compliance_no_listing(tmp_path: Path) -> None:
    storage = StorageConfig(ingest_days=Constant(value=0.0), listing_requires_certificate=True)
    m = market(tmp_path, exact_config(storage=storage))
    pending = m.offer(certified=False)
    assert list(m.exchange.offers("mobility")) == []
    certified = m.offer()
    assert [o.listing for o in m.exchange.offers("mobility")] == [certified.listing]
    assert pending.price_fen is not None
