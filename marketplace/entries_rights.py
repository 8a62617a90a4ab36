"""The rights-registration part of the vocabulary (:mod:`marketplace.entries`): applications,
reviews, notices, objections, arbitration, decisions and the certificates they issue."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "TRADING_RIGHT",
    "CertificateDecision",
    "CertificateEnded",
    "IssuedCertificate",
    "Registration",
    "RightsApplication",
    "RightsArbitration",
    "RightsNotice",
    "RightsObjection",
    "RightsRefusal",
    "RightsReview",
    "Specialty",
]

NonNegative = Annotated[int, Field(ge=0)]
#: The right whose certificate a listing trades under (resource holding and processing-use
#: certificates are issued with it, but do not license sales).
TRADING_RIGHT = "product-operation"


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Specialty = Literal["compliance", "legal", "quality"]
Registration = Literal["first", "change"]


class RightsApplication(_Body):
    """Rights: a provider applies for confirmation of the three rights over a listing: a
    ``first`` registration, or a ``change`` of the certificates it holds (a renewal of their
    term), which supersede the ones named in ``replaces`` once approved."""

    application: str
    listing: str
    rights: list[str]
    registration: Registration = "first"
    replaces: list[str] = Field(default_factory=list)


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

    action: Literal["revoke", "cancel", "renew"]
    certificate: str
    listing: str
    state: str
    reason: str
