"""The rights-registration part of the vocabulary (:mod:`marketplace.entries`): applications,
reviews, notices, objections, arbitration, decisions and the certificates they issue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LICENSED_RIGHT",
    "TRADING_RIGHT",
    "CertificateDecision",
    "CertificateEnded",
    "IssuedCertificate",
    "Registration",
    "RightsApplication",
    "RightsArbitration",
    "RightsLicence",
    "RightsNotice",
    "RightsObjection",
    "RightsRefusal",
    "RightsReview",
    "RightsTransfer",
    "SharingTerms",
    "Specialty",
]

NonNegative = Annotated[int, Field(ge=0)]
#: The right whose certificate a listing trades under (resource holding and processing-use
#: certificates are issued with it, but do not license sales).
TRADING_RIGHT = "product-operation"
#: The right a licence grants another party (``rights.licence``): processing and use.
LICENSED_RIGHT = "processing-use"


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Specialty = Literal["compliance", "legal", "quality"]
#: ``first``: data registered for the first time; ``change``: a renewal or new version of the
#: certificates in force; ``derived``: a product made under licences of other parties' data.
Registration = Literal["first", "change", "derived"]


class RightsApplication(_Body):
    """Rights: a provider applies for confirmation of the three rights over a listing: a
    ``first`` registration, a ``change`` of the certificates it holds (a renewal of their
    term), which supersede the ones named in ``replaces`` once approved, or a ``derived``
    product's registration, made under the ``licences`` it names."""

    application: str
    listing: str
    rights: list[str]
    registration: Registration = "first"
    replaces: list[str] = Field(default_factory=list)
    #: A derived product's licences (``rights.licence``): the parents its certificates cite.
    licences: list[str] = Field(default_factory=list)


class RightsReview(_Body):
    """Rights: one specialty's assessment of an application (compliance, legal, quality: the
    review step of registration), signed by the assessor who made it."""

    application: str
    specialty: Specialty
    passed: bool
    reasons: list[str]
    review_days_x1000: NonNegative


class RightsNotice(_Body):
    """Rights: the registry publishes an application that passed review, for objections, from
    ``notice_from`` until ``notice_until`` (the public-notice step)."""

    application: str
    listing: str
    notice_from: NonNegative
    notice_until: NonNegative


class RightsObjection(_Body):
    """Rights: a third party claims rights over the data of an application under notice, or of
    a certificate already issued (``certificate``); a dispute opens, for arbitration."""

    dispute: str
    application: str | None
    certificate: str | None
    objector: str
    grounds: str


class RightsArbitration(_Body):
    """Rights: the exchange's dispute resolution rules on a dispute: an ``upheld`` objection
    refuses the application, or revokes the certificate it named."""

    dispute: str
    upheld: bool
    days_x1000: NonNegative


class IssuedCertificate(_Body):
    """One right's certificate: who holds it, for how long, and the certificates it derives
    from (the ones a change supersedes: its provenance)."""

    certificate: str
    right: str
    holder: str
    valid_from: NonNegative
    valid_until: NonNegative
    parents: list[str]


class CertificateDecision(_Body):
    """Rights: the registry's decision on an application, once every review step is done and
    its notice has passed without an upheld objection. An approval issues one certificate per
    right (``certificates``); ``certificate`` names the product-operation one, which trades."""

    application: str
    listing: str
    approved: bool
    certificate: str | None
    rights: list[str]
    valid_from: NonNegative
    valid_until: NonNegative
    review_days_x1000: NonNegative
    reasons: list[str]
    certificates: list[IssuedCertificate] = Field(default_factory=list)


class CertificateEnded(_Body):
    """Rights: a certificate ends before its term. ``revocation``: the registry revokes it (an
    upheld dispute); ``cancellation``: its holder gives it up (a listing withdrawn). Either stops
    new trades and deliveries under it."""

    certificate: str
    listing: str
    reason: str
    dispute: str | None = None


class RightsRefusal(_Body):
    """Rights: the registry refuses a registration act the certificate's state does not allow
    (renewing a revoked certificate, cancelling one already ended...), and says why."""

    action: Literal["revoke", "cancel", "renew", "license", "transfer"]
    certificate: str
    listing: str
    state: str
    reason: str


PPM = 1_000_000


class SharingTerms(_Body):
    """How a licence's royalty was set when its data is one source of a bundle: the product's
    royalty pool (``pool_bp`` of the merchant's takings) is shared among its ``sources`` by
    ``rule`` — a sole source takes it all; otherwise each source's sampled Shapley value
    (Ghorbani & Zou, ICML 2019), or its replication-robust discount (Agarwal, Dahleh & Sarkar,
    ACM EC 2019, Algorithm 3), over ``permutations`` permutations, each share within
    ``error_ppm`` of the exact one with probability 95 %. This licence's royalty is
    ``pool_bp × share_ppm / 10⁶`` bp, rounded down."""

    pool_bp: Annotated[int, Field(ge=0, le=10_000)]
    share_ppm: Annotated[int, Field(ge=0, le=PPM)]
    rule: Literal["sole", "shapley", "shapley-robust"]
    sources: Annotated[int, Field(ge=1)]
    permutations: NonNegative = 0
    error_ppm: NonNegative = 0

    @property
    def royalty_bp(self) -> int:
        return self.pool_bp * self.share_ppm // PPM

    @classmethod
    def of(cls, pool_bp: int, share: float, shares: Any, sources: int) -> SharingTerms:
        """From a :class:`marketplace.valuation.BundleShares` and this source's share."""
        return cls(
            pool_bp=pool_bp,
            share_ppm=min(PPM, max(0, round(share * PPM))),
            rule="sole" if sources == 1 else shares.rule,
            sources=sources,
            permutations=shares.permutations,
            error_ppm=round(shares.error * PPM),
        )


class RightsLicence(_Body):
    """Rights: a licence registration. The holder of a processing-use certificate grants
    processing and use of the data to another party (a data merchant) from ``valid_from`` until
    ``valid_until``, for the price of ``contract`` (the licensee's purchase) and a royalty of
    ``royalty_bp`` on what the licensee earns from products derived under it. Signed by the
    licensor and the licensee ("Data 20 Articles", Art. 5: processing-use rights may be licensed
    by agreement; NDA draft Registration Guidelines, 2026: licence registrations)."""

    licence: str
    certificate: str
    listing: str
    licensor: str
    licensee: str
    contract: str
    royalty_bp: Annotated[int, Field(ge=0, le=10_000)]
    valid_from: NonNegative
    valid_until: NonNegative
    sharing: SharingTerms | None = None  # a bundle's source: how its royalty was shared


class RightsTransfer(_Body):
    """Rights: a transfer registration. The holder of a listing's certificates (``transferor``)
    transfers its rights over the data to ``transferee`` for ``price_fen``: the registry
    issues the transferee new certificates (``certificates``, each citing the one it replaces
    as parent) and the old ones are superseded. Signed by the transferor, the transferee and
    the operator (the registry); from it on, the listing is the transferee's to sell ("Data 20
    Articles", Art. 5 and 7: data property rights may circulate by transfer; NDA draft
    Registration Guidelines, 2026: transfer registrations)."""

    transfer: str
    listing: str
    transferor: str
    transferee: str
    price_fen: NonNegative
    replaces: list[str]
    certificates: list[IssuedCertificate]
