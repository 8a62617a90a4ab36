"""Laboratory traders with induced values, for the classic market experiments.

Smith's design (V. L. Smith, "An Experimental Study of Competitive Market Behavior", JPE 70(2),
1962, §I) as Gode & Sunder ran it with machines (D. K. Gode & S. Sunder, "Allocative
Efficiency of Markets with Zero-Intelligence Traders", JPE 101(1), 1993, §II): each buyer holds
the right to buy units it redeems at its private values, each seller units it can produce at
its private costs; a trader trades its units in the order given (its second unit only after the
first), so the values and costs are the market's demand and supply schedules. In dxsim a seller
is a provider with one listing (its units), certified like any other; a buyer is a buyer.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from agents.populations import _Population
from agents.strategies import StrategyKind
from marketplace.config import MAX_FEN, Fen

__all__ = ["TraderPopulation"]

UnitValue = Annotated[int, Field(ge=1, le=MAX_FEN)]


class TraderPopulation(_Population):
    """One side of a laboratory market: ``units_fen[i]`` are trader ``i``'s values (buyers) or
    costs (sellers), in the order it trades them; ``count`` must equal their number."""

    kind: Literal["trader"] = "trader"
    strategy_kind: ClassVar[StrategyKind] = "trading"
    strategy: str = "zi-c"
    side: Literal["buy", "sell"]
    units_fen: list[Annotated[list[UnitValue], Field(min_length=1, max_length=1_000)]] = Field(
        min_length=1, max_length=10_000
    )
    endowment_fen: Fen = 10_000_000_000
    category: str = Field(default="lab", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")

    @property
    def role(self) -> str:
        """The exchange role of its agents: sellers are providers, buyers buyers."""
        return "provider" if self.side == "sell" else "buyer"

    @model_validator(mode="after")
    def _one_schedule_per_trader(self) -> TraderPopulation:
        if self.count != len(self.units_fen):
            raise ValueError(
                f"count = {self.count} but units_fen lists {len(self.units_fen)} traders' "
                "units: give one list per trader"
            )
        return self
