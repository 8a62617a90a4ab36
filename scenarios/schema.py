"""The scenario schema: frozen pydantic models, unknown fields refused, defaults on the model.

A scenario is a TOML file with ``[run]``, ``[ledger]``, ``[exchange]`` tables and one
``[[population]]`` table per agent population, whose ``kind`` selects its model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.populations import AssessorPopulation, BuyerPopulation, ProviderPopulation
from marketplace.config import ExchangeConfig

__all__ = ["CrossBorderSection", "LedgerSection", "RunSection", "Scenario"]

PopulationSpec = Annotated[
    ProviderPopulation | BuyerPopulation | AssessorPopulation, Field(discriminator="kind")
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunSection(_Section):
    name: str = Field(default="unnamed", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    seed: int = Field(default=1, ge=0, lt=2**63)
    days: float = Field(default=180.0, gt=0, le=36_500)


class LedgerSection(_Section):
    checkpoint_every: int = Field(default=16_384, gt=0)
    batch_size: int = Field(default=1_024, gt=0)
    #: "background": signatures are verified on a second core before each batch is persisted;
    #: "inline": each append verifies before it returns.
    verify: Literal["background", "inline"] = "background"


class CrossBorderSection(_Section):
    """The trade-time transfer gate. Policy packs (the rules engine) plug in here."""

    gate: Literal["open-borders"] = "open-borders"


class Scenario(_Section):
    run: RunSection = RunSection()
    ledger: LedgerSection = LedgerSection()
    exchange: ExchangeConfig = ExchangeConfig()
    crossborder: CrossBorderSection = CrossBorderSection()
    population: list[PopulationSpec] = Field(min_length=1)

    @field_validator("population")
    @classmethod
    def _one_table_per_kind(cls, populations: list[PopulationSpec]) -> list[PopulationSpec]:
        kinds = [p.kind for p in populations]
        repeated = sorted({k for k in kinds if kinds.count(k) > 1})
        if repeated:
            raise ValueError(f"one [[population]] table per kind; repeated: {repeated}")
        return populations

    def with_overrides(self, *, seed: int | None = None, days: float | None = None) -> Scenario:
        """The same scenario with the run's seed or length replaced (CLI flags)."""
        run = self.run.model_copy(
            update={k: v for k, v in (("seed", seed), ("days", days)) if v is not None}
        )
        return self.model_copy(update={"run": RunSection.model_validate(run.model_dump())})
