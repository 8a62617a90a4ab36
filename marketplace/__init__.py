"""The exchange: the five-stage chain (storage → rights → pricing → trading → operation), its
vocabulary of ledger entries, pricing plug-ins, the cross-border hook, metrics, time series and
invariants as folds over the ledger. Never imports ``agents`` or ``scenarios``."""

from marketplace.authorship import MarketRules, market_rules
from marketplace.config import ExchangeConfig
from marketplace.crossborder_hook import GateDecision, OpenBorders, TransferGate
from marketplace.entries import AUTHORIZATION, BODY_MODELS, check_body
from marketplace.errors import InsufficientFundsError, MarketError
from marketplace.exchange import Exchange
from marketplace.invariants import InvariantResult, check_invariants
from marketplace.metrics import LedgerFold, Metrics, fold
from marketplace.pricing import PricingMechanism, make_mechanism, register_mechanism
from marketplace.timeseries import SeriesFold, TimeSeries, fold_series

__all__ = [
    "AUTHORIZATION",
    "BODY_MODELS",
    "Exchange",
    "ExchangeConfig",
    "GateDecision",
    "InsufficientFundsError",
    "InvariantResult",
    "LedgerFold",
    "MarketError",
    "MarketRules",
    "Metrics",
    "OpenBorders",
    "PricingMechanism",
    "SeriesFold",
    "TimeSeries",
    "TransferGate",
    "check_body",
    "check_invariants",
    "fold",
    "fold_series",
    "make_mechanism",
    "market_rules",
    "register_mechanism",
]
