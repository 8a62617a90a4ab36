"""Stage 1, storage: listing datasets and hosting them.

Ingestion (upload, format validation, integrity hashing) is a queue with a fixed number of
channels; each listing takes a sampled ingest time. Hosting accrues per GB-day from listing until
its withdrawal (or the end of the run) and is billed to providers each billing period. A
withdrawal is a new entry: no record is ever deleted.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ledger import Identity
from marketplace.config import FeeSchedule, StorageConfig
from marketplace.entries import (
    EXCHANGE_ACCOUNT,
    DatasetVersion,
    HostingCharge,
    Listing,
    ListingWithdrawal,
    Submission,
    WithdrawalReason,
)
from marketplace.errors import MarketError
from marketplace.state import DatasetSpec, LicenceState, ListingState

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["Storage"]

MB_PER_GB = 1024


class Storage:
    def __init__(
        self,
        exchange: Exchange,
        config: StorageConfig,
        fees: FeeSchedule,
        rng: np.random.Generator,
    ) -> None:
        self.exchange = exchange
        self.config = config
        self.fees = fees
        self.rng = rng
        self.ingest = simpy.Resource(exchange.env, capacity=config.capacity)
        gb = config.hosting_capacity_gb
        #: Free hosting space in MB (None: unlimited); a listing takes its size, a withdrawal
        #: gives it back.
        self.space = (
            None
            if gb is None
            else simpy.Container(exchange.env, capacity=gb * MB_PER_GB, init=gb * MB_PER_GB)
        )
        self.waiting = 0  # submitted, not yet listed: the ingest backlog
        self._listed_count: dict[str, int] = {}
        self._billed_until: dict[str, int] = {}  # listing -> seconds hosting is billed up to
        self._carry: dict[str, int] = {}  # listing -> accrued fraction of a fen (× 1024 × 86400)
        self._last_bill_s = 0

    def list_dataset(
        self, provider: Identity, spec: DatasetSpec, licences: tuple[LicenceState, ...] = ()
    ) -> Generator[simpy.Event, Any, ListingState]:
        """Process: record the submission, queue for an ingest channel, ingest, wait for
        hosting space, then record the listing. ``licences``: a data merchant's product,
        derived under them (its rights registration cites their certificates)."""
        for licence in licences:
            if licence.licensee != provider.id:
                raise MarketError(f"{provider.id} does not hold licence {licence.licence}")
        env = self.exchange.env
        if not self.fits(spec.size_mb):
            raise MarketError(f"{spec.dataset}: {spec.size_mb} MB exceeds the hosting capacity")
        submitted = Submission(dataset=spec.dataset, size_mb=spec.size_mb)
        self.exchange.record("storage.submission", submitted, [provider])
        self.waiting += 1
        with self.ingest.request() as slot:
            yield slot
            ingest_days = self.config.ingest_days.sample(self.rng)
            yield env.timeout(ingest_days)
        if self.space is not None:
            yield self.space.get(spec.size_mb)
        self.waiting -= 1
        number = self._listed_count.get(provider.id, 0) + 1
        self._listed_count[provider.id] = number
        listing_id = f"{provider.id}/L{number:03d}"
        body = Listing(
            listing=listing_id,
            dataset=spec.dataset,
            category=spec.category,
            size_mb=spec.size_mb,
            records=spec.records,
            pi_subjects=spec.pi_subjects,
            sensitive_pi_subjects=spec.sensitive_pi_subjects,
            classification=spec.classification,
            origin=spec.origin,
            quality_pct=spec.quality_pct,
            ingest_days_x1000=round(ingest_days * 1000),
            subjects_from=spec.subjects_from,
            ftz_negative_list=spec.ftz_negative_list,
            transit_only=spec.transit_only,
            government_related=spec.government_related,
            us_category=spec.us_category,
            exporter=spec.exporter,
            delivery_modes=list(spec.delivery_modes),
            permitted_uses=list(spec.permitted_uses),
        )
        entry = self.exchange.record("storage.listing", body, [provider])
        self.exchange.charge_fee(provider.id, "listing", listing_id)
        listing = ListingState(
            listing_id, provider.id, spec, entry.time, entry.seq, licences=licences
        )
        self.exchange.listings[listing_id] = listing
        self._billed_until[listing_id] = entry.time
        return listing

    def fits(self, size_mb: int) -> bool:
        """Whether a dataset of ``size_mb`` could ever be hosted here."""
        return self.space is None or size_mb <= self.space.capacity

    def new_version(self, provider: Identity, listing: ListingState, records: int) -> int:
        """Record a new version of ``listing``'s data; returns its number. The provider then
        applies to change its certificates (the data they describe changed)."""
        if listing.provider != provider.id or listing.withdrawn_at is not None:
            raise MarketError(f"{provider.id} cannot publish a version of {listing.listing}")
        listing.version += 1
        body = DatasetVersion(listing=listing.listing, version=listing.version, records=records)
        self.exchange.record("storage.version", body, [provider])
        return listing.version

    def hosting_cost_fen(self, listing: ListingState, seconds: int) -> int:
        """What hosting ``listing`` costs over ``seconds`` at the published rate (rounded up)."""
        accrued = listing.spec.size_mb * self.fees.hosting_fen_per_gb_day * seconds
        return -(-accrued // (MB_PER_GB * 86_400))

    def withdraw(
        self,
        provider: Identity,
        listing: ListingState,
        window_days: int,
        margin_fen: int,
        hosting_fen: int,
        reason: WithdrawalReason = "unprofitable",
    ) -> None:
        """The provider takes ``listing`` off the market: a signed entry (the listing's record
        stays), out of the catalogue, hosting billed only up to now, its standing sell orders
        cancelled; no new trade of it is signed."""
        if listing.provider != provider.id:
            raise MarketError(f"{provider.id} cannot withdraw {listing.listing}")
        if listing.withdrawn_at is not None:
            raise MarketError(f"{listing.listing} is already withdrawn")
        body = ListingWithdrawal(
            listing=listing.listing,
            reason=reason,
            window_days=window_days,
            margin_fen=margin_fen,
            hosting_fen=hosting_fen,
        )
        entry = self.exchange.record("storage.withdrawal", body, [provider])
        listing.withdrawn_at = entry.time
        if self.space is not None:
            self.space.put(listing.spec.size_mb)
        self.exchange.withdraw_offer(listing)
        self.exchange.trading.listing_withdrawn(listing)

    def bill_hosting(self) -> None:
        """Charge every provider for GB-days hosted since the last bill (one entry per period).

        ``fen = size_mb × rate × seconds / (1024 × 86 400)`` in integers; the fraction of a fen
        left over is carried to the next bill, so small datasets are billed in full over time.
        Providers may go into debt for hosting: the exchange keeps hosting the data.
        """
        now = self.exchange.now_s()
        rate = self.fees.hosting_fen_per_gb_day
        charges: dict[str, int] = {}
        ended: list[str] = []
        for listing_id, since in self._billed_until.items():
            listing = self.exchange.listings[listing_id]
            until = now if listing.withdrawn_at is None else min(now, listing.withdrawn_at)
            if listing.withdrawn_at is not None:
                ended.append(listing_id)  # billed to its withdrawal, then never again
            if until <= since:
                continue
            accrued = listing.spec.size_mb * rate * (until - since) + self._carry.get(listing_id, 0)
            fen, self._carry[listing_id] = divmod(accrued, MB_PER_GB * 86_400)
            self._billed_until[listing_id] = until
            if fen:
                charges[listing.provider] = charges.get(listing.provider, 0) + fen
        for listing_id in ended:
            del self._billed_until[listing_id]
        if charges:
            for provider, fen in charges.items():
                self.exchange.accounts.move(provider, EXCHANGE_ACCOUNT, fen, allow_debt=True)
            body = HostingCharge(
                period_start=self._last_bill_s,
                period_end=now,
                rate_fen_per_gb_day=rate,
                charges=dict(sorted(charges.items())),
            )
            self.exchange.record("storage.hosting", body, [self.exchange.operator])
        self._last_bill_s = now
