"""The exchange's working state: datasets, listings, certificates, contracts.

These are the simulator's in-memory view; each change to them is also an entry on the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import simpy

from marketplace.crossborder_hook import Requirement
from marketplace.entries_crossborder import ExporterFacts, TransferTerms, UsCategory
from marketplace.exports import Subjects

__all__ = [
    "CertificateState",
    "CertificateStatus",
    "ContractState",
    "DatasetSpec",
    "LicenceState",
    "ListingState",
    "Offer",
    "Order",
]

Classification = Literal["general", "important", "core"]
Licence = Literal["download", "api", "compute-in-place"]


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """What a provider brings to the exchange (drawn from the scenario's population spec)."""

    dataset: str
    category: str
    size_mb: int
    records: int
    pi_subjects: int
    sensitive_pi_subjects: int
    classification: Classification
    origin: str
    quality_pct: int
    unit_cost_fen: int
    subjects_from: int = 0
    ftz_negative_list: bool = False
    transit_only: bool = False
    government_related: bool = False
    us_category: UsCategory | None = None
    exporter: ExporterFacts = field(default_factory=ExporterFacts)
    #: How it may be delivered: data with sensitive personal information is often offered
    #: only "usable but not visible" (compute-in-place), never downloaded.
    delivery_modes: tuple[Licence, ...] = ("download", "api", "compute-in-place")
    #: The use scenarios its licences may serve ("no use scenario, no trade"); empty: any.
    permitted_uses: tuple[str, ...] = ()

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.subjects_from, self.pi_subjects, self.sensitive_pi_subjects)


CertificateStatus = Literal["valid", "revoked", "cancelled", "superseded"]


@dataclass(slots=True)
class CertificateState:
    """One right's certificate over a listing. ``status`` is what the registry has recorded;
    a valid certificate past its term is expired (:meth:`state_at`)."""

    certificate: str
    listing: str
    right: str
    holder: str
    valid_from: int
    valid_until: int
    seq: int
    parents: tuple[str, ...] = ()
    status: CertificateStatus = "valid"
    ended_at: int | None = None  # when it was revoked, cancelled or superseded (seconds)

    def valid_at(self, now_s: int) -> bool:
        """In force now: issued, in its term, and neither revoked, cancelled nor superseded."""
        return self.status == "valid" and self.valid_from <= now_s < self.valid_until

    def state_at(self, now_s: int) -> str:
        if self.status != "valid":
            return self.status
        return "valid" if now_s < self.valid_until else "expired"


@dataclass(slots=True)
class LicenceState:
    """A licence of processing-use rights: ``licensor``'s certificate over ``listing`` lets
    ``licensee`` (a data merchant) process the data and sell what it derives, paying
    ``royalty_bp`` of its takings from those products upstream."""

    licence: str
    certificate: CertificateState
    listing: str
    licensor: str
    licensee: str
    royalty_bp: int
    valid_from: int
    valid_until: int
    seq: int

    def in_force(self, now_s: int) -> bool:
        """Within its term, under a parent certificate neither revoked nor cancelled (a
        certificate superseded by its holder's renewal still carries the licence)."""
        ended = self.certificate.status in ("revoked", "cancelled")
        return not ended and self.valid_from <= now_s < self.valid_until


@dataclass(slots=True)
class ListingState:
    listing: str
    provider: str
    spec: DatasetSpec
    listed_at: int
    seq: int
    price_fen: int | None = None
    mechanism: str | None = None
    quote_seq: int | None = None
    quote_quantity: int | None = None  # units the quote offers; None: unlimited licences
    menu: tuple[tuple[int, int], ...] = ()  # a tiered quote's versions: (quality %, price)
    certificate: CertificateState | None = None  # the product-operation right's: it trades
    #: The certificates in force or last issued, one per right (resource holding, processing
    #: and use, product operation).
    certificates: dict[str, CertificateState] = field(default_factory=dict)
    rights_decided: bool = False
    application_pending: bool = False
    sales: int = 0
    revenue_fen: int = 0
    fees_fen: int = 0  # the supplier fees its contracts carry
    withdrawn_at: int | None = None  # seconds; a withdrawn listing never trades again
    version: int = 1  # of its data: each new version re-enters rights registration
    #: The unit cost a seller stated with each of its explicit sell orders (``trade.ask``).
    unit_costs: dict[str, int] = field(default_factory=dict)
    #: A derived product's licences: the parents its certificates cite, paid royalties.
    licences: tuple[LicenceState, ...] = ()
    royalties_fen: int = 0  # paid upstream from its settled sales

    @property
    def derived(self) -> bool:
        return bool(self.licences)


@dataclass(frozen=True, slots=True)
class Offer:
    """A listing as the catalogue shows it to buyers: priced, and certified or pending."""

    listing: str
    provider: str
    price_fen: int
    quality_pct: int
    certified: bool
    uses: tuple[str, ...] = ()  # the use scenarios it permits (empty: any)


@dataclass(frozen=True, slots=True)
class Order:
    """A buyer's order for one licence of a listing, at most at ``price_fen``."""

    buyer: str
    listing: str
    licence: Licence
    duration_days: int
    destination: str
    value_fen: int  # the buyer's private value for this listing (research ground truth)
    price_fen: int  # the buyer's limit: the most it pays (a posted price: the price it saw)
    terms: TransferTerms = field(default_factory=TransferTerms)
    order: str | None = None  # its id once placed on the ledger
    placed_at: int | None = None  # when it was placed (sim seconds)
    venue: str | None = None  # the venue it went to, once placed
    version: int = 0  # of a tiered listing: the version wanted
    use: str | None = None  # the use scenario the buyer states
    renews: str | None = None  # the contract whose ended term this order renews


@dataclass(slots=True)
class ContractState:
    contract: str
    listing: ListingState
    buyer: str
    price_fen: int
    supplier_fee_fen: int
    licence: Licence
    destination: str
    requirements: tuple[Requirement, ...]
    signed_at: int
    seq: int
    certificate: CertificateState | None = None  # the one it was signed under
    duration_days: int = 365  # the licence term from signing
    provider: str = ""  # who signed as seller (and is paid at settlement)
    finished: simpy.Event | None = None  # fires when delivery ends, whatever the outcome
    refund_fen: int = 0  # of a delivered contract: an upheld dispute's partial refund
    outcome: Literal["pending", "delivered", "failed", "cancelled"] = "pending"
    moved_at: int = 0
    delivered_at: int = 0

    @property
    def ends_at(self) -> int:
        """When its licence term ends (sim seconds)."""
        return self.signed_at + self.duration_days * 86_400

    @property
    def cross_border(self) -> bool:
        return self.destination != self.listing.spec.origin
