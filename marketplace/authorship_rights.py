"""The rules of record for rights registration: no certificate without its reviews and notice.

=========================  =====================================================================
``rights.application``     signed by the listing's provider alone; one id, once; a ``change``
                           replaces certificates of that listing that are still in force; a
                           ``derived`` one names licences its provider holds, in their term
``rights.review``          signed by one assessor, for a pending application, once per specialty
``rights.notice``          signed by the operator, for a pending application whose every review
                           so far passed
``rights.objection``       signed by its objector (a provider) alone, against an application
                           under notice (within the window) or a certificate in force
``rights.arbitration``     signed by the operator, on an open dispute, once
``rights.decision``        signed by the operator, for a pending application. An approval needs
                           reviews that all passed, no dispute open or upheld, its notice (if
                           any) over, and issues one certificate per right to the listing's
                           provider, the product-operation one named ``certificate``; a
                           refusal needs a failed review, an upheld objection, a withdrawn
                           listing, replaced certificates or licences that ended meanwhile; a
                           certificate's parents are those it replaces or was licensed
``rights.revocation``      signed by the operator, of a certificate in force
``rights.cancellation``    signed by the certificate's holder alone, of a certificate in force
``rights.refusal``         signed by the operator
``rights.transfer``        signed by the listing's provider, the transferee (who may sell) and
                           the operator; replaces the listing's three certificates in force,
                           each by one to the transferee citing it as parent, from the time
                           of the transfer; a derived product is not transferred
``rights.licence``         signed by the holder of a processing-use certificate in force and by
                           the buyer of a contract for that listing, the licensee; one id, once
=========================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from marketplace import entries as vocab
from marketplace.entries import RIGHTS
from marketplace.entries_rights import LICENSED_RIGHT, TRADING_RIGHT

__all__ = ["RightsRules"]


@dataclass(frozen=True, slots=True)
class _Licence:
    certificate: str
    listing: str
    licensor: str
    licensee: str
    royalty_bp: int
    valid_from: int
    valid_until: int


@dataclass(slots=True)
class _Pending:
    listing: str
    replaces: tuple[str, ...]
    licences: tuple[str, ...] = ()
    reviews: dict[str, bool] = field(default_factory=dict)  # specialty -> passed
    notice_until: int | None = None
    upheld: bool = False


@dataclass(slots=True)
class _Issued:
    listing: str
    holder: str
    right: str
    status: str = "valid"  # valid | revoked | cancelled | superseded


class RightsRules:
    """Registration rules; :class:`MarketRules` provides ``roles``, ``listings``, ``time``,
    ``_account`` and ``_own_listing``."""

    roles: dict[str, str]
    listings: dict[str, str]
    terms: dict[str, tuple[str, str, int, int]]
    contract_listing: dict[str, str]
    withdrawn: dict[str, int]
    time: int

    if TYPE_CHECKING:  # provided by MarketRules

        def _account(self, account: str, role: str) -> str | None: ...

        def _own_listing(
            self, listing: str, actor: str, signers: tuple[str, ...]
        ) -> str | None: ...

    def _init_rights(self) -> None:
        self.applications: dict[str, _Pending] = {}
        self.decided: set[str] = set()
        self.certificates: dict[str, str] = {}  # certificate -> listing
        self.issued: dict[str, _Issued] = {}
        self.trading_of: dict[str, str] = {}  # listing -> its latest product-operation certificate
        self.disputes: dict[str, str | None] = {}  # open dispute -> application it stays
        self.ruled: set[str] = set()
        self.licences: dict[str, _Licence] = {}
        self.derived_from: dict[str, tuple[str, ...]] = {}  # derived listing -> its licences

    def _by_operator(self, signers: tuple[str, ...], what: str) -> str | None:
        if len(signers) != 1 or self.roles.get(signers[0]) != "operator":
            return f"{what} is signed by the operator alone"
        return None

    def trading_in_force(self, listing: str) -> bool:
        """Whether the listing's latest product-operation certificate is still in force."""
        latest = self.trading_of.get(listing)
        return latest is not None and self.in_force(latest)

    def in_force(self, certificate: str) -> bool:
        held = self.issued.get(certificate)
        return held is not None and held.status == "valid"

    def licence_in_force(self, licence: str) -> bool:
        """In its term, its parent certificate neither revoked nor cancelled."""
        terms = self.licences.get(licence)
        if terms is None or not terms.valid_from <= self.time < terms.valid_until:
            return False
        return self.issued[terms.certificate].status not in ("revoked", "cancelled")

    def _rights_application(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsApplication
    ) -> str | None:
        problem = self._own_listing(body.listing, actor, signers)
        if problem is not None:
            return problem
        if body.application in self.applications or body.application in self.decided:
            return f"application {body.application!r} is made twice"
        if (body.registration == "change") != bool(body.replaces):
            return "a change replaces certificates, a first registration none"
        for old in body.replaces:
            if self.certificates.get(old) != body.listing:
                return f"replaces {old!r}, which is no certificate of {body.listing}"
            if not self.in_force(old):
                return f"replaces {old!r}, which is no longer in force"
        if (body.registration == "derived") != bool(body.licences):
            return "a derived product names its licences, other registrations none"
        for licence in body.licences:
            terms = self.licences.get(licence)
            if terms is None or terms.licensee != actor:
                return f"derives under licence {licence!r}, which is not {actor}'s"
            if not self.licence_in_force(licence):
                return f"derives under licence {licence!r}, which is not in force"
        if body.licences:
            self.derived_from[body.listing] = tuple(body.licences)
        self.applications[body.application] = _Pending(
            body.listing, tuple(body.replaces), tuple(body.licences)
        )
        return None

    def _rights_transfer(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsTransfer
    ) -> str | None:
        if len(signers) != 3 or signers[:2] != (body.transferor, body.transferee):
            return "a transfer is signed by its transferor, its transferee and the operator"
        if self.roles.get(signers[2]) != "operator":
            return "a transfer is registered (signed) by the operator"
        problem = self._account(body.transferor, "provider") or self._account(
            body.transferee, "provider"
        )
        if problem is not None:
            return problem
        if self.listings.get(body.listing) != body.transferor:
            return f"listing {body.listing!r} is not {body.transferor}'s to transfer"
        if body.listing in self.withdrawn:
            return f"listing {body.listing!r} was withdrawn"
        if body.listing in self.derived_from:
            return f"{body.listing} is a derived product: its licences are not transferred"
        old: dict[str, str] = {}
        for name in body.replaces:
            held = self.issued.get(name)
            if held is None or held.listing != body.listing or not self.in_force(name):
                return f"transfers {name!r}, which is no certificate of {body.listing} in force"
            old[held.right] = name
        if sorted(old) != sorted(RIGHTS) or len(body.replaces) != len(RIGHTS):
            return "a transfer replaces the listing's three certificates, one per right"
        if sorted(c.right for c in body.certificates) != sorted(RIGHTS):
            return "a transfer issues one certificate for each of the three rights"
        for issued in body.certificates:
            if issued.certificate in self.certificates:
                return f"certificate {issued.certificate!r} is issued twice"
            if issued.holder != body.transferee:
                return f"certificate {issued.certificate!r} is not issued to the transferee"
            if issued.parents != [old[issued.right]]:
                return f"certificate {issued.certificate!r} must cite {old[issued.right]!r}"
            if issued.valid_from != self.time or issued.valid_until < issued.valid_from:
                return f"certificate {issued.certificate!r} does not run from the transfer"
        for name in body.replaces:
            self.issued[name].status = "superseded"
        for issued in body.certificates:
            self.certificates[issued.certificate] = body.listing
            self.issued[issued.certificate] = _Issued(body.listing, issued.holder, issued.right)
            if issued.right == TRADING_RIGHT:
                self.trading_of[body.listing] = issued.certificate
        self.listings[body.listing] = body.transferee
        return None

    def _rights_licence(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsLicence
    ) -> str | None:
        if signers != (body.licensor, body.licensee):
            return "a licence is signed by its licensor, then its licensee"
        problem = self._account(body.licensor, "provider") or self._account(body.licensee, "buyer")
        if problem is not None:
            return problem
        if body.licence in self.licences:
            return f"licence {body.licence!r} is registered twice"
        held = self.issued.get(body.certificate)
        if held is None or held.listing != body.listing or held.right != LICENSED_RIGHT:
            return (
                f"licenses {body.certificate!r}, no {LICENSED_RIGHT} certificate of {body.listing}"
            )
        if held.holder != body.licensor:
            return f"{body.licensor} licenses {body.certificate!r}, which {held.holder} holds"
        if not self.in_force(body.certificate):
            return f"licenses {body.certificate!r}, which is not in force"
        bought = self.terms.get(body.contract)
        if bought is None or bought[0] != body.licensee:
            return f"contract {body.contract!r} is not {body.licensee}'s"
        if self.contract_listing.get(body.contract) != body.listing:
            return f"contract {body.contract!r} is not for {body.listing}"
        if not body.valid_from <= self.time < body.valid_until:
            return "a licence is registered within its term"
        if body.sharing is not None and body.royalty_bp != body.sharing.royalty_bp:
            return (
                f"royalty {body.royalty_bp} bp, but its share {body.sharing.share_ppm} ppm of "
                f"the {body.sharing.pool_bp} bp pool gives {body.sharing.royalty_bp} bp"
            )
        self.licences[body.licence] = _Licence(
            body.certificate,
            body.listing,
            body.licensor,
            body.licensee,
            body.royalty_bp,
            body.valid_from,
            body.valid_until,
        )
        return None

    def _rights_review(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsReview
    ) -> str | None:
        if len(signers) != 1 or self.roles.get(signers[0]) != "assessor":
            return "a review is signed by one assessor"
        pending = self.applications.get(body.application)
        if pending is None:
            return f"reviews application {body.application!r}, which is not pending"
        if body.specialty in pending.reviews:
            return f"application {body.application!r} is reviewed for {body.specialty} twice"
        pending.reviews[body.specialty] = body.passed
        return None

    def _rights_notice(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsNotice
    ) -> str | None:
        problem = self._by_operator(signers, "a notice")
        if problem is not None:
            return problem
        pending = self.applications.get(body.application)
        if pending is None or pending.listing != body.listing:
            return f"publishes application {body.application!r}, which is not pending"
        if not pending.reviews or not all(pending.reviews.values()):
            return f"publishes application {body.application!r} before it passed review"
        if body.notice_until < body.notice_from:
            return "the notice ends before it begins"
        pending.notice_until = body.notice_until
        return None

    def _rights_objection(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsObjection
    ) -> str | None:
        if signers != (body.objector,):
            return "an objection is signed by its objector alone"
        problem = self._account(body.objector, "provider")
        if problem is not None:
            return problem
        if body.dispute in self.disputes or body.dispute in self.ruled:
            return f"dispute {body.dispute!r} is opened twice"
        if (body.application is None) == (body.certificate is None):
            return "an objection is to an application or to a certificate"
        if body.application is not None:
            pending = self.applications.get(body.application)
            if pending is None or pending.notice_until is None:
                return f"objects to application {body.application!r}, which is not under notice"
            if self.time > pending.notice_until:
                return f"objects to application {body.application!r} after its notice ended"
        elif body.certificate is not None and not self.in_force(body.certificate):
            return f"objects to certificate {body.certificate!r}, which is not in force"
        self.disputes[body.dispute] = body.application
        return None

    def _rights_arbitration(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsArbitration
    ) -> str | None:
        problem = self._by_operator(signers, "an arbitration")
        if problem is not None:
            return problem
        if body.dispute not in self.disputes:
            return f"rules on dispute {body.dispute!r}, which is not open"
        application = self.disputes.pop(body.dispute)
        self.ruled.add(body.dispute)
        if application is not None and body.upheld and application in self.applications:
            self.applications[application].upheld = True
        return None

    def _rights_decision(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.CertificateDecision
    ) -> str | None:
        problem = self._by_operator(signers, "a registration decision")
        if problem is not None:
            return problem
        pending = self.applications.pop(body.application, None)
        if pending is None:
            return f"decides application {body.application!r}, which is not pending"
        self.decided.add(body.application)
        if pending.listing != body.listing:
            return f"application {body.application!r} is for {pending.listing}, not {body.listing}"
        if body.approved != (body.certificate is not None):
            return "an approval issues a certificate, a refusal none"
        if body.valid_until < body.valid_from:
            return "the certificate ends before it begins"
        if not body.approved:
            moot = (
                body.listing in self.withdrawn
                or not all(self.in_force(old) for old in pending.replaces)
                or not all(self.licence_in_force(licence) for licence in pending.licences)
            )
            if pending.upheld or not all(pending.reviews.values()) or moot:
                return None
            return "refuses an application that failed no review and no objection"
        return self._approval(body, pending)

    def _approval(self, body: vocab.CertificateDecision, pending: _Pending) -> str | None:
        if not pending.reviews or not all(pending.reviews.values()):
            return f"approves application {body.application!r} without every review passed"
        if pending.upheld:
            return f"approves application {body.application!r} after an objection was upheld"
        if body.application in self.disputes.values():
            return f"approves application {body.application!r} while a dispute is open"
        if pending.notice_until is not None and self.time < pending.notice_until:
            return f"approves application {body.application!r} before its notice ended"
        if sorted(c.right for c in body.certificates) != sorted(RIGHTS):
            return "an approval issues one certificate for each of the three rights"
        holder = self.listings.get(body.listing)
        trading = None
        for issued in body.certificates:
            if issued.certificate in self.certificates:
                return f"certificate {issued.certificate!r} is issued twice"
            if issued.holder != holder:
                return (
                    f"certificate {issued.certificate!r} is issued to {issued.holder}, not {holder}"
                )
            licensed = {self.licences[licence].certificate for licence in pending.licences}
            if not set(issued.parents) <= set(pending.replaces) | licensed:
                return (
                    f"certificate {issued.certificate!r} names parents it neither replaces "
                    "nor was licensed"
                )
            if issued.right == TRADING_RIGHT:
                trading = issued.certificate
        if body.certificate != trading:
            return "``certificate`` names the product-operation certificate"
        for licence in pending.licences:
            if not self.licence_in_force(licence):
                return f"approves a product derived under {licence!r}, which ended meanwhile"
        for old in pending.replaces:
            if not self.in_force(old):
                return f"replaces {old!r}, which ended while the change was under review"
            self.issued[old].status = "superseded"
        for issued in body.certificates:
            self.certificates[issued.certificate] = body.listing
            self.issued[issued.certificate] = _Issued(body.listing, issued.holder, issued.right)
            if issued.right == TRADING_RIGHT:
                self.trading_of[body.listing] = issued.certificate
        return None

    def _ended(self, body: vocab.CertificateEnded, status: str) -> str | None:
        if self.certificates.get(body.certificate) != body.listing:
            return f"ends {body.certificate!r}, which is no certificate of {body.listing}"
        if not self.in_force(body.certificate):
            return f"ends {body.certificate!r}, which is no longer in force"
        self.issued[body.certificate].status = status
        return None

    def _rights_revocation(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.CertificateEnded
    ) -> str | None:
        return self._by_operator(signers, "a revocation") or self._ended(body, "revoked")

    def _rights_cancellation(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.CertificateEnded
    ) -> str | None:
        held = self.issued.get(body.certificate)
        if held is not None and signers != (held.holder,):
            return f"a cancellation is signed by the holder {held.holder} alone"
        return self._ended(body, "cancelled")

    def _rights_refusal(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.RightsRefusal
    ) -> str | None:
        return self._by_operator(signers, "a refusal")
