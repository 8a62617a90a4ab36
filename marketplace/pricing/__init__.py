"""Pricing mechanisms behind one Protocol, looked up by name (importing registers them)."""

from marketplace.pricing.adaptive import AdaptivePosted, Hedge, regret
from marketplace.pricing.cost_plus import CostPlus
from marketplace.pricing.myerson import myerson_reserve
from marketplace.pricing.negotiation import Negotiation, NegotiationVenue
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
from marketplace.pricing.reference import Comparable, ReferencePrices
from marketplace.pricing.sealed_bid import Clearing, SealedBidVenue, SecondPrice
from marketplace.pricing.tiered import Tiered, TieredVenue, Version, choose_version

__all__ = [
    "MECHANISMS",
    "AdaptivePosted",
    "Clearing",
    "Comparable",
    "CostPlus",
    "DoubleAuction",
    "Fill",
    "Hedge",
    "LimitOrder",
    "MechanismKind",
    "Negotiation",
    "NegotiationVenue",
    "OrderBookVenue",
    "PostedPrice",
    "PostedVenue",
    "PricingContext",
    "PricingMechanism",
    "Quote",
    "ReferencePrices",
    "SealedBidVenue",
    "SecondPrice",
    "Side",
    "Tiered",
    "TieredVenue",
    "Venue",
    "VenueView",
    "Version",
    "choose_version",
    "make_mechanism",
    "myerson_reserve",
    "register_mechanism",
    "regret",
]
