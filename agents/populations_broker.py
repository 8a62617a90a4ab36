"""The data merchants' population spec: brokers that license data, process it and sell what
they derive (the "data merchant" of the Shenzhen Data Exchange's rules and the Data 20 Articles,
Art. 9: third-party professional service institutions that add value to data)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from agents.populations import ProviderPopulation
from marketplace.config import MAX_DAYS, Days, Fen, Period, WholeDays
from marketplace.distributions import Distribution, Uniform, UniformInt, within

__all__ = ["BrokerPopulation"]


class BrokerPopulation(ProviderPopulation):
    """Data merchants. Each scouts the catalogue for certified data it can improve, buys a
    licence of it on the exchange like any buyer (and joins the exchange to do so), registers
    the licence of the processing-use right with the data's holder, processes the data (time,
    cost, a quality gain) and lists the derived product, whose certificates cite the licensed
    one. Its sales pay the licensor ``royalty_bp`` of their takings. It prices, reprices and
    withdraws its products as providers do (its other fields are a provider's), over a break-even
    that carries the fee, the royalty and its costs spread over ``expected_sales``."""

    kind: Literal["broker"] = "broker"  # type: ignore[assignment]
    #: A broker brings no data of its own: it derives ``products`` from others'.
    datasets: Annotated[Distribution, within(0, 10_000, "datasets")] = UniformInt(low=0, high=0)
    products: Annotated[Distribution, within(0, 1_000, "products")] = UniformInt(low=1, high=3)
    #: When it starts scouting (after the providers' listing window, typically), and how
    #: often it looks again.
    scout_after_days: float = Field(default=60.0, ge=0, le=MAX_DAYS)
    scout_every_days: Period = 30.0
    #: Processing: how long it takes, what it costs per GB of the source (staff and machines,
    #: paid outside the exchange), how much it raises quality (percentage points).
    processing_days: Days = Uniform(low=10, high=30)
    processing_fen_per_gb: Fen = 30_000
    quality_gain_pct: Annotated[Distribution, within(0, 100, "%")] = Uniform(low=5, high=20)
    #: The licence it asks for: its term, and the royalty it pays upstream per derived sale.
    licence_days: WholeDays = 1_095
    royalty_bp: int = Field(default=1_500, ge=0, le=9_999)
    #: How many sources a product bundles (of one category), and how the royalty pool
    #: (``royalty_bp``) is shared among them: sampled Shapley values over
    #: ``shapley_permutations`` permutations (error bound at confidence 1 − ``shapley_delta``),
    #: or their replication-robust discount.
    sources_per_product: Annotated[Distribution, within(1, 20, "sources")] = UniformInt(
        low=1, high=1
    )
    revenue_sharing: Literal["shapley", "shapley-robust"] = "shapley"
    shapley_permutations: int = Field(default=1_000, ge=1, le=100_000)
    shapley_delta: float = Field(default=0.05, gt=0, lt=1)
    #: Over how many sales it means to recover what the licence and processing cost.
    expected_sales: int = Field(default=20, ge=1, le=1_000_000)
    #: The most it spends on one licence, as a share of its balance.
    budget_share: float = Field(default=0.5, gt=0, le=1)
