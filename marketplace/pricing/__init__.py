"""Pricing mechanisms behind one Protocol, looked up by name (importing registers them)."""

from marketplace.pricing.cost_plus import CostPlus
from marketplace.pricing.order_book import DoubleAuction, OrderBookVenue
from marketplace.pricing.posted import PostedPrice
from marketplace.pricing.posted_venue import PostedVenue
from marketplace.pricing.protocol import (
    MECHANISMS,
    Fill,
    LimitOrder,
    MechanismKind,
    PricingContext,
    PricingMechanism,
    Quote,
    Side,
    Venue,
    VenueView,
    make_mechanism,
    register_mechanism,
)

__all__ = [
    "MECHANISMS",
    "CostPlus",
    "DoubleAuction",
    "Fill",
    "LimitOrder",
    "MechanismKind",
    "OrderBookVenue",
    "PostedPrice",
    "PostedVenue",
    "PricingContext",
    "PricingMechanism",
    "Quote",
    "Side",
    "Venue",
    "VenueView",
    "make_mechanism",
    "register_mechanism",
]
