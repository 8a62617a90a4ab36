"""Typed configuration of the exchange's stages (validated once, at the scenario edge).

Defaults follow the Shanghai Data Exchange's published fee schedule where one exists: the supplier
pays 2.5 % of each transaction, the buyer an annual membership fee.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from marketplace.distributions import Constant, Distribution, Exponential, LogNormal

__all__ = [
    "ExchangeConfig",
    "FeeSchedule",
    "OperationConfig",
    "RightsConfig",
    "StorageConfig",
    "TradingConfig",
]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeeSchedule(_Config):
    supplier_fee_bp: int = Field(default=250, ge=0, le=10_000)
    membership_fee_fen: int = Field(default=500_000, ge=0)  # ¥5,000 a year
    membership_period_days: int = Field(default=365, gt=0)
    hosting_fen_per_gb_day: int = Field(default=50, ge=0)  # ¥0.50 per GB-day
    hosting_period_days: int = Field(default=30, gt=0)


class StorageConfig(_Config):
    """Listing and hosting: ingestion (upload, format and integrity checks) is a queue."""

    capacity: int = Field(default=4, gt=0)
    ingest_days: Distribution = LogNormal(median=0.5, sigma=0.6)


class RightsConfig(_Config):
    """Rights confirmation: certificates are valid for a fixed term."""

    certificate_valid_days: int = Field(default=365, gt=0)


class TradingConfig(_Config):
    """Order processing desk: matching and contract drafting take time and staff."""

    capacity: int = Field(default=8, gt=0)
    matching_days: Distribution = Exponential(mean=0.02)


class OperationConfig(_Config):
    """Delivery and settlement."""

    download_mb_per_day: int = Field(default=2_000_000, gt=0)
    api_setup_days: Distribution = LogNormal(median=0.5, sigma=0.5)
    compute_setup_days: Distribution = LogNormal(median=2.0, sigma=0.5)
    download_failure_bp: int = Field(default=100, ge=0, le=10_000)
    api_failure_bp: int = Field(default=200, ge=0, le=10_000)
    compute_failure_bp: int = Field(default=300, ge=0, le=10_000)
    settlement_every_days: float = Field(default=1.0, gt=0)
    delivery_jitter_days: Distribution = Constant(value=0.0)


class ExchangeConfig(_Config):
    fees: FeeSchedule = FeeSchedule()
    storage: StorageConfig = StorageConfig()
    rights: RightsConfig = RightsConfig()
    trading: TradingConfig = TradingConfig()
    operation: OperationConfig = OperationConfig()
