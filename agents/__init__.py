"""Who acts: market participants as SimPy processes, behaviour in pure, registered strategies."""

from agents.assessor import Assessor
from agents.buyer import Buyer
from agents.operator import Operator
from agents.populations import (
    AssessorPopulation,
    BuyerPopulation,
    CertifierPopulation,
    Population,
    ProviderPopulation,
    RegulatorPopulation,
)
from agents.provider import Provider
from agents.regulator import ClearanceStaff
from agents.strategies import STRATEGIES, make_strategy, register, strategy_names

__all__ = [
    "STRATEGIES",
    "Assessor",
    "AssessorPopulation",
    "Buyer",
    "BuyerPopulation",
    "CertifierPopulation",
    "ClearanceStaff",
    "Operator",
    "Population",
    "Provider",
    "ProviderPopulation",
    "RegulatorPopulation",
    "make_strategy",
    "register",
    "strategy_names",
]
