"""The exchange's vocabulary: one pydantic body per entry kind, and who may sign which kind.

Every state change of the market is one of these facts on the ledger; metrics, invariants and
replay are folds over them. Money fields are integer fen. The ``research`` fields of a contract
carry simulation ground truth (the buyer's private value, the provider's marginal cost), recorded
so that welfare is a fold over the ledger like every other figure.

Money moves only through these entries (accounts are identity ids, plus ``exchange`` for fees and
``escrow`` for contract money in flight):

=======================  ==========================================================
``account.open``         credit ``account`` with ``endowment_fen`` (money enters)
``operation.membership`` ``account`` → ``exchange``: ``fee_fen``
``storage.hosting``      each provider in ``charges`` → ``exchange``
``operation.job``        ``buyer`` → ``exchange``: ``cost_fen`` (compute at the exchange)
``trade.contract``       ``buyer`` → ``escrow``: ``price_fen``
``operation.settlement`` per item: delivered → ``escrow`` pays ``to_provider_fen`` to the
                         contract's provider, ``fee_fen`` to ``exchange`` and ``refund_fen``
                         (0, or an upheld dispute's partial refund) to the buyer: they sum
                         to the price; failed or cancelled → ``escrow`` refunds
                         ``refund_fen`` (the price)
``operation.royalty``    ``licensee`` → ``licensor``: ``royalty_fen`` (a derived sale's share)
``operation.fee``        ``account`` → ``exchange``: ``fee_fen`` (a listing or an assessment)
``operation.usage``      ``buyer`` → ``provider``: ``to_provider_fen`` and → ``exchange``:
                         ``fee_fen`` (metered API calls; they sum to ``cost_fen``)
``rights.transfer``      ``transferee`` → ``transferor``: ``price_fen`` (the data's rights sold)
=======================  ==========================================================

so at every point ``Σ endowments = Σ balances`` (escrow and exchange included), and the fees
collected are the ``exchange`` balance.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marketplace.entries_crossborder import (
    ClearanceApplication,
    ClearanceDecision,
    ExporterFacts,
    RequirementTerms,
    TransferTerms,
    UsCategory,
)
from marketplace.entries_operation import (
    ActFee,
    ApiUsage,
    ComputeJob,
    DeliveryDispute,
    DeliveryRuling,
    Royalty,
    Settlement,
    SettlementItem,
    UsageRefusal,
)
from marketplace.entries_rights import (
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
    RightsTransfer,
    Specialty,
)

EXCHANGE_ACCOUNT = "exchange"
ESCROW_ACCOUNT = "escrow"

__all__ = [
    "ACTS_AS",
    "AUTHORIZATION",
    "BODY_MODELS",
    "ESCROW_ACCOUNT",
    "EXCHANGE_ACCOUNT",
    "AccountOpen",
    "ActFee",
    "ApiUsage",
    "AskPlaced",
    "AuctionClearing",
    "BidTerms",
    "CalendarSet",
    "CertificateDecision",
    "CertificateEnded",
    "Classification",
    "ClearanceApplication",
    "ClearanceDecision",
    "ComputeJob",
    "Contract",
    "DatasetVersion",
    "DeliveryDispute",
    "DeliveryRuling",
    "ExporterFacts",
    "HostingCharge",
    "IssuedCertificate",
    "Licence",
    "Listing",
    "ListingWithdrawal",
    "MembershipFee",
    "NeedUnmet",
    "OrderCancelled",
    "OrderPlaced",
    "PriceQuote",
    "Registration",
    "RequirementTerms",
    "RightsApplication",
    "RightsArbitration",
    "RightsLicence",
    "RightsNotice",
    "RightsObjection",
    "RightsRefusal",
    "RightsReview",
    "RightsTransfer",
    "Royalty",
    "Settlement",
    "SettlementItem",
    "Specialty",
    "Submission",
    "TradeRejected",
    "TransferTerms",
    "UsageRefusal",
    "check_body",
    "every_licence",
]

NonNegative = Annotated[int, Field(ge=0)]
Classification = Literal["general", "important", "core"]
Licence = Literal["download", "api", "compute-in-place"]
RIGHTS = ("holding", "processing-use", "product-operation")
"""The three data rights of the "Data 20 Articles" (CPC Central Committee & State Council,
Opinions on Building a Data Basic System, Dec 2022, Art. 3-5): resource holding, processing and
use, and product operation."""


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountOpen(_Body):
    """The operator opens an account and credits the participant's endowment."""

    account: str
    role: str
    endowment_fen: NonNegative


class CalendarSet(_Body):
    """Operation: the run's calendar — sim time 0 is ``start_date``'s midnight, and working
    days are those of ``country`` (so every fold dates entries as the exchange did)."""

    start_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")  # ISO 8601
    country: str = Field(min_length=2, max_length=2)


class MembershipFee(_Body):
    """A buyer joins the exchange, or renews, for one membership period, and pays its fee
    (Shanghai Data Exchange fee schedule). Only a member's orders trade. The buyer decides:
    ``expected_surplus_fen`` is what it expected its needs to bring it over the period when it
    chose to pay (research ground truth, as a contract's values are); ``renewal`` says whether
    it was already a member until ``valid_from``."""

    account: str
    fee_fen: NonNegative
    period_days: NonNegative
    valid_from: NonNegative
    valid_until: NonNegative
    renewal: bool
    expected_surplus_fen: int


def every_licence() -> list[Licence]:
    return ["download", "api", "compute-in-place"]


class Listing(_Body):
    """Storage: a provider lists a dataset on the exchange."""

    listing: str
    dataset: str
    category: str
    size_mb: NonNegative
    records: NonNegative
    pi_subjects: NonNegative
    sensitive_pi_subjects: NonNegative
    classification: Classification
    origin: str = Field(min_length=2, max_length=2)
    quality_pct: Annotated[int, Field(ge=0, le=100)]
    ingest_days_x1000: NonNegative
    #: The people covered: ``[subjects_from, subjects_from + pi_subjects)`` of the provider's
    #: population, the first ``sensitive_pi_subjects`` of them with sensitive PI too.
    subjects_from: NonNegative = 0
    ftz_negative_list: bool = False
    transit_only: bool = False
    government_related: bool = False
    us_category: UsCategory | None = None
    exporter: ExporterFacts = ExporterFacts()
    delivery_modes: list[Licence] = Field(default_factory=every_licence, min_length=1)
    #: The use scenarios its licences may serve ("no use scenario, no trade"); empty: any.
    permitted_uses: list[str] = []


class Submission(_Body):
    """Storage: a provider submits a dataset for listing; it waits for an ingest channel and
    hosting space, then is listed (``storage.listing``). Submitted but never listed is the
    ingest backlog."""

    dataset: str
    size_mb: NonNegative


class DatasetVersion(_Body):
    """Storage: a new version of a listed dataset (the data changed); it re-enters rights
    registration as a change of the certificates in force."""

    listing: str
    version: Annotated[int, Field(ge=2)]
    records: NonNegative


class HostingCharge(_Body):
    """Storage: hosting accrued per GB-day over a billing period, charged to providers."""

    period_start: NonNegative
    period_end: NonNegative
    rate_fen_per_gb_day: NonNegative
    charges: dict[str, NonNegative]  # provider account -> fen


WithdrawalReason = Literal["unprofitable", "rights-revoked", "licence-ended", "provider-exit"]


class ListingWithdrawal(_Body):
    """Storage: a provider takes a listing off the market. The record stays (nothing on the
    ledger is ever deleted); the listing leaves the catalogue, its hosting stops and no new
    trade of it may be signed. ``unprofitable``: over the last ``window_days`` its sales left
    ``margin_fen`` after the supplier fee and the unit cost, less than the ``hosting_fen`` it
    cost to host; ``rights-revoked``: the registry revoked its certificate; ``licence-ended``:
    a derived product whose licence ended (its term, or its parent certificate ended);
    ``provider-exit``: its provider left the market and no merchant took it over."""

    listing: str
    reason: WithdrawalReason
    window_days: NonNegative
    margin_fen: int
    hosting_fen: NonNegative


class PriceQuote(_Body):
    """Pricing: the price at which a listing is offered, and which mechanism set it."""

    listing: str
    mechanism: str
    price_fen: Annotated[int, Field(gt=0)]
    cost_fen: NonNegative
    reason: str
    #: Units offered at this price: None for unlimited licences (posted prices, books); the
    #: exclusive licences of an auction round.
    quantity: Annotated[int, Field(gt=0)] | None = None
    #: A tiered listing's versions: ``[quality_pct, price_fen]`` each, version 0 first (the
    #: price above); every version is a standing ask (``quote-SEQ`` for version 0, else
    #: ``quote-SEQ.vK``).
    menu: list[list[int]] = []
    #: A learning mechanism's price grid (``adaptive-posted``): its regret is a fold.
    grid: list[int] = []


class OrderPlaced(_Body):
    """Trading: a buyer's order, signed by the buyer when it arrives at the desk; the contract
    (or the rejection) that settles it cites it, so desk waits and backlogs fold from the
    ledger."""

    order: str
    buyer: str
    listing: str
    licence: Licence
    duration_days: Annotated[int, Field(gt=0)]
    destination: str = Field(min_length=2, max_length=2)
    price_fen: Annotated[int, Field(gt=0)]  # the buyer's limit: the most it pays
    terms: TransferTerms = TransferTerms()
    #: The mechanism of the venue it goes to and the venue's id (a listing, a category's book,
    #: an auction round ``listing#round`` or a negotiation ``N…``).
    mechanism: str = "posted"
    venue: str | None = None
    version: NonNegative = 0  # of a tiered listing: which version it wants
    use: str | None = None  # the use scenario the buyer states for the data
    #: The buyer's contract, for this listing, whose term ended and which this order renews.
    renews: str | None = None


class AskPlaced(_Body):
    """Trading: a seller's order at a venue: up to ``quantity`` units (None: unlimited licences)
    of its own listing at no less than ``price_fen`` each, signed by the seller. A posted price
    needs none (its ``pricing.quote`` is the ask); order books, lab sessions and negotiations
    record each of the seller's orders and counter-offers here. ``cost_fen`` is research ground
    truth (the unit's cost), like a contract's ``research``."""

    order: str
    seller: str
    listing: str
    mechanism: str
    venue: str
    price_fen: Annotated[int, Field(gt=0)]
    quantity: Annotated[int, Field(gt=0)] | None
    cost_fen: NonNegative | None = None


class OrderCancelled(_Body):
    """Trading: an order withdrawn. Its trader signs when it withdraws the order itself
    (``replaced`` by a newer one, ``expired`` patience, ``walked-away`` from a negotiation); the
    operator signs when the venue ends it (``venue-closed`` at a period's end, ``outbid`` in a
    sealed-bid round, ``deadline`` of a negotiation)."""

    order: str
    trader: str
    listing: str
    venue: str
    reason: Literal[
        "replaced",
        "expired",
        "walked-away",
        "venue-closed",
        "outbid",
        "deadline",
        "listing-withdrawn",
    ]


class BidTerms(_Body):
    order: str
    buyer: str
    price_fen: Annotated[int, Field(gt=0)]
    at: NonNegative


class AuctionClearing(_Body):
    """Trading: a sealed-bid round cleared, signed by the operator: every bid it received (in
    rank order), the seller's reserve and units, the winners and the price each pays, and the
    rule that set it, so a verifier recomputes the outcome from the bids on the ledger."""

    venue: str
    listing: str
    mechanism: str
    ask: str
    reserve_fen: Annotated[int, Field(gt=0)]
    units: Annotated[int, Field(gt=0)]
    bids: list[BidTerms]
    winners: list[str]
    price_fen: NonNegative | None
    rule: str


class NeedUnmet(_Body):
    """Trading: a buyer's need that found no acceptable offer (lost demand), signed by the
    buyer. ``value_fen`` is research ground truth, like a contract's."""

    buyer: str
    category: str
    offers_seen: NonNegative
    certified_seen: NonNegative
    cheapest_fen: NonNegative | None
    value_fen: NonNegative
    reason: Literal[
        "no-offers",
        "none-certified",
        "none-worth-its-price",
        "membership-not-worth-its-fee",
        "cannot-afford-membership",
        "licence-not-offered",
    ]


class Contract(_Body):
    """Trading: a contract signed by both buyer and provider; the price moves into escrow.

    A cross-border contract records the transfer's facts as the gate read them (the fixed format
    of ``specs/crossborder-facts.md``) and the requirements it set: one per policy pack that
    asked for a mechanism, each met by any one of its ``any_of``.
    """

    contract: str
    listing: str
    certificate: str
    buyer: str
    provider: str
    price_fen: Annotated[int, Field(gt=0)]
    supplier_fee_fen: NonNegative
    licence: Licence
    duration_days: Annotated[int, Field(gt=0)]
    destination: str = Field(min_length=2, max_length=2)
    cross_border: bool
    requirements: list[RequirementTerms] = []
    policy_rules: list[str] = []
    terms: TransferTerms = TransferTerms()
    facts: dict[str, Any] | None = None
    order: str | None = None
    quote_seq: NonNegative
    ordered_at: NonNegative
    research: dict[str, int]
    #: How the price formed: the mechanism, the seller's order filled (``quote-SEQ`` for a
    #: posted or reserve quote, else a ``trade.ask``) and the venue's rule for the price.
    mechanism: str = "posted"
    ask: str | None = None
    rule: str = "posted ask"
    version: NonNegative = 0
    use: str | None = None  # the buyer's use scenario, one the listing permits


class TradeRejected(_Body):
    """Trading: the exchange refused an order (no valid certificate, funds, policy...)."""

    buyer: str
    listing: str
    order: str | None = None
    reason: Literal[
        "no-certificate",
        "certificate-expired",
        "certificate-ended",
        "insufficient-funds",
        "forbidden",
        "needs-information",
        "price-changed",
        "venue-refused",
        "withdrawn",
        "not-a-member",
        "licence-not-offered",
        "no-use-scenario",
        "use-not-permitted",
        "licence-ended",
    ]
    detail: str
    #: For a policy refusal: the rules that refused it, the facts it lacked, what it was worth
    #: and where the data would have gone, and the facts as the gate read them.
    rules: list[str] = []
    missing: list[str] = []
    price_fen: NonNegative = 0
    destination: str | None = None
    facts: dict[str, Any] | None = None


BODY_MODELS: dict[str, type[BaseModel]] = {
    "account.open": AccountOpen,
    "operation.calendar": CalendarSet,
    "operation.membership": MembershipFee,
    "storage.submission": Submission,
    "storage.listing": Listing,
    "storage.version": DatasetVersion,
    "storage.hosting": HostingCharge,
    "storage.withdrawal": ListingWithdrawal,
    "rights.application": RightsApplication,
    "rights.review": RightsReview,
    "rights.notice": RightsNotice,
    "rights.objection": RightsObjection,
    "rights.arbitration": RightsArbitration,
    "rights.decision": CertificateDecision,
    "rights.revocation": CertificateEnded,
    "rights.cancellation": CertificateEnded,
    "rights.refusal": RightsRefusal,
    "rights.licence": RightsLicence,
    "rights.transfer": RightsTransfer,
    "pricing.quote": PriceQuote,
    "trade.order": OrderPlaced,
    "trade.ask": AskPlaced,
    "trade.cancel": OrderCancelled,
    "trade.clearing": AuctionClearing,
    "trade.unmet": NeedUnmet,
    "trade.contract": Contract,
    "trade.rejected": TradeRejected,
    "operation.settlement": Settlement,
    "operation.royalty": Royalty,
    "operation.usage": ApiUsage,
    "operation.fee": ActFee,
    "operation.job": ComputeJob,
    "operation.dispute": DeliveryDispute,
    "operation.ruling": DeliveryRuling,
    "crossborder.application": ClearanceApplication,
    "crossborder.decision": ClearanceDecision,
}

#: Who may sign which kind (DESIGN.md §3). A contract is signed by the buyer and the provider.
_PROVIDER_KINDS = [
    "storage.submission",
    "storage.version",
    "storage.listing",
    "storage.withdrawal",
    "rights.application",
    "rights.objection",
    "rights.cancellation",
    "rights.licence",
    "rights.transfer",
    "pricing.quote",
    "trade.ask",
    "trade.cancel",
    "trade.contract",
    "crossborder.application",
    "crossborder.decision",
]
_BUYER_KINDS = [
    "operation.job",
    "operation.usage",
    "operation.dispute",
    "trade.order",
    "trade.cancel",
    "trade.unmet",
    "trade.contract",
    "crossborder.application",
    "crossborder.decision",
]
AUTHORIZATION: dict[str, list[str]] = {
    "operator": [
        "operation.calendar",
        "rights.notice",
        "rights.arbitration",
        "rights.decision",
        "rights.revocation",
        "rights.refusal",
        "rights.transfer",
        "account.open",
        "operation.membership",
        "storage.hosting",
        "trade.rejected",
        "trade.cancel",
        "trade.clearing",
        "operation.settlement",
        "operation.royalty",
        "operation.job",
        "operation.usage",
        "operation.fee",
        "operation.ruling",
    ],
    # A provider is the exporter: it applies for mechanisms and completes those it carries out
    # itself (with the recipient, for contract clauses); regulators and certifiers decide theirs.
    "provider": _PROVIDER_KINDS,
    "buyer": _BUYER_KINDS,
    # A data merchant (broker) buys licences as a buyer does and sells what it derives from
    # them as a provider does.
    "broker": _PROVIDER_KINDS + [kind for kind in _BUYER_KINDS if kind not in _PROVIDER_KINDS],
    "assessor": ["rights.review"],
    "regulator": ["crossborder.decision"],
    "certifier": ["crossborder.decision"],
}
#: The roles that may act as each side of a trade.
ACTS_AS: dict[str, frozenset[str]] = {
    "provider": frozenset({"provider", "broker"}),
    "buyer": frozenset({"buyer", "broker"}),
}


def check_body(kind: str, body: dict[str, Any]) -> str | None:
    """The audit's domain check: does ``body`` parse as the model of ``kind``? None if it does."""
    model = BODY_MODELS.get(kind)
    if model is None:
        return f"unknown kind {kind!r}"
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}"
    return None
