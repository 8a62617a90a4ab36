"""Pricing mechanisms behind one Protocol, looked up by name (importing registers them)."""

from marketplace.pricing.cost_plus import CostPlus
from marketplace.pricing.posted import PostedPrice
from marketplace.pricing.protocol import (
    MECHANISMS,
    PricingContext,
    PricingMechanism,
    Quote,
    make_mechanism,
    register_mechanism,
)

__all__ = [
    "MECHANISMS",
    "CostPlus",
    "PostedPrice",
    "PricingContext",
    "PricingMechanism",
    "Quote",
    "make_mechanism",
    "register_mechanism",
]
