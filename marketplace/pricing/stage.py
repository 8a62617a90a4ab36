"""Stage 3, pricing: a listing's price is set by the mechanism its provider chose.

The stage records every quote (``pricing.quote``) and keeps the catalogue: a listing appears in
its category once it has a price. Mechanisms are plug-ins (:mod:`marketplace.pricing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger import Identity
from marketplace.entries import PriceQuote
from marketplace.errors import MarketError
from marketplace.pricing import PricingContext, PricingMechanism
from marketplace.state import ListingState

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["Pricing"]


class Pricing:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def quote(
        self,
        provider: Identity,
        listing: ListingState,
        mechanism: PricingMechanism,
        proposed_fen: int | None = None,
        draw: float = 0.5,
    ) -> int:
        """Price ``listing`` with ``mechanism``; record the quote if the price changed.

        ``draw`` is a uniform number from the provider's own stream, for mechanisms that
        randomise (an adaptive price drawn from its weights). A mechanism with a ``menu``
        (tiered versions) quotes every version at once.
        """
        if listing.provider != provider.id:
            raise MarketError(f"{provider.id} cannot price {listing.listing}")
        if listing.withdrawn_at is not None:
            raise MarketError(f"{listing.listing} is withdrawn: it has no price")
        spec = listing.spec
        now = self.exchange.now_s()
        # What a licence must bring in: the unit cost and the supplier fee on the price. Every
        # mechanism floors, reserves and marks up from here, so a fee moves every price.
        break_even = self.exchange.break_even_fen(spec.unit_cost_fen)
        if break_even is None:
            raise MarketError(f"{listing.listing}: no price covers its cost after the fee")
        context = PricingContext(
            listing.listing,
            break_even,
            proposed_fen,
            spec.quality_pct,
            reference_fen=self.exchange.reference.reference(spec.category, spec.quality_pct, now),
            sales=listing.sales,
            revenue_fen=listing.revenue_fen,
            now_s=now,
            draw=draw,
        )
        quote = mechanism.quote(context)
        menu_of = getattr(mechanism, "menu", None)
        menu = (
            tuple((v.quality_pct, v.price_fen) for v in menu_of(context))
            if callable(menu_of)
            else ()
        )
        if (
            quote.price_fen == listing.price_fen
            and mechanism.name == listing.mechanism
            and quote.quantity == listing.quote_quantity
            and menu == listing.menu
        ):
            return quote.price_fen
        body = PriceQuote(
            listing=listing.listing,
            mechanism=mechanism.name,
            price_fen=quote.price_fen,
            cost_fen=spec.unit_cost_fen,
            reason=quote.reason,
            quantity=quote.quantity,
            menu=[list(line) for line in menu],
            grid=list(quote.grid),
        )
        entry = self.exchange.record("pricing.quote", body, [provider])
        replaced = listing.quote_seq
        listing.price_fen = quote.price_fen
        listing.mechanism = mechanism.name
        listing.quote_seq = entry.seq
        listing.quote_quantity = quote.quantity
        listing.menu = menu
        self.exchange.offer_changed(listing)
        self.exchange.trading.quoted(listing, mechanism, replaced)
        return quote.price_fen
