"""Stage 2, rights confirmation: applications, review by assessors, certificates.

A provider applies for confirmation of the three data rights over a listing — resource holding,
processing and use, product operation ("Data 20 Articles": Opinions of the CPC Central Committee
and the State Council on Building a Data Basic System to Better Give Play to the Role of Data
Elements, Dec 2022, Art. 3–5). Applications wait in a queue; assessors take them one at a time,
review them and decide. An approval is the assessor's signed certificate with a validity term; no
valid certificate, no trade (enforced in :mod:`marketplace.trading`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import simpy
from simpy.resources.store import StoreGet

from ledger import Identity
from marketplace.config import RightsConfig
from marketplace.entries import RIGHTS, CertificateDecision, RightsApplication
from marketplace.errors import MarketError
from marketplace.state import CertificateState, ListingState

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["Application", "Rights"]


@dataclass(frozen=True, slots=True)
class Application:
    """An application in the review queue; ``decided`` fires with the certificate or None."""

    application: str
    listing: ListingState
    applied_at: int
    decided: simpy.Event


class Rights:
    def __init__(self, exchange: Exchange, config: RightsConfig) -> None:
        self.exchange = exchange
        self.config = config
        self.queue: simpy.Store = simpy.Store(exchange.env)
        self._applications = 0

    def apply(self, provider: Identity, listing: ListingState) -> simpy.Event:
        """Record the application and queue it; returns the event of its decision."""
        if listing.provider != provider.id:
            raise MarketError(f"{provider.id} cannot apply for rights over {listing.listing}")
        self._applications += 1
        application_id = f"A{self._applications:06d}"
        body = RightsApplication(
            application=application_id, listing=listing.listing, rights=list(RIGHTS)
        )
        entry = self.exchange.record("rights.application", body, [provider])
        listing.application_pending = True
        decided = self.exchange.env.event()
        self.queue.put(Application(application_id, listing, entry.time, decided))
        return decided

    def next_application(self) -> StoreGet:
        """For assessors: the event of the next application in the queue (FIFO)."""
        return self.queue.get()

    @property
    def backlog(self) -> int:
        return len(self.queue.items)

    def decide(
        self,
        assessor: Identity,
        application: Application,
        approved: bool,
        reasons: Sequence[str],
        review_days: float,
    ) -> CertificateState | None:
        """Record the assessor's decision; an approval issues and signs the certificate."""
        if application.decided.triggered:
            raise MarketError(f"application {application.application} is already decided")
        now = self.exchange.now_s()
        listing = application.listing
        valid_until = now + self.config.certificate_valid_days * 86_400 if approved else now
        certificate_id = f"C-{application.application}" if approved else None
        body = CertificateDecision(
            application=application.application,
            listing=listing.listing,
            approved=approved,
            certificate=certificate_id,
            rights=list(RIGHTS) if approved else [],
            valid_from=now,
            valid_until=valid_until,
            review_days_x1000=round(review_days * 1000),
            reasons=list(reasons),
        )
        entry = self.exchange.record("rights.decision", body, [assessor])
        listing.rights_decided = True
        listing.application_pending = False
        certificate = None
        if certificate_id is not None:
            certificate = CertificateState(
                certificate_id, listing.listing, assessor.id, now, valid_until, entry.seq
            )
            listing.certificate = certificate
            if listing.price_fen is not None:
                self.exchange.offer_changed(listing)
        application.decided.succeed(certificate)
        return certificate
