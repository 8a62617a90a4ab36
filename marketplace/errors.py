"""The exchange's exceptions, under one root."""

from __future__ import annotations

__all__ = ["InsufficientFundsError", "MarketError", "UnknownMechanismError"]


class MarketError(Exception):
    """Root of every error the marketplace raises on purpose."""


class InsufficientFundsError(MarketError):
    """An account cannot pay."""


class UnknownMechanismError(MarketError, KeyError):
    """A pricing mechanism name that is not registered."""
