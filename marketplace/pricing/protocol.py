"""The pricing plug-in interface: a mechanism turns a pricing context into a quote.

Mechanisms are registered by name; a scenario names one (``pricing = "cost-plus"``) and its
parameters. Later mechanisms (auctions, double auctions, negotiation) implement the same Protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from marketplace.errors import MarketError, UnknownMechanismError
from marketplace.params import checked_params

__all__ = [
    "MECHANISMS",
    "PricingContext",
    "PricingMechanism",
    "Quote",
    "make_mechanism",
    "register_mechanism",
]


@dataclass(frozen=True, slots=True)
class PricingContext:
    """What a mechanism may look at when pricing one listing.

    Attributes:
        listing: the listing id.
        unit_cost_fen: the provider's cost of serving one licence (production share, delivery,
            hosting over the licence term).
        proposed_fen: the price the provider's strategy proposes (posted-price mechanisms use
            it; cost-based mechanisms ignore it).
        quality_pct: the dataset's quality score, 0-100.
    """

    listing: str
    unit_cost_fen: int
    proposed_fen: int | None
    quality_pct: int


@dataclass(frozen=True, slots=True)
class Quote:
    price_fen: int
    reason: str


class PricingMechanism(Protocol):
    name: ClassVar[str]

    def quote(self, context: PricingContext) -> Quote: ...


M = TypeVar("M", bound=type)
MECHANISMS: dict[str, Callable[..., PricingMechanism]] = {}


def register_mechanism(name: str) -> Callable[[M], M]:
    """Class decorator: make a mechanism available to scenarios under ``name``."""

    def add(cls: M) -> M:
        if name in MECHANISMS:
            raise MarketError(f"pricing mechanism {name!r} is registered twice")
        MECHANISMS[name] = cls
        return cls

    return add


def make_mechanism(name: str, params: dict[str, Any] | None = None) -> PricingMechanism:
    try:
        factory = MECHANISMS[name]
    except KeyError:
        allowed = ", ".join(sorted(MECHANISMS))
        raise UnknownMechanismError(
            f"unknown pricing mechanism {name!r}; allowed: {allowed}"
        ) from None
    try:
        checked = checked_params(f"pricing mechanism {name!r}", factory, params or {})
        return factory(**checked)
    except (TypeError, ValueError) as exc:
        raise MarketError(str(exc)) from None
