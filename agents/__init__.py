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
from agents.populations_broker import BrokerPopulation
from agents.provider import Provider
from agents.regulator import ClearanceStaff
from agents.strategies import STRATEGIES, make_strategy, register, strategy_names
from agents.trading_strategies import MarketEvent, TradeObservation, TradingStrategy

__all__ = [
    "STRATEGIES",
    "Assessor",
    "AssessorPopulation",
    "BrokerPopulation",
    "Buyer",
    "BuyerPopulation",
    "CertifierPopulation",
    "ClearanceStaff",
    "MarketEvent",
    "Operator",
    "Population",
    "Provider",
    "ProviderPopulation",
    "RegulatorPopulation",
    "TradeObservation",
    "TradingStrategy",
    "make_strategy",
    "register",
    "strategy_names",
]
