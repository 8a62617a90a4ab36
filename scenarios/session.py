"""The ``[session]`` section: a laboratory double-auction session (see :mod:`agents.lab`).

A scenario with a session and ``trader`` populations is a market experiment: sellers' units are
listed and certified before ``start_day``; then ``periods`` periods of ``shouts_per_period``
shouts each, ``period_days`` apart, into one order book per category (Gode & Sunder 1993, §II;
their ZI traders had 30 seconds a period, which "sufficed for all possible trades": 500 shouts a
period do too for the built-in markets).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from marketplace.config import MAX_DAYS, MAX_FEN
from marketplace.errors import MarketError
from marketplace.pricing import PricingMechanism, make_mechanism

__all__ = ["SessionSection"]


class SessionSection(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False, validate_default=True
    )

    periods: int = Field(default=6, ge=1, le=1_000)
    #: When the first period opens: after the sellers' listings are certified.
    start_day: float = Field(default=10.0, ge=0, le=MAX_DAYS)
    period_days: float = Field(default=1.0, gt=0, le=365)
    shouts_per_period: int = Field(default=500, ge=1, le=1_000_000)
    #: The price range a ZI-U trader draws from (Gode & Sunder: 1 to 200).
    price_floor_fen: int = Field(default=1, ge=1, le=MAX_FEN)
    price_ceiling_fen: int = Field(default=200, ge=1, le=MAX_FEN)
    improvement_rule: bool = True
    clear_after_trade: bool = True
    #: The mechanism of the sellers' book: a continuous double auction, one book per category.
    mechanism: str = "double-auction"
    mechanism_params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sane(self) -> SessionSection:
        if self.price_floor_fen > self.price_ceiling_fen:
            raise ValueError("price_floor_fen must not exceed price_ceiling_fen")
        self.mechanism_for_sellers()  # an unknown mechanism or parameter is an error here
        return self

    def mechanism_for_sellers(self) -> PricingMechanism:
        """The sellers' book: the session's mechanism with one book per category, in which
        sellers post their own unit asks (no standing quote)."""
        params = {**self.mechanism_params, "book": "category", "standing_quote": False}
        try:
            return make_mechanism(self.mechanism, params)
        except MarketError as exc:  # an unknown mechanism or a bad parameter
            raise ValueError(str(exc)) from None
