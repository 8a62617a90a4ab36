"""Population specs: how many agents of a kind, and the distributions their parameters come from.

The scenario schema composes these (a discriminated union on ``kind``); the composition root turns
each into agents with their own random streams.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from iso3166 import countries_by_alpha2
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agents.strategies import STRATEGIES, StrategyKind, make_strategy, strategy_names
from marketplace.config import MAX_DAYS, MAX_FEN, Days, Fen, Period, WholeDays
from marketplace.distributions import (
    Beta,
    Distribution,
    LogNormal,
    Triangular,
    Uniform,
    UniformInt,
    within,
)
from marketplace.entries import Specialty, every_licence
from marketplace.entries_crossborder import Purpose, Safeguard, UsCategory, UsTransaction
from marketplace.errors import MarketError
from marketplace.pricing import MECHANISMS, make_mechanism

__all__ = [
    "AssessorPopulation",
    "BuyerPopulation",
    "CertifierPopulation",
    "Population",
    "ProviderPopulation",
    "RegulatorPopulation",
]

Licence = Literal["download", "api", "compute-in-place"]


def _general_purpose() -> dict[Purpose, int]:
    return {"general": 1}


def _default_licence_weights() -> dict[Licence, int]:
    return {"download": 5, "api": 3, "compute-in-place": 2}


DEFAULT_ABROAD = ("SG", "HK", "DE", "US")
DEFAULT_CATEGORIES = ["mobility", "finance", "health", "retail", "energy", "manufacturing"]
#: The most agents one population may have (a larger market is several populations).
MAX_COUNT = 100_000


def _iso_country(code: str) -> str:
    if code not in countries_by_alpha2:
        raise ValueError(
            f"{code!r} is not an ISO 3166-1 alpha-2 country code (upper case: 'CN', 'SG', 'HK', "
            "'DE', 'US', ...)"
        )
    return code


#: ISO 3166-1 alpha-2, upper case ("CN", "SG", "HK", "DE"...), checked against the standard.
Country = Annotated[str, AfterValidator(_iso_country)]
Category = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Share = Annotated[float, Field(ge=0, le=1)]
Money = Annotated[Distribution, within(0, MAX_FEN, "fen")]
#: A share of a price in basis points, drawn: within [0, 10 000].
BasisPointShare = Annotated[Distribution, within(0, 10_000, "basis points")]


#: A duration in working days (a regulator's review): within [0, 10 years of working days].
WorkingDays = Annotated[Distribution, within(0, 2_500, "working days")]


class _Population(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False, validate_default=True
    )

    #: Names the population's agents (``<name>-0001``...); by default its kind. Two populations
    #: of one kind need two names.
    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,31}$")
    count: int = Field(ge=0, le=MAX_COUNT)
    strategy: str
    strategy_params: dict[str, Any] = Field(default_factory=dict)

    strategy_kind: ClassVar[StrategyKind]
    kind: str  # each population narrows it to its own tag

    @property
    def label(self) -> str:
        """The prefix of its agents' ids."""
        return self.name or str(self.kind)

    @field_validator("strategy")
    @classmethod
    def _strategy_exists(cls, name: str) -> str:
        if name not in STRATEGIES[cls.strategy_kind]:
            allowed = ", ".join(repr(n) for n in strategy_names(cls.strategy_kind))
            raise ValueError(f"unknown {cls.strategy_kind} strategy {name!r}; allowed: {allowed}")
        return name

    @field_validator("strategy_params")
    @classmethod
    def _strategy_params_fit(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        strategy = info.data.get("strategy")
        if isinstance(strategy, str):  # an unknown strategy is reported on its own field
            make_strategy(cls.strategy_kind, strategy, params)
        return params


def _trading_strategy(name: str) -> str:
    if name not in STRATEGIES["trading"]:
        allowed = ", ".join(repr(n) for n in strategy_names("trading"))
        raise ValueError(f"unknown trading strategy {name!r}; allowed: {allowed}")
    return name


def _trading_params(params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    name = info.data.get("trading")
    if isinstance(name, str):  # an unknown strategy is reported on its own field
        make_strategy("trading", name, params)
    return params


class ProviderPopulation(_Population):
    """Data providers: each brings datasets to market over the listing window."""

    kind: Literal["provider"] = "provider"
    strategy_kind: ClassVar[StrategyKind] = "pricing"
    strategy: str = "demand-adaptive"
    endowment_fen: Fen = 5_000_000
    datasets: Annotated[Distribution, within(0, 10_000, "datasets")] = UniformInt(low=2, high=6)
    listing_window_days: float = Field(default=60.0, ge=0, le=MAX_DAYS)
    categories: list[Category] = Field(
        default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1, max_length=1_000
    )
    size_mb: Annotated[Distribution, within(0, 10**9, "MB")] = LogNormal(median=2_000, sigma=1.2)
    records_per_mb: int = Field(default=5_000, ge=0, le=10**7)
    personal_share: Share = 0.4
    pi_subjects: Annotated[Distribution, within(0, 2 * 10**9, "people")] = LogNormal(
        median=50_000, sigma=1.0
    )
    sensitive_share: Share = 0.1
    important_share: Share = 0.05
    core_share: Share = 0.0
    origin: Country = "CN"
    #: The exporter's profile, for the transfer facts: a critical information infrastructure
    #: operator, registered in a pilot free-trade zone, an exporter outside the EEA subject to the
    #: GDPR (Art. 3(2)); and the people whose personal information it holds (its datasets cover
    #: intervals of them, so datasets of one provider share people).
    ciio: bool = False
    ftz: Literal["beijing", "tianjin", "shanghai"] | None = None
    gdpr_art3_2: bool = False
    people: Annotated[Distribution, within(1, 10**10, "people")] = LogNormal(
        median=500_000, sigma=1.0
    )
    #: Shares of datasets that fall under the exporter's FTZ negative list, are transit data
    #: (collected abroad, sent back), or are US government-related data.
    ftz_negative_list_share: Share = 0.0
    transit_share: Share = 0.0
    government_related_share: Share = 0.0
    #: For US data: the 28 CFR 202.205 category of a dataset's people, by weight.
    us_categories: dict[UsCategory, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict
    )
    quality_pct: Annotated[Distribution, within(0, 100, "%")] = Beta(a=5, b=3, low=0, high=100)
    unit_cost_fen: Money = LogNormal(median=200_000, sigma=0.6)
    pricing: str = "posted"
    pricing_params: dict[str, Any] = Field(default_factory=dict)
    reprice_every_days: Period = 14.0
    #: What selling a licence outside the exchange costs this provider, as a share of its
    #: price in basis points (finding buyers, contracting, compliance, payment risk), drawn
    #: once per provider. Most data in China still trades off-exchange; a provider brings a
    #: dataset to the exchange only while the supplier fee is no dearer than this channel.
    #: The default keeps every provider on the exchange at the Shanghai 2.5 % fee.
    off_exchange_cost_bp: BasisPointShare = Uniform(low=1_000, high=6_000)
    #: How long a listing must be on the market before its provider judges whether it pays:
    #: at the first review after each such window, a listing whose sales left less than its
    #: hosting cost over the window is withdrawn. 0: never withdraw.
    withdraw_window_days: float = Field(default=180.0, ge=0, le=MAX_DAYS)
    #: How a dataset holding sensitive personal information may be delivered; others may be
    #: delivered every way. ``["compute-in-place"]``: usable but not visible.
    sensitive_delivery: list[Licence] = Field(default_factory=every_licence, min_length=1)
    #: How often a listed dataset gets a new version (the data is updated), in days; each
    #: version re-enters rights registration as a change. 0: never.
    version_every_days: float = Field(default=0.0, ge=0, le=MAX_DAYS)
    #: The yearly chance, in basis points, that a provider leaves the market (its business
    #: closes or sells its data business). Leaving, it sells each certified listing that pays
    #: its way to a data merchant (a transfer registration, for what the listing earned over
    #: its last withdrawal window) and withdraws the rest. 0: providers stay.
    exit_bp_per_year: int = Field(default=0, ge=0, le=10_000)
    #: The use scenarios a provider's licences may serve ("no use scenario, no trade"): each
    #: dataset permits ``uses_per_dataset`` of them, drawn; empty: its datasets permit any use.
    use_scenarios: list[Category] = Field(default_factory=list, max_length=1_000)
    uses_per_dataset: int = Field(default=2, ge=1, le=1_000)
    #: How the provider haggles where its mechanism lets buyers negotiate (the seller's side
    #: of ``negotiation``): a trading strategy, by default Faratin's linear tactic.
    trading: str = "faratin"
    trading_params: dict[str, Any] = Field(default_factory=dict)

    _trading_known = field_validator("trading")(_trading_strategy)
    _trading_fits = field_validator("trading_params")(_trading_params)

    @model_validator(mode="after")
    def _classes_fit(self) -> ProviderPopulation:
        if self.core_share + self.important_share > 1:
            raise ValueError(
                f"core_share + important_share = {self.core_share + self.important_share:g} "
                "is more than 1"
            )
        return self

    @field_validator("pricing")
    @classmethod
    def _known_mechanism(cls, name: str) -> str:
        if name not in MECHANISMS:
            allowed = ", ".join(repr(n) for n in sorted(MECHANISMS))
            raise ValueError(f"unknown pricing mechanism {name!r}; allowed: {allowed}")
        return name

    @field_validator("pricing_params")
    @classmethod
    def _mechanism_params(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        pricing = info.data.get("pricing")
        if isinstance(pricing, str):
            try:
                make_mechanism(pricing, params)
            except (TypeError, MarketError) as exc:
                raise ValueError(str(exc)) from None
        return params


class BuyerPopulation(_Population):
    """Data buyers: Poisson arrivals of needs, each with a private value for the data."""

    kind: Literal["buyer"] = "buyer"
    strategy_kind: ClassVar[StrategyKind] = "purchase"
    strategy: str = "best-surplus"
    endowment_fen: Fen = 50_000_000
    #: Needs per buyer per day: at most 10 000 (one every 8.6 s of simulated time).
    arrival_rate_per_day: float = Field(default=0.1, gt=0, le=10_000)
    value_fen: Money = LogNormal(median=600_000, sigma=0.8)
    categories: list[Category] = Field(
        default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1, max_length=1_000
    )
    consideration_set: int = Field(default=20, ge=1, le=10_000)
    #: How the buyer bids once it has chosen an offer (a trading strategy): at a posted price
    #: ``truthful`` takes any price up to its value; in an auction it bids its value (dominant
    #: in a second-price auction); in a book its bid rests up to ``patience_days``.
    trading: str = "truthful"
    trading_params: dict[str, Any] = Field(default_factory=dict)
    patience_days: Period = 7.0

    _trading_known = field_validator("trading")(_trading_strategy)
    _trading_fits = field_validator("trading_params")(_trading_params)
    licence_weights: dict[Licence, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=_default_licence_weights
    )
    duration_days: WholeDays = 365
    #: Whether a buyer renews a licence whose term ended, when its need outlives the term (it
    #: does with probability 1 - ``renewal_churn_share``) and the price now still leaves it a
    #: surplus; a licence not renewed churns.
    renews: bool = True
    renewal_churn_share: Share = 0.0
    #: Jobs a buyer runs per day under each compute-in-place licence, while it lasts, and the
    #: compute each takes (0: the licence is provisioned but never used).
    compute_jobs_per_day: float = Field(default=0.0, ge=0, le=10_000)
    job_cpu_hours: Annotated[Distribution, within(0, 1_000_000, "CPU hours")] = LogNormal(
        median=2.0, sigma=0.7
    )
    #: The use scenarios buyers' needs serve, by weight (each need draws one and considers
    #: only listings that permit it); empty: needs state no use.
    uses: dict[Category, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(default_factory=dict)
    #: Calls a buyer makes per day under each API subscription, while it lasts (a Poisson
    #: count per billing period, metered and billed at ``exchange.operation``'s rate).
    api_calls_per_day: float = Field(default=0.0, ge=0, le=10**9)
    home: Country = "CN"
    #: Why the data goes abroad (the PRC exemptions of Art. 5 turn on it), by weight; who
    #: receives it (a US recipient certified under the EU-US DPF; a covered person of 28 CFR
    #: 202.211), which GDPR Art. 46 safeguard its recipients have in place (the share of them that
    #: do), and the kind of transaction under 28 CFR Part 202.
    purposes: dict[Purpose, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=_general_purpose
    )
    dpf_certified_share: Share = 0.0
    covered_person_share: Share = 0.0
    safeguard: Safeguard | None = None
    safeguard_share: Share = 0.0
    us_transaction: UsTransaction = "vendor"
    cross_border_share: Share = 0.0
    #: Where the ``cross_border_share`` of transfers go; by default SG, HK, DE and US, less
    #: the buyers' home.
    foreign_destinations: list[Country] | None = Field(default=None, max_length=250)

    @property
    def abroad(self) -> list[str]:
        if self.foreign_destinations is not None:
            return list(self.foreign_destinations)
        return [d for d in DEFAULT_ABROAD if d != self.home]

    @model_validator(mode="after")
    def _somewhere_to_go(self) -> BuyerPopulation:
        if self.cross_border_share > 0 and not self.abroad:
            raise ValueError("cross_border_share > 0 needs at least one foreign_destinations entry")
        return self

    @field_validator("foreign_destinations")
    @classmethod
    def _foreign(cls, destinations: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if destinations is None:
            return None
        home = info.data.get("home")
        if home in destinations:
            raise ValueError(f"{home!r} is the buyers' home, not a foreign destination")
        if len(set(destinations)) != len(destinations):
            raise ValueError("each foreign destination once")
        return destinations

    @field_validator("uses")
    @classmethod
    def _uses_weighted(cls, weights: dict[str, int]) -> dict[str, int]:
        if weights and sum(weights.values()) <= 0:
            raise ValueError("the use weights must not all be zero")
        return weights

    @field_validator("licence_weights", "purposes")
    @classmethod
    def _some_weight(cls, weights: dict[str, int]) -> dict[str, int]:
        if sum(weights.values()) <= 0:
            raise ValueError("the weights must not all be zero")
        return weights


class AssessorPopulation(_Population):
    """Rights assessors: each reviews one application at a time."""

    kind: Literal["assessor"] = "assessor"
    strategy_kind: ClassVar[StrategyKind] = "review"
    strategy: str = "quality-logistic"
    endowment_fen: Fen = 0
    review_days: Days = LogNormal(median=2.0, sigma=0.5)
    #: The review step it serves (``exchange.rights.steps``): a pool is the assessors of one
    #: specialty, its capacity their count.
    specialty: Specialty = "compliance"


class RegulatorPopulation(_Population):
    """The regulator's staff for one route: security assessments (``assessment``, the CAC via
    the provincial CAC) or standard-contract filings (``filing``, the provincial CAC). Each takes
    one application at a time; reviews take working days."""

    kind: Literal["regulator"] = "regulator"
    strategy_kind: ClassVar[StrategyKind] = "clearance"
    strategy: str = "risk-weighted"
    endowment_fen: Fen = 0
    handles: Literal["assessment", "filing"] = "assessment"
    #: 2022 Measures Art. 12: 45 working days from acceptance, extendable in complex cases.
    review_working_days: WorkingDays = Triangular(low=20, mode=40, high=60)


class CertifierPopulation(_Population):
    """Certification bodies for personal information protection certification (PIPL Art. 38
    para. 1 item (2)): each certifier takes one application at a time."""

    kind: Literal["certifier"] = "certifier"
    strategy_kind: ClassVar[StrategyKind] = "clearance"
    strategy: str = "risk-weighted"
    endowment_fen: Fen = 0
    review_working_days: WorkingDays = Uniform(low=30, high=90)


Population = (
    ProviderPopulation
    | BuyerPopulation
    | AssessorPopulation
    | RegulatorPopulation
    | CertifierPopulation
)
