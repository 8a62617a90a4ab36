"""The scenario schema: frozen pydantic models, unknown fields refused, defaults on the model.

A scenario is a TOML file with ``[run]``, ``[ledger]``, ``[exchange]`` tables and one
``[[population]]`` table per agent population, whose ``kind`` selects its model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.populations import (
    AssessorPopulation,
    BuyerPopulation,
    CertifierPopulation,
    ProviderPopulation,
    RegulatorPopulation,
)
from agents.populations_broker import BrokerPopulation
from agents.populations_lab import TraderPopulation
from marketplace.config import MAX_DAYS, ExchangeConfig
from marketplace.crossborder import PackError, load_pack
from scenarios.session import SessionSection

__all__ = [
    "CrossBorderSection",
    "LedgerSection",
    "RunSection",
    "Scenario",
    "review_staffing_problems",
    "staffing_problems",
    "work_problems",
]

PopulationSpec = Annotated[
    ProviderPopulation
    | BrokerPopulation
    | BuyerPopulation
    | AssessorPopulation
    | RegulatorPopulation
    | CertifierPopulation
    | TraderPopulation,
    Field(discriminator="kind"),
]


class _Section(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, allow_inf_nan=False, validate_default=True
    )


class RunSection(_Section):
    """What to run, and the most work it may take: a run that would exceed a bound stops with
    a clear error instead of hanging (the bounds are checked against an estimate when the
    scenario is loaded, and against the real counts while it runs)."""

    name: str = Field(default="unnamed", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    seed: int = Field(default=1, ge=0, lt=2**63)
    #: Sim day 0 is this date's midnight: transfers are dated (the regime in force, the year
    #: whose people count) and regulators count working days on the calendar.
    start_date: dt.date = Field(
        default=dt.date(2025, 1, 1), ge=dt.date(2000, 1, 1), le=dt.date(2100, 1, 1)
    )
    days: float = Field(default=180.0, gt=0, le=MAX_DAYS)
    max_events: int = Field(default=200_000_000, ge=1, le=10**11)
    max_entries: int = Field(default=50_000_000, ge=1, le=10**10)
    max_memory_mb: int = Field(default=8_192, ge=64, le=1_048_576)


class LedgerSection(_Section):
    checkpoint_every: int = Field(default=16_384, ge=1, le=10**9)
    batch_size: int = Field(default=1_024, ge=1, le=1_000_000)
    #: "background": signatures are verified on a second core before each batch is persisted;
    #: "inline": each append verifies before it returns.
    verify: Literal["background", "inline"] = "background"


class CrossBorderSection(_Section):
    """The trade-time transfer gate: which policy packs decide transfers abroad.

    ``pack`` is the regime under study (a built-in pack such as ``prc-2024``, or a pack file);
    ``also`` the packs of other jurisdictions whose data the world trades (``gdpr-ch5``,
    ``us-doj-bulk``). Every pack reads the transfers within its scope. Without a pack every
    transfer is allowed (the explicit no-policy baseline). ``regime_dates = "counterfactual"``
    applies ``pack`` whatever the transfer's date, to compare regimes on the same world.
    """

    pack: str | None = None
    also: list[str] = Field(default_factory=list, max_length=16)
    regime_dates: Literal["as-in-force", "counterfactual"] = "as-in-force"

    @field_validator("pack")
    @classmethod
    def _pack_loads(cls, pack: str | None) -> str | None:
        if pack is not None:
            _loaded(pack)
        return pack

    @field_validator("also")
    @classmethod
    def _packs_load(cls, packs: list[str]) -> list[str]:
        for pack in packs:
            _loaded(pack)
        return packs


def _loaded(pack: str) -> None:
    try:
        load_pack(pack)
    except PackError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None


class PluginsSection(_Section):
    """Modules to import before the scenario is read (see :mod:`scenarios.plugins`): ``.py``
    files relative to the scenario's directory, or dotted module names."""

    modules: list[str] = Field(default_factory=list, max_length=100)


class Scenario(_Section):
    plugins: PluginsSection = PluginsSection()
    run: RunSection = RunSection()
    ledger: LedgerSection = LedgerSection()
    exchange: ExchangeConfig = ExchangeConfig()
    crossborder: CrossBorderSection = CrossBorderSection()
    session: SessionSection | None = None
    population: list[PopulationSpec] = Field(min_length=1)

    @field_validator("population")
    @classmethod
    def _one_name_per_population(cls, populations: list[PopulationSpec]) -> list[PopulationSpec]:
        labels = [p.label for p in populations]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(
                f"two populations would name their agents alike ({', '.join(repeated)}); "
                "give each [[population]] of the same kind its own name"
            )
        return populations

    @model_validator(mode="after")
    def _session_needs_traders(self) -> Scenario:
        traders = [p for p in self.population if isinstance(p, TraderPopulation)]
        if traders and self.session is None:
            raise ValueError("trader populations trade in a [session]: add one")
        if self.session is not None and {p.side for p in traders} != {"buy", "sell"}:
            raise ValueError("a [session] needs trader populations of both sides (buy and sell)")
        return self

    def located_problems(self) -> list[tuple[Loc, str]]:
        """Problems of the whole scenario, each at the field to change (the loader locates it):
        today, an estimate of the run's work beyond its ``run.max_events`` / ``max_entries``."""
        return work_problems(self) + staffing_problems(self) + review_staffing_problems(self)

    def with_overrides(self, *, seed: int | None = None, days: float | None = None) -> Scenario:
        """The same scenario with the run's seed or length replaced (CLI flags)."""
        run = self.run.model_copy(
            update={k: v for k, v in (("seed", seed), ("days", days)) if v is not None}
        )
        return self.model_copy(update={"run": RunSection.model_validate(run.model_dump())})


#: Events and ledger entries per unit of work, measured on the baseline and rounded up: a
#: buyer's need is about 6 events and 2 entries, a listing about 12 events and 5 entries.
_EVENTS_PER_NEED, _ENTRIES_PER_NEED = 8, 3
_EVENTS_PER_LISTING, _ENTRIES_PER_LISTING = 16, 6

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class _Work:
    """One source of work: its events and entries, the field that sets it, and what it is."""

    events: float
    entries: float
    field: Loc
    what: str


def _sources(scenario: Scenario) -> list[_Work]:
    days = scenario.run.days
    ops, fees = scenario.exchange.operation, scenario.exchange.fees
    cycles = days / ops.settlement_every_days
    sources = [
        _Work(
            cycles,
            cycles,
            ("exchange", "operation", "settlement_every_days"),
            f"a settlement cycle every {ops.settlement_every_days:g} days",
        ),
        _Work(
            days / fees.hosting_period_days,
            days / fees.hosting_period_days,
            ("exchange", "fees", "hosting_period_days"),
            "hosting bills",
        ),
    ]
    for index, population in enumerate(scenario.population):
        if isinstance(population, BuyerPopulation):
            rate = population.arrival_rate_per_day
            needs = population.count * rate * days
            what = f"{population.count:,} buyers × {rate:g} needs a day × {days:g} days"
            loc: Loc = ("population", index, "arrival_rate_per_day")
            sources.append(_Work(needs * _EVENTS_PER_NEED, needs * _ENTRIES_PER_NEED, loc, what))
        elif isinstance(population, ProviderPopulation):
            listings = population.count * population.datasets.mean()
            what = f"{population.count:,} providers × {population.datasets.mean():g} datasets"
            events, entries = listings * _EVENTS_PER_LISTING, listings * _ENTRIES_PER_LISTING
            sources.append(_Work(events, entries, ("population", index, "datasets"), what))
            every = population.reprice_every_days
            reprices = listings * days / every
            what = f"{listings:.3g} listings repriced every {every:g} days"
            loc = ("population", index, "reprice_every_days")
            sources.append(_Work(2 * reprices, reprices, loc, what))
    return sources


def work_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """The run's work, estimated from its rates, against its bounds.

    Recurring processes contribute events per period, buyers their needs, providers their
    listings and repricings. The field blamed is the largest contributor, so the message says
    what to change.
    """
    sources = _sources(scenario)
    run = scenario.run
    problems: list[tuple[Loc, str]] = []
    for bound, name, unit in (
        (run.max_events, "max_events", "events"),
        (run.max_entries, "max_entries", "ledger entries"),
    ):
        size = [source.events if unit == "events" else source.entries for source in sources]
        total = sum(size)
        if total > bound:
            worst = sources[size.index(max(size))]
            problems.append(
                (
                    worst.field,
                    f"{worst.what}: the run would take about {total:.3g} {unit}, more than "
                    f"run.{name} = {bound:,}; lower it, or raise run.{name} if you mean it",
                )
            )
    return problems


def staffing_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Every mechanism the scenario's packs can require goes to a route with staff: a
    security assessment nobody reviews would hold its transfers for ever."""
    section = scenario.crossborder
    if section.pack is None:
        return []
    mechanisms: set[str] = set()
    for name in [section.pack, *section.also]:
        mechanisms |= set(load_pack(name).mechanisms)
    clearance = scenario.exchange.clearance
    staffed: set[str] = set()
    for population in scenario.population:
        if population.count and isinstance(population, RegulatorPopulation):
            staffed.add(population.handles)
        elif population.count and isinstance(population, CertifierPopulation):
            staffed.add("certification")
    problems: list[tuple[Loc, str]] = []
    for mechanism in sorted(mechanisms):
        route = clearance.routes.get(mechanism, clearance.default_route)
        if route != "self" and route not in staffed:
            who = "certifier" if route == "certification" else f'regulator (handles = "{route}")'
            problems.append(
                (
                    ("crossborder", "pack"),
                    f"the packs can require {mechanism!r}, which goes to the {route} route, but "
                    f"no population handles it: add a {who} population, or route it elsewhere "
                    "in [exchange.clearance.routes]",
                )
            )
    return problems


def review_staffing_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Every review step of rights registration has assessors of its specialty when datasets
    come to market: an unstaffed step would hold every application for ever."""
    providers = any(p.count and isinstance(p, ProviderPopulation) for p in scenario.population)
    if not providers:
        return []
    staffed = {
        p.specialty for p in scenario.population if p.count and isinstance(p, AssessorPopulation)
    }
    return [
        (
            ("exchange", "rights", "steps"),
            f"review step {step!r} has no assessors: add an assessor population with "
            f'specialty = "{step}", or drop the step',
        )
        for step in scenario.exchange.rights.steps
        if step not in staffed
    ]
