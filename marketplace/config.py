"""Typed configuration of the exchange's stages (validated once, at the scenario edge).

Defaults follow the Shanghai Data Exchange's published fee schedule where one exists: the supplier
pays 2.5 % of each transaction, the buyer an annual membership fee.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from marketplace.distributions import Constant, Distribution, Exponential, LogNormal, within
from marketplace.entries import Specialty
from marketplace.entries_crossborder import Route

__all__ = [
    "MAX_DAYS",
    "MAX_FEN",
    "MIN_PERIOD_DAYS",
    "ClearanceConfig",
    "Days",
    "ExchangeConfig",
    "FeeSchedule",
    "OperationConfig",
    "RightsConfig",
    "StorageConfig",
    "TradingConfig",
]


#: The largest amount of money any one field may hold: ¥100 billion (10¹³ fen). Sums of many
#: such amounts still fit the ledger's 64-bit integers (< 9.2 · 10¹⁸).
MAX_FEN = 10**13
#: A run lasts at most 100 years of simulated time; so does any duration in it.
MAX_DAYS = 36_500
#: The shortest period of a recurring process (settlement, repricing): one minute. A shorter
#: one would flood the event queue without changing what a day of the market looks like.
MIN_PERIOD_DAYS = 1 / 1440

#: A duration in days: draws within [0, 100 years], never negative.
Days = Annotated[Distribution, within(0, MAX_DAYS, "days")]
Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
Period = Annotated[float, Field(ge=MIN_PERIOD_DAYS, le=MAX_DAYS)]
WholeDays = Annotated[int, Field(ge=1, le=MAX_DAYS)]
Capacity = Annotated[int, Field(ge=1, le=1_000_000)]
BasisPoints = Annotated[int, Field(ge=0, le=10_000)]


class _Config(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False, validate_default=True
    )


class FeeSchedule(_Config):
    """What the exchange charges, as data: a percentage of each trade (suppliers), a
    membership or one-time service fee (buyers: a ``membership_period_days`` longer than the
    run is a one-time fee), hosting by the GB-day, and per act: a listing fee for each dataset
    listed and an assessment fee for each rights application (first, change or derived).
    A scenario may start from a venue's published schedule (``schedule``; see
    :mod:`scenarios.fee_schedules`)."""

    supplier_fee_bp: BasisPoints = 250
    membership_fee_fen: Fen = 500_000  # ¥5,000 a year
    membership_period_days: WholeDays = 365
    hosting_fen_per_gb_day: int = Field(default=50, ge=0, le=100_000)  # ¥0.50 per GB-day
    hosting_period_days: WholeDays = 30
    listing_fee_fen: Fen = 0
    assessment_fee_fen: Fen = 0
    #: The published schedule (``scenarios/fees/NAME.toml``) these fees start from, if any:
    #: provenance only, the fees above are what the exchange charges.
    schedule: str | None = Field(default=None, max_length=200)


class StorageConfig(_Config):
    """Listing and hosting: ingestion (upload, format and integrity checks) is a queue of
    ``capacity`` channels; hosting holds at most ``hosting_capacity_gb`` (None: no limit), and a
    dataset that does not fit waits until withdrawals free the space. With
    ``listing_requires_certificate`` ("no compliance, no listing") a listing shows in the
    catalogue only once its rights are certified; otherwise it shows as pending."""

    capacity: Capacity = 4
    ingest_days: Days = LogNormal(median=0.5, sigma=0.6)
    hosting_capacity_gb: int | None = Field(default=None, ge=1, le=10**9)
    listing_requires_certificate: bool = False


def _compliance_only() -> list[Specialty]:
    return ["compliance"]


class RightsConfig(_Config):
    """Rights registration as exchanges run it: review steps by specialist assessor pools, a
    public notice open to objections, arbitration of disputes, certificates for a fixed term.

    ``steps`` are the specialties every application is reviewed by, in order; each step is a
    queue served by the assessors of that specialty (their count is the step's capacity, their
    ``review_days`` its service time). ``notice_days`` is the public-notice window (0: none).
    ``objection_bp`` is the chance that a third party objects to an application under notice;
    ``claim_bp`` that one later claims rights over an issued certificate, after an exponential
    wait of mean ``claim_after_days``. A dispute goes to arbitration (``arbitration_days``)
    and is upheld with chance ``upheld_bp``: the application is refused, or the certificate
    revoked.
    """

    certificate_valid_days: WholeDays = 365
    steps: list[Specialty] = Field(default_factory=_compliance_only, min_length=1)
    notice_days: float = Field(default=0.0, ge=0, le=MAX_DAYS)
    objection_bp: BasisPoints = 0
    claim_bp: BasisPoints = 0
    claim_after_days: float = Field(default=180.0, gt=0, le=MAX_DAYS)
    arbitration_days: Days = LogNormal(median=20.0, sigma=0.5)
    upheld_bp: BasisPoints = 3_000

    @field_validator("steps")
    @classmethod
    def _once_each(cls, steps: list[Specialty]) -> list[Specialty]:
        if len(set(steps)) != len(steps):
            raise ValueError(f"each specialty reviews once: {steps}")
        return steps


class TradingConfig(_Config):
    """Order processing desk: matching and contract drafting take time and staff."""

    capacity: Capacity = 8
    matching_days: Days = Exponential(mean=0.02)
    #: "No use scenario, no trade": every order must state its use scenario, and every
    #: listing name the uses it permits (an order outside them is refused either way).
    require_use_scenario: bool = False


class OperationConfig(_Config):
    """Delivery and settlement."""

    download_mb_per_day: int = Field(default=2_000_000, ge=1, le=10**12)
    api_setup_days: Days = LogNormal(median=0.5, sigma=0.5)
    compute_setup_days: Days = LogNormal(median=2.0, sigma=0.5)
    download_failure_bp: BasisPoints = 100
    api_failure_bp: BasisPoints = 200
    compute_failure_bp: BasisPoints = 300
    settlement_every_days: Period = 1.0
    delivery_jitter_days: Days = Constant(value=0.0)
    #: What the exchange charges for an hour of compute a compute-in-place job uses.
    compute_fen_per_cpu_hour: int = Field(default=1_000, ge=0, le=MAX_FEN)
    #: API subscriptions: calls are metered and billed every ``usage_period_days`` at this
    #: published rate (the provider is paid it less the supplier fee). 0: calls are free
    #: (the subscription's price covers them).
    api_fen_per_1000_calls: int = Field(default=0, ge=0, le=MAX_FEN)
    usage_period_days: Period = 30.0
    #: Delivery disputes: the chance a buyer disputes a delivered contract (the data is not as
    #: described), how long the exchange's ruling takes, the chance it upholds the claim, and
    #: the share of the price an upheld claim refunds (a partial refund; the supplier fee is
    #: then charged on what the provider keeps).
    dispute_bp: BasisPoints = 0
    dispute_days: Days = LogNormal(median=10.0, sigma=0.5)
    dispute_upheld_bp: BasisPoints = 5_000
    partial_refund_bp: BasisPoints = 5_000


def _default_routes() -> dict[str, Route]:
    return {
        "security-assessment": "assessment",
        "standard-contract": "filing",
        "certification": "certification",
    }


class ClearanceConfig(_Config):
    """How cross-border mechanisms are obtained once a policy requires one.

    ``routes`` says who handles each mechanism (others go ``default_route``): the regulator's
    assessment staff (a security assessment: CAC, 2022 Measures Art. 7, 12), its filing desk (a
    standard contract filed with the provincial CAC, 2023 Measures Art. 7), a certifier (a
    personal information protection certification), or the exporter itself (GDPR clauses, the
    US CISA security requirements), which takes the pack's legal lead time. An approval lasts
    what the pack says (a security assessment 3 years, 2024 Provisions Art. 9) or, where the law
    is silent, ``valid_days``; its holder applies to renew ``renew_before_days`` before expiry.
    """

    routes: dict[str, Route] = Field(default_factory=_default_routes)
    default_route: Route = "self"
    valid_days: dict[str, WholeDays] = Field(default_factory=dict)
    default_valid_days: WholeDays = 1_095
    renew_before_days: int = Field(default=60, ge=0, le=MAX_DAYS)
    #: Mechanisms that are contracts between exporter and recipient: both sign them.
    co_signed: list[str] = Field(default_factory=lambda: ["standard-contract", "sccs"])


class ExchangeConfig(_Config):
    fees: FeeSchedule = FeeSchedule()
    storage: StorageConfig = StorageConfig()
    rights: RightsConfig = RightsConfig()
    trading: TradingConfig = TradingConfig()
    operation: OperationConfig = OperationConfig()
    clearance: ClearanceConfig = ClearanceConfig()
