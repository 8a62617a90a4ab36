"""The cross-border part of the exchange's vocabulary: facts about exporters and transfers, the
requirements a policy set, and the clearance steps that meet them.

A mechanism is obtained in two signed steps. The exporter (the provider) files a
``crossborder.application`` — with the recipient (the buyer) co-signing when the mechanism is a
contract between them (the PRC standard contract, GDPR standard contractual clauses). Then the
body that decides signs a ``crossborder.decision``: the regulator for a security assessment or a
standard-contract filing, a certifier for a certification, the exporter itself (with the
recipient for clauses) for mechanisms it carries out alone once their lead time has run. An
approved decision is an approval for that exporter, recipient and mechanism, valid
``[valid_from, valid_until)``: it covers every later transfer between them until it expires.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MECHANISM_ROUTES",
    "ClearanceApplication",
    "ClearanceDecision",
    "ExporterFacts",
    "Purpose",
    "RequirementTerms",
    "Route",
    "TransferTerms",
    "UsCategory",
    "UsTransaction",
]

NonNegative = Annotated[int, Field(ge=0)]
Purpose = Literal["general", "contract", "hr", "emergency"]
UsCategory = Literal[
    "genomic", "biometric", "precise_geolocation", "health", "financial", "identifiers"
]
UsTransaction = Literal["data-brokerage", "vendor", "employment", "investment", "other"]
Safeguard = Literal["sccs", "bcrs", "code", "certification"]
Derogation = Literal[
    "explicit-consent",
    "contract",
    "public-interest",
    "legal-claims",
    "vital-interests",
    "public-register",
]
#: Who obtains a mechanism: the regulator's assessment staff, its filing desk, a certifier, or
#: the exporter itself.
Route = Literal["assessment", "filing", "certification", "self"]
MECHANISM_ROUTES: tuple[Route, ...] = ("assessment", "filing", "certification", "self")


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExporterFacts(_Body):
    """What the transfer facts need to know of the exporter (a provider)."""

    ciio: bool = False
    ftz: Literal["beijing", "tianjin", "shanghai"] | None = None
    people: NonNegative = 0  # people whose PI it processes in all (its population)
    gdpr_art3_2: bool = False


class TransferTerms(_Body):
    """What the order says about the transfer: why the data goes, and who receives it."""

    purpose: Purpose = "general"
    dpf_certified: bool = False
    covered_person: bool = False
    safeguard: Safeguard | None = None
    derogation: Derogation | None = None
    us_transaction: UsTransaction = "vendor"


class RequirementTerms(_Body):
    """One policy pack's requirement on a contract: any one of ``any_of`` meets it."""

    pack: str
    any_of: list[str] = Field(min_length=1)
    rules: list[str]
    lead_time_days: NonNegative


class ClearanceApplication(_Body):
    """The exporter applies for (or starts) a mechanism for transfers to one recipient."""

    application: str
    mechanism: str
    route: Route
    exporter: str
    recipient: str
    contract: str  # the contract that needed it
    pack: str
    renewal: bool = False


class ClearanceDecision(_Body):
    """The deciding body's decision on an application; an approval covers later transfers of
    the same exporter and recipient until ``valid_until``."""

    application: str
    mechanism: str
    exporter: str
    recipient: str
    approved: bool
    approval: str | None
    valid_from: NonNegative
    valid_until: NonNegative
    working_days: NonNegative
    reasons: list[str]
