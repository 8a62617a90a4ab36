"""Stage 2, rights registration: the three data rights, reviewed, published and certified.

A provider applies for registration of the three data rights over a listing — resource holding,
processing and use, product operation ("Data 20 Articles": Opinions of the CPC Central Committee
and the State Council on Building a Data Basic System to Better Give Play to the Role of Data
Elements, Dec 2022, Art. 3-5). The flow follows the steps exchanges publish (Shandong: evidence
filing, application, review, public notice, certificate; the National Data Administration's
draft Data Property Rights Registration Work Guidelines, 3 April 2026, set out the same procedure
and registration types nationally):

1. the application (its evidence filed with it) enters the first review step's queue;
2. each step (``RightsConfig.steps``: compliance, legal, quality) is a queue served by the
   assessors of that specialty; a failed step refuses the application;
3. the registry publishes the application for ``notice_days``; a third party may object, and
   the dispute goes to arbitration; an upheld objection refuses the application;
4. the registry decides and issues one certificate per right, each with its holder, term and
   parents (a change registration supersedes the certificates it replaces).

A data merchant that bought a licence of a listing's data registers the licence (the holder of
its processing-use certificate grants processing and use, for a term and a royalty), and its
derived product registers as ``derived``: its certificates cite the licensed certificates as
parents. Issued certificates may later be disputed (a claim, arbitrated the same way: upheld revokes
them), or cancelled by their holder. A revoked or cancelled certificate stops listing, new trades
and deliveries under it. Acts the certificate's state forbids are refused and recorded
(:mod:`marketplace.rights_states`).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.resources.store import StoreGet

from ledger import Identity
from marketplace.config import RightsConfig
from marketplace.entries import (
    RIGHTS,
    CertificateDecision,
    CertificateEnded,
    IssuedCertificate,
    Registration,
    RightsApplication,
    RightsArbitration,
    RightsLicence,
    RightsNotice,
    RightsObjection,
    RightsRefusal,
    RightsReview,
    Specialty,
)
from marketplace.entries_rights import (
    LICENSED_RIGHT,
    TRADING_RIGHT,
    RightsTransfer,
    SharingTerms,
)
from marketplace.errors import MarketError
from marketplace.rights_states import Action, refusal
from marketplace.state import CertificateState, ContractState, LicenceState, ListingState

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["Application", "Rights"]

SECONDS_PER_DAY = 86_400
#: Certificate ids end in the right they certify.
_SUFFIX = {"holding": "H", "processing-use": "P", "product-operation": "O"}


@dataclass(slots=True)
class Application:
    """An application on its way through review; ``decided`` fires with the product-operation
    certificate, or None when it is refused."""

    application: str
    listing: ListingState
    applied_at: int
    decided: simpy.Event
    registration: Registration = "first"
    replaces: tuple[str, ...] = ()
    step: int = 0
    review_days: float = 0.0
    reasons: list[str] = field(default_factory=list)


class Rights:
    def __init__(
        self, exchange: Exchange, config: RightsConfig, rng: np.random.Generator | None = None
    ) -> None:
        self.exchange = exchange
        self.config = config
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.queues: dict[Specialty, simpy.Store] = {
            step: simpy.Store(exchange.env) for step in config.steps
        }
        self.certificates: dict[str, CertificateState] = {}
        self._applications = 0
        self._disputes = 0
        self._licences = 0
        self._transfers = 0

    # -- applying -------------------------------------------------------------------------
    def apply(self, provider: Identity, listing: ListingState) -> simpy.Event:
        """Record the application and queue it for its first review; returns the event of its
        decision. A listing that holds certificates applies to change them (a renewal); one
        whose certificates were revoked or cancelled is refused, and the refusal recorded."""
        if listing.provider != provider.id:
            raise MarketError(f"{provider.id} cannot apply for rights over {listing.listing}")
        decided = self.exchange.env.event()
        held = sorted(listing.certificates.values(), key=lambda c: c.certificate)
        now = self.exchange.now_s()
        for certificate in held:
            if self._refused(certificate, "renew", now):
                decided.succeed(None)
                return decided
        lapsed = [lic for lic in listing.licences if not lic.in_force(now)]
        if lapsed and not held:
            self._record_refusal(
                lapsed[0].certificate,
                "license",
                now,
                f"the licence {lapsed[0].licence} it would derive under has ended",
            )
            decided.succeed(None)
            return decided
        registration: Registration = "change" if held else "derived" if listing.derived else "first"
        self._applications += 1
        application_id = f"A{self._applications:06d}"
        replaces = tuple(c.certificate for c in held)
        body = RightsApplication(
            application=application_id,
            listing=listing.listing,
            rights=list(RIGHTS),
            registration=registration,
            replaces=list(replaces),
            licences=[licence.licence for licence in listing.licences] if not held else [],
        )
        entry = self.exchange.record("rights.application", body, [provider])
        self.exchange.charge_fee(provider.id, "assessment", application_id)
        listing.application_pending = True
        application = Application(
            application_id, listing, entry.time, decided, registration, replaces
        )
        self.queues[self.config.steps[0]].put(application)
        return decided

    def next_application(self, specialty: Specialty | None = None) -> StoreGet:
        """For assessors of ``specialty`` (the first step's by default): the event of the next
        application waiting for that review (first come, first served)."""
        return self.queues[specialty or self.config.steps[0]].get()

    @property
    def backlog(self) -> int:
        """Applications waiting for a review, over every step."""
        return sum(len(queue.items) for queue in self.queues.values())

    def backlog_of(self, specialty: Specialty) -> int:
        return len(self.queues[specialty].items)

    # -- review, notice, decision ----------------------------------------------------------
    def review(
        self,
        assessor: Identity,
        application: Application,
        passed: bool,
        reasons: Sequence[str],
        review_days: float,
    ) -> None:
        """Record one step's review. A failed step refuses the application; a passed one sends
        it to the next step, or to public notice after the last."""
        if application.decided.triggered:
            raise MarketError(f"application {application.application} is already decided")
        step = self.config.steps[application.step]
        body = RightsReview(
            application=application.application,
            specialty=step,
            passed=passed,
            reasons=list(reasons),
            review_days_x1000=round(review_days * 1000),
        )
        self.exchange.record("rights.review", body, [assessor])
        application.review_days += review_days
        application.reasons += [f"{step}: {reason}" for reason in reasons]
        if not passed:
            self._decide(application, approved=False)
            return
        application.step += 1
        if application.step < len(self.config.steps):
            self.queues[self.config.steps[application.step]].put(application)
        elif self.config.notice_days > 0:
            self.exchange.env.process(self._publish(application))
        else:
            self._decide(application, approved=True)

    def _publish(self, application: Application) -> Generator[simpy.Event, Any, None]:
        """Process: the public notice, an objection if a third party raises one, its
        arbitration, then the decision once the notice is over."""
        exchange, config = self.exchange, self.config
        start = exchange.now_s()
        until = start + round(config.notice_days * SECONDS_PER_DAY)
        body = RightsNotice(
            application=application.application,
            listing=application.listing.listing,
            notice_from=start,
            notice_until=until,
        )
        exchange.record("rights.notice", body, [exchange.operator])
        objects = self.rng.random() * 10_000 < config.objection_bp
        at = float(self.rng.random()) * config.notice_days
        if objects:
            yield exchange.env.timeout(at)
            upheld = yield exchange.env.process(
                self._dispute(application.listing, application.application, None)
            )
            if upheld:
                application.reasons.append("an objection to the notice was upheld")
                self._decide(application, approved=False)
                return
        left = (until - exchange.now_s()) / SECONDS_PER_DAY
        if left > 0:
            yield exchange.env.timeout(left)
        self._decide(application, approved=True)

    def _dispute(
        self, listing: ListingState, application: str | None, certificate: str | None
    ) -> Generator[simpy.Event, Any, bool]:
        """Process: a third party (another provider) objects; arbitration rules on it.
        Returns whether the objection was upheld (False when there is nobody to object)."""
        exchange = self.exchange
        rivals = sorted(
            identity_id
            for identity_id, identity in exchange.identities.items()
            if identity.role == "provider" and identity_id != listing.provider
        )
        if not rivals:
            return False
        objector = rivals[int(self.rng.random() * len(rivals))]
        self._disputes += 1
        dispute = f"D{self._disputes:06d}"
        body = RightsObjection(
            dispute=dispute,
            application=application,
            certificate=certificate,
            objector=objector,
            grounds=f"{objector} claims rights over the data of {listing.listing}",
        )
        exchange.record("rights.objection", body, [exchange.identities[objector]])
        days = self.config.arbitration_days.sample(self.rng)
        upheld = bool(self.rng.random() * 10_000 < self.config.upheld_bp)
        yield exchange.env.timeout(days)
        ruling = RightsArbitration(dispute=dispute, upheld=upheld, days_x1000=round(days * 1000))
        exchange.record("rights.arbitration", ruling, [exchange.operator])
        if upheld and certificate is not None:
            for held in list(listing.certificates.values()):
                self.revoke(held, f"dispute {dispute} upheld", dispute)
        return upheld

    def _decide(self, application: Application, *, approved: bool) -> None:
        exchange = self.exchange
        now = exchange.now_s()
        listing = application.listing
        if approved and listing.withdrawn_at is not None:
            approved = False
            application.reasons.append("the listing was withdrawn during registration")
        ended = [c for c in application.replaces if self.certificates[c].status != "valid"]
        if approved and ended:
            approved = False
            application.reasons.append(f"the certificates it changes ended: {', '.join(ended)}")
        derived = application.registration == "derived"
        lapsed = [lic.licence for lic in listing.licences if derived and not lic.in_force(now)]
        if approved and lapsed:
            approved = False
            application.reasons.append(f"the licences it derives under ended: {', '.join(lapsed)}")
        valid_until = (
            now + self.config.certificate_valid_days * SECONDS_PER_DAY if approved else now
        )
        if approved and listing.derived:  # a derived product's term is its licences'
            valid_until = min([valid_until] + [lic.valid_until for lic in listing.licences])
        licensed = [lic.certificate.certificate for lic in listing.licences] if derived else []
        issued = (
            [
                IssuedCertificate(
                    certificate=f"C-{application.application}-{_SUFFIX[right]}",
                    right=right,
                    holder=listing.provider,
                    valid_from=now,
                    valid_until=valid_until,
                    parents=[c for c in application.replaces if self.certificates[c].right == right]
                    + licensed,
                )
                for right in RIGHTS
            ]
            if approved
            else []
        )
        trading = next((c.certificate for c in issued if c.right == TRADING_RIGHT), None)
        body = CertificateDecision(
            application=application.application,
            listing=listing.listing,
            approved=approved,
            certificate=trading,
            rights=list(RIGHTS) if approved else [],
            valid_from=now,
            valid_until=valid_until,
            review_days_x1000=round(application.review_days * 1000),
            reasons=application.reasons or (["every review passed"] if approved else []),
            certificates=issued,
        )
        entry = exchange.record("rights.decision", body, [exchange.operator])
        listing.rights_decided = True
        listing.application_pending = False
        if not approved:
            application.decided.succeed(None)
            return
        for replaced in application.replaces:
            old = self.certificates[replaced]
            if old.status == "valid":
                old.status, old.ended_at = "superseded", now
        for terms in issued:
            state = CertificateState(
                terms.certificate,
                listing.listing,
                terms.right,
                terms.holder,
                now,
                valid_until,
                entry.seq,
                tuple(terms.parents),
            )
            self.certificates[terms.certificate] = state
            listing.certificates[terms.right] = state
        listing.certificate = listing.certificates[TRADING_RIGHT]
        if listing.price_fen is not None:
            exchange.offer_changed(listing)
        first = application.registration == "first"
        if first and self.config.claim_bp and self.rng.random() * 10_000 < self.config.claim_bp:
            exchange.env.process(self._claim_later(listing))
        application.decided.succeed(listing.certificate)

    def _claim_later(self, listing: ListingState) -> Generator[simpy.Event, Any, None]:
        """Process: a third party's later claim over a listing's data, against the certificate
        in force when it is raised (a change may have superseded the one first issued)."""
        yield self.exchange.env.timeout(self.rng.exponential(self.config.claim_after_days))
        certificate = listing.certificate
        if certificate is not None and certificate.valid_at(self.exchange.now_s()):
            yield self.exchange.env.process(self._dispute(listing, None, certificate.certificate))

    # -- licences ------------------------------------------------------------------------
    def license(
        self,
        licensee: Identity,
        contract: ContractState,
        royalty_bp: int,
        days: int,
        sharing: SharingTerms | None = None,
    ) -> LicenceState | None:
        """Register a licence of the processing-use right over ``contract``'s data to its
        buyer ``licensee``, for ``days`` and ``royalty_bp`` of the licensee's takings from
        what it derives; signed by the certificate's holder and the licensee. None, with the
        refusal recorded, when that certificate is not in force."""
        exchange = self.exchange
        listing = contract.listing
        if contract.buyer != licensee.id:
            raise MarketError(f"{licensee.id} did not buy {contract.contract}")
        certificate = listing.certificates.get(LICENSED_RIGHT)
        if certificate is None:
            raise MarketError(f"{listing.listing} has no {LICENSED_RIGHT} certificate")
        now = exchange.now_s()
        if self._refused(certificate, "license", now):
            return None
        self._licences += 1
        until = now + days * SECONDS_PER_DAY
        body = RightsLicence(
            licence=f"L{self._licences:06d}",
            certificate=certificate.certificate,
            listing=listing.listing,
            licensor=certificate.holder,
            licensee=licensee.id,
            contract=contract.contract,
            royalty_bp=royalty_bp,
            valid_from=now,
            valid_until=until,
            sharing=sharing,
        )
        entry = exchange.record(
            "rights.licence", body, [exchange.identities[certificate.holder], licensee]
        )
        return LicenceState(
            body.licence,
            certificate,
            listing.listing,
            certificate.holder,
            licensee.id,
            royalty_bp,
            now,
            until,
            entry.seq,
        )

    # -- transfers -----------------------------------------------------------------------
    def transfer(
        self, transferor: Identity, transferee: Identity, listing: ListingState, price_fen: int
    ) -> bool:
        """Register the sale of ``listing``'s rights to ``transferee`` for ``price_fen``: new
        certificates to the transferee (each citing the one it replaces, its term unchanged),
        the old ones superseded, the price paid, the listing the transferee's from now. False,
        the refusal recorded, when a certificate is not in force. Only a listing sold at a
        posted price is transferred, and no derived product (its licences bind the merchant
        that holds them). Hosting accrued in the current billing period is billed to whoever
        holds the listing at the bill."""
        exchange = self.exchange
        if listing.provider != transferor.id or listing.withdrawn_at is not None:
            raise MarketError(f"{transferor.id} cannot transfer {listing.listing}")
        if listing.derived or not exchange.accounts.can_pay(transferee.id, price_fen):
            raise MarketError(f"{transferee.id} cannot take over {listing.listing}")
        if listing.price_fen is None or exchange.trading.view(listing).kind != "posted":
            # resting asks and negotiations are the seller's own: only a posted price passes
            raise MarketError(f"{listing.listing} is not sold at a posted price")
        now = exchange.now_s()
        held = [listing.certificates[right] for right in RIGHTS if right in listing.certificates]
        if len(held) != len(RIGHTS):
            raise MarketError(f"{listing.listing} holds no certificates to transfer")
        for certificate in held:
            if self._refused(certificate, "transfer", now):
                return False
        self._transfers += 1
        number = f"T{self._transfers:06d}"
        issued = [
            IssuedCertificate(
                certificate=f"C-{number}-{_SUFFIX[old.right]}",
                right=old.right,
                holder=transferee.id,
                valid_from=now,
                valid_until=old.valid_until,
                parents=[old.certificate],
            )
            for old in held
        ]
        body = RightsTransfer(
            transfer=number,
            listing=listing.listing,
            transferor=transferor.id,
            transferee=transferee.id,
            price_fen=price_fen,
            replaces=[old.certificate for old in held],
            certificates=issued,
        )
        entry = exchange.record(
            "rights.transfer", body, [transferor, transferee, exchange.operator]
        )
        exchange.accounts.move(transferee.id, transferor.id, price_fen)
        for old in held:
            old.status, old.ended_at = "superseded", now
        for terms in issued:
            state = CertificateState(
                terms.certificate,
                listing.listing,
                terms.right,
                terms.holder,
                now,
                terms.valid_until,
                entry.seq,
                tuple(terms.parents),
            )
            self.certificates[terms.certificate] = state
            listing.certificates[terms.right] = state
        listing.certificate = listing.certificates[TRADING_RIGHT]
        listing.provider = transferee.id
        exchange.offer_changed(listing)
        exchange.transferred(listing)
        return True

    # -- ending certificates ---------------------------------------------------------------
    def revoke(
        self, certificate: CertificateState, reason: str, dispute: str | None = None
    ) -> bool:
        """The registry revokes ``certificate`` (True), or records why it may not (False)."""
        return self._end(certificate, "revoke", reason, dispute, self.exchange.operator)

    def cancel(self, holder: Identity, certificate: CertificateState, reason: str) -> bool:
        """Its holder gives ``certificate`` up (True), or the registry records why it may not."""
        if certificate.holder != holder.id:
            raise MarketError(f"{holder.id} does not hold {certificate.certificate}")
        return self._end(certificate, "cancel", reason, None, holder)

    def _end(
        self,
        certificate: CertificateState,
        action: Action,
        reason: str,
        dispute: str | None,
        signer: Identity,
    ) -> bool:
        exchange = self.exchange
        now = exchange.now_s()
        if self._refused(certificate, action, now):
            return False
        body = CertificateEnded(
            certificate=certificate.certificate,
            listing=certificate.listing,
            reason=reason,
            dispute=dispute,
        )
        kind = "rights.revocation" if action == "revoke" else "rights.cancellation"
        exchange.record(kind, body, [signer])
        certificate.status = "revoked" if action == "revoke" else "cancelled"
        certificate.ended_at = now
        listing = exchange.listings[certificate.listing]
        if listing.price_fen is not None and listing.certificate is certificate:
            exchange.offer_changed(listing)  # the catalogue shows it uncertified from now
        return True

    def _refused(self, certificate: CertificateState, action: Action, now: int) -> bool:
        """Record and return True when ``certificate``'s state forbids ``action``."""
        reason = refusal(certificate.state_at(now), action)
        if reason is None:
            return False
        self._record_refusal(certificate, action, now, reason)
        return True

    def _record_refusal(
        self, certificate: CertificateState, action: Action, now: int, reason: str
    ) -> None:
        body = RightsRefusal(
            action=action,
            certificate=certificate.certificate,
            listing=certificate.listing,
            state=certificate.state_at(now),
            reason=reason,
        )
        self.exchange.record("rights.refusal", body, [self.exchange.operator])
