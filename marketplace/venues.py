"""Where each order goes: the exchange's venues, opened from the listings' mechanisms.

A listing's mechanism decides its venue's life (``PricingMechanism.kind``):

- ``posted`` and ``order-book``: one venue per good for the whole run — the listing, or its
  category when the mechanism shares one book per category (``book = "category"``);
- ``sealed-bid``: one venue per round; a round opens with the first bid after the last one
  closed and closes ``round_days`` later (the trading stage schedules it);
- ``bilateral``: one venue per negotiation, opened by the buyer's first offer.

A venue's id names it on the ledger: the listing (``provider-0001/L001``), the category's book
(``book:finance``), a round (``provider-0001/L001#3``) or a negotiation (``N0000012``). The
seller's standing quote is its sell order there, ``quote-SEQ`` by the quote's ledger seq.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.pricing import LimitOrder, PricingMechanism, Venue
from marketplace.state import ListingState

__all__ = ["VenueBook", "VenueSlot", "quote_order_id", "quote_orders"]


def quote_order_id(quote_seq: int, version: int = 0) -> str:
    """The sell order a listing's quote stands for at its venue (``quote-SEQ``; a tiered
    listing's version k: ``quote-SEQ.vK``)."""
    return f"quote-{quote_seq}" if version == 0 else f"quote-{quote_seq}.v{version}"


def quote_orders(listing: ListingState, quantity: int | None, at: int) -> list[LimitOrder]:
    """The seller's standing orders its quote makes: one, or one per version of a menu."""
    assert listing.price_fen is not None and listing.quote_seq is not None
    prices = [price for _quality, price in listing.menu] or [listing.price_fen]
    return [
        LimitOrder(
            quote_order_id(listing.quote_seq, version),
            listing.provider,
            "sell",
            listing.listing,
            price,
            quantity,
            at,
            version=version,
        )
        for version, price in enumerate(prices)
    ]


@dataclass
class VenueSlot:
    """One open venue and what the exchange knows of it."""

    id: str
    good: str
    mechanism: PricingMechanism
    venue: Venue
    opened_at: int
    listing: str | None  # None for a category's shared book
    closes_at: int | None = None
    closed: bool = False
    #: Buy orders resting here: order id -> the listing they want.
    buys: dict[str, str] = field(default_factory=dict)
    #: Buy orders placed for this venue that have not reached it yet (at the desk).
    in_flight: set[str] = field(default_factory=set)


class VenueBook:
    """The open venues, by id and by good."""

    def __init__(self) -> None:
        self._by_id: dict[str, VenueSlot] = {}
        self._standing: dict[str, VenueSlot] = {}  # good -> its posted/book venue or open round
        self._rounds: dict[str, int] = {}
        self._negotiations = 0

    def __getitem__(self, venue_id: str) -> VenueSlot:
        return self._by_id[venue_id]

    def get(self, venue_id: str) -> VenueSlot | None:
        return self._by_id.get(venue_id)

    @staticmethod
    def good_of(listing: ListingState, mechanism: PricingMechanism) -> str:
        """The good a listing trades as: itself, or its category's shared book."""
        if getattr(mechanism, "book", "listing") == "category":
            return f"book:{listing.spec.category}"
        return listing.listing

    def standing(self, listing: ListingState, mechanism: PricingMechanism) -> VenueSlot | None:
        """The venue the listing's quote stands in now, if one is open."""
        return self._standing.get(self.good_of(listing, mechanism))

    def for_buyer(
        self, listing: ListingState, mechanism: PricingMechanism, now: int
    ) -> tuple[VenueSlot, bool]:
        """The venue a buy order for ``listing`` goes to, and whether it was opened for it."""
        if mechanism.kind == "bilateral":
            self._negotiations += 1
            return self._open(f"N{self._negotiations:07d}", listing, mechanism, now), True
        good = self.good_of(listing, mechanism)
        slot = self._standing.get(good)
        if slot is not None and not slot.closed:
            return slot, False
        if mechanism.kind == "sealed-bid":
            self._rounds[good] = self._rounds.get(good, 0) + 1
            slot = self._open(f"{good}#{self._rounds[good]}", listing, mechanism, now)
        else:
            slot = self._open(good, listing, mechanism, now)
        self._standing[good] = slot
        return slot, True

    def for_seller(self, listing: ListingState, mechanism: PricingMechanism, now: int) -> VenueSlot:
        """The venue a listing's quote stands in, opened for posted prices and books (a sealed
        round or a negotiation opens only with a buyer)."""
        good = self.good_of(listing, mechanism)
        slot = self._standing.get(good)
        if slot is None or slot.closed:
            slot = self._open(good, listing, mechanism, now)
            self._standing[good] = slot
        return slot

    def close(self, slot: VenueSlot) -> None:
        slot.closed = True
        if self._standing.get(slot.good) is slot:
            del self._standing[slot.good]
        self._by_id.pop(slot.id, None)

    def _open(
        self, venue_id: str, listing: ListingState, mechanism: PricingMechanism, now: int
    ) -> VenueSlot:
        good = self.good_of(listing, mechanism)
        venue = mechanism.open_venue(good, now)
        shared = good != listing.listing
        slot = VenueSlot(venue_id, good, mechanism, venue, now, None if shared else listing.listing)
        self._by_id[venue_id] = slot
        return slot

    def seed_quote(self, slot: VenueSlot, listing: ListingState, quantity: int | None) -> None:
        """Put the listing's standing quote into a venue as the seller's order(s) (no fills: a
        fresh venue has no bids yet)."""
        for order in quote_orders(listing, quantity, slot.opened_at):
            slot.venue.submit(order)
