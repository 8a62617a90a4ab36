"""Stage 4, trading: orders meet at venues; every fill is checked and becomes a contract.

Every way a price forms goes through the same path (:mod:`marketplace.pricing`): a buyer's
order is recorded as it arrives (``trade.order``, signed by the buyer), waits for the desk
(capacity) and a sampled matching time, and goes to the venue its listing's mechanism opened
(:mod:`marketplace.venues`); a seller's orders go there directly (``pricing.quote``, or
``trade.ask`` for explicit units and counter-offers). Whatever fills come out, the desk checks
each one **at the moment it fills**, in this order: the listing has a valid three-rights
certificate now (no certificate, no trade); the buyer can pay the fill's price; and, when the
data leaves its origin jurisdiction, the transfer gate's decision. A passing fill becomes a
contract signed by buyer and provider, the price moves into escrow and delivery starts; a
failing one is recorded as ``trade.rejected``, signed by the operator. An order that does not
fill rests where its venue lets it (a book, an auction round, a negotiation) until it fills, is
withdrawn (``trade.cancel``) or its venue closes.

The trading stage knows nothing of how a mechanism prices: it only submits orders, schedules a
venue's close when the venue has one, and settles fills.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import simpy

from marketplace.config import TradingConfig
from marketplace.crossborder_hook import TransferGate
from marketplace.entries import (
    AskPlaced,
    AuctionClearing,
    BidTerms,
    NeedUnmet,
    OrderCancelled,
    OrderPlaced,
)
from marketplace.errors import MarketError
from marketplace.pricing import Fill, LimitOrder, PricingMechanism, Side, VenueView
from marketplace.settle_fill import FillSettler
from marketplace.state import ContractState, ListingState, Offer, Order
from marketplace.transfer_facts import US_CATEGORIES, transfer_facts
from marketplace.venues import VenueBook, VenueSlot, quote_order_id, quote_orders

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["US_CATEGORIES", "Ticket", "Trading", "transfer_facts"]

CancelReason = Literal[
    "replaced", "expired", "walked-away", "venue-closed", "outbid", "deadline", "listing-withdrawn"
]
UnmetMembership = Literal[
    "membership-not-worth-its-fee", "cannot-afford-membership", "licence-not-offered"
]
UnmetReason = Literal["no-offers", "none-certified", "none-worth-its-price"] | UnmetMembership
#: Reasons a trader gives itself; the others are the venue's, signed by the operator.
_TRADERS_OWN: frozenset[str] = frozenset({"replaced", "expired", "walked-away"})


@dataclass
class Ticket:
    """A buy order in flight: ``done`` succeeds with its contract, or None once it is rejected,
    withdrawn or its venue closed without it."""

    order: Order
    done: simpy.Event


class Trading:
    def __init__(
        self,
        exchange: Exchange,
        config: TradingConfig,
        gate: TransferGate,
        rng: np.random.Generator,
    ) -> None:
        self.exchange = exchange
        self.config = config
        self.rng = rng
        self.desk = simpy.Resource(exchange.env, capacity=config.capacity)
        self.venues = VenueBook()
        self.mechanisms: dict[str, PricingMechanism] = {}  # listing -> its mechanism
        self.settler = FillSettler(exchange, gate)
        self._tickets: dict[str, Ticket] = {}  # buy orders not yet settled, by id
        self._sellers: dict[str, str] = {}  # sell orders (trade.ask) -> their venue
        self._orders = 0
        self._asks = 0

    # -- what traders see -------------------------------------------------------------------
    @property
    def contracts_signed(self) -> int:
        return self.settler.contracts_signed

    @property
    def orders_placed(self) -> int:
        return self._orders

    def mechanism_of(self, listing: ListingState) -> PricingMechanism:
        try:
            return self.mechanisms[listing.listing]
        except KeyError:
            raise MarketError(f"listing {listing.listing} has no pricing mechanism") from None

    def view(self, listing: ListingState) -> VenueView:
        """The public state of the venue the listing trades in now."""
        mechanism = self.mechanism_of(listing)
        slot = self.venues.standing(listing, mechanism)
        if slot is not None:
            return slot.venue.view()
        return VenueView(mechanism.kind, None, listing.price_fen, None, None)

    # -- sellers ------------------------------------------------------------------------------
    def quoted(
        self, listing: ListingState, mechanism: PricingMechanism, replaced: int | None
    ) -> None:
        """The pricing stage recorded a new quote: it replaces the listing's standing sell
        order where one stands (a posted price or a book); a lower ask may cross resting bids."""
        self.mechanisms[listing.listing] = mechanism
        if mechanism.kind in ("sealed-bid", "bilateral"):
            return  # the quote is read when a round or a negotiation opens
        if not getattr(mechanism, "standing_quote", True):
            return  # sellers post their own asks (trade.ask): a laboratory book
        now = self.exchange.now_s()
        slot = self.venues.for_seller(listing, mechanism, now)
        if replaced is not None:
            stale = quote_order_id(replaced)
            for order in slot.venue.resting():
                if order.order == stale or order.order.startswith(stale + ".v"):
                    slot.venue.cancel(order.order)
        fills: list[Fill] = []
        for sell in quote_orders(listing, listing.quote_quantity, now):
            fills += slot.venue.submit(sell)
        self._settle(slot, fills)

    def ask(
        self,
        listing: ListingState,
        price_fen: int,
        quantity: int | None,
        venue_id: str | None = None,
        cost_fen: int | None = None,
    ) -> str:
        """The seller's own order (signed by it): units of its listing at no less than
        ``price_fen``, at ``venue_id`` (a negotiation) or the listing's standing venue."""
        exchange = self.exchange
        mechanism = self.mechanism_of(listing)
        slot = (
            self.venues.for_seller(listing, mechanism, exchange.now_s())
            if venue_id is None
            else self.venues[venue_id]
        )
        self._asks += 1
        order_id = f"S{self._asks:07d}"
        body = AskPlaced(
            order=order_id,
            seller=listing.provider,
            listing=listing.listing,
            mechanism=mechanism.name,
            venue=slot.id,
            price_fen=price_fen,
            quantity=quantity,
            cost_fen=cost_fen,
        )
        exchange.record("trade.ask", body, [exchange.identities[listing.provider]])
        self._sellers[order_id] = slot.id
        if cost_fen is not None:
            listing.unit_costs[order_id] = cost_fen
        sell = LimitOrder(
            order_id,
            listing.provider,
            "sell",
            listing.listing,
            price_fen,
            quantity,
            exchange.now_s(),
        )
        self._settle(slot, slot.venue.submit(sell))
        return order_id

    # -- buyers -------------------------------------------------------------------------------
    def place(self, order: Order, venue_id: str | None = None) -> Order:
        """Record the buyer's order as it arrives (signed by the buyer); returns it with its id
        and the venue it goes to (``venue_id``: a negotiation already open)."""
        exchange = self.exchange
        listing = exchange.listings.get(order.listing)
        if listing is None or listing.price_fen is None:
            raise MarketError(f"{order.buyer} ordered {order.listing}, which is not on offer")
        mechanism = self.mechanism_of(listing)
        now = exchange.now_s()
        if venue_id is None:
            slot, opened = self.venues.for_buyer(listing, mechanism, now)
            if opened:
                self._opened(slot, listing, mechanism)
        else:
            slot = self.venues[venue_id]
        self._orders += 1
        placed = replace(order, order=f"O{self._orders:07d}", placed_at=now, venue=slot.id)
        body = OrderPlaced(
            order=placed.order or "",
            buyer=order.buyer,
            listing=order.listing,
            licence=order.licence,
            duration_days=order.duration_days,
            destination=order.destination,
            price_fen=order.price_fen,
            terms=order.terms,
            mechanism=mechanism.name,
            venue=slot.id,
            version=order.version,
            use=order.use,
            renews=order.renews,
        )
        exchange.record("trade.order", body, [exchange.identities[order.buyer]])
        slot.in_flight.add(placed.order or "")
        return placed

    def bid(self, order: Order) -> Generator[simpy.Event, Any, Ticket]:
        """Process: place the order (unless placed), wait for the desk, match it at its venue;
        returns its ticket (``done`` may already have fired)."""
        exchange = self.exchange
        if order.order is None:
            order = self.place(order)
        ticket = Ticket(order, exchange.env.event())
        self._tickets[order.order or ""] = ticket
        with self.desk.request() as seat:
            yield seat
            yield exchange.env.timeout(self.config.matching_days.sample(self.rng))
        if order.order in self._tickets:  # not already refused: its venue may have closed
            self._match(ticket)
        return ticket

    def purchase(
        self, order: Order, patience_days: float | None = None
    ) -> Generator[simpy.Event, Any, ContractState | None]:
        """Process: bid and wait for the outcome; an order still resting after
        ``patience_days`` is withdrawn. Returns the contract, or None."""
        env = self.exchange.env
        ticket = yield env.process(self.bid(order))
        if not ticket.done.triggered and patience_days is not None:
            yield ticket.done | env.timeout(patience_days)
            if not ticket.done.triggered:
                self.withdraw(ticket.order.order or "", "expired")
        result: ContractState | None = yield ticket.done
        return result

    def withdraw(self, order_id: str, reason: CancelReason) -> None:
        """Withdraw a resting order (a buy order's ticket then resolves to None)."""
        ticket = self._tickets.get(order_id)
        if ticket is not None:
            slot = self.venues.get(ticket.order.venue or "")
            if slot is not None:
                slot.venue.cancel(order_id)
                slot.buys.pop(order_id, None)
            self._cancel(
                order_id, ticket.order.buyer, ticket.order.listing, ticket.order.venue or "", reason
            )
            del self._tickets[order_id]
            ticket.done.succeed(None)
            return
        venue_id = self._sellers.pop(order_id, None)
        if venue_id is None:
            raise MarketError(f"order {order_id} is not resting anywhere")
        slot = self.venues.get(venue_id)
        withdrawn = None if slot is None else slot.venue.cancel(order_id)
        if withdrawn is not None:
            self._cancel(order_id, withdrawn.trader, withdrawn.listing, venue_id, reason)

    def counter(
        self, venue_id: str, listing: ListingState, side: Side, price_fen: int, order: Order
    ) -> Generator[simpy.Event, Any, Ticket | None]:
        """Process: a party's next offer in a negotiation. Its standing offer is withdrawn
        (``replaced``), then the new one is made: the buyer's a ``trade.order`` through the
        desk (returns its ticket), the seller's a ``trade.ask`` (returns None). ``order`` is
        the buyer's order in progress (its terms)."""
        slot = self.venues.get(venue_id)
        if slot is None:
            return None
        for standing in slot.venue.resting():
            if standing.side != side:
                continue
            if standing.order in self._tickets or standing.order in self._sellers:
                self.withdraw(standing.order, "replaced")
            else:  # the seller's list price (its quote) stands until the first counter-offer
                slot.venue.cancel(standing.order)
        if side == "sell":
            self.ask(listing, price_fen, 1, venue_id=venue_id)
            return None
        fresh = replace(order, order=None, placed_at=None, price_fen=price_fen)
        ticket: Ticket = yield self.exchange.env.process(self.bid(self.place(fresh, venue_id)))
        return ticket

    def is_resting(self, order_id: str) -> bool:
        """Whether a seller's order (``trade.ask``) still stands at its venue."""
        venue_id = self._sellers.get(order_id)
        slot = None if venue_id is None else self.venues.get(venue_id)
        return slot is not None and any(o.order == order_id for o in slot.venue.resting())

    def unmet(
        self,
        buyer: str,
        category: str,
        value_fen: int,
        offers: Sequence[Offer],
        membership: UnmetMembership | None = None,
    ) -> None:
        """Record a need that found no acceptable offer (lost demand), signed by the buyer;
        ``membership`` says why a buyer who is no member did not join to meet it."""
        certified = [o for o in offers if o.certified]
        reason: UnmetReason = (
            membership
            if membership is not None
            else "no-offers"
            if not offers
            else "none-certified"
            if not certified
            else "none-worth-its-price"
        )
        body = NeedUnmet(
            buyer=buyer,
            category=category,
            offers_seen=len(offers),
            certified_seen=len(certified),
            cheapest_fen=min((o.price_fen for o in certified), default=None),
            value_fen=value_fen,
            reason=reason,
        )
        self.exchange.record("trade.unmet", body, [self.exchange.identities[buyer]])

    def listing_withdrawn(self, listing: ListingState) -> None:
        """Its provider withdrew ``listing``: a venue of its own closes; in a shared book its
        standing sell orders are cancelled (the operator signs: the venue ends them)."""
        mechanism = self.mechanisms.get(listing.listing)
        if mechanism is None:
            return
        slot = self.venues.standing(listing, mechanism)
        if slot is None:
            return
        if slot.good == listing.listing:
            self.close(slot.id, "listing-withdrawn")
            return
        for order in slot.venue.resting():
            if order.listing != listing.listing or order.side != "sell":
                continue
            slot.venue.cancel(order.order)  # a standing quote is the quote's: no order entry
            if self._sellers.pop(order.order, None) is not None:
                self._cancel(order.order, order.trader, order.listing, slot.id, "listing-withdrawn")

    # -- venues -------------------------------------------------------------------------------
    def close(self, venue_id: str, reason: CancelReason = "venue-closed") -> None:
        """End a venue now: its closing fills settle, every order still resting is cancelled."""
        slot = self.venues.get(venue_id)
        if slot is None:
            return
        for order_id in sorted(slot.in_flight):  # still at the desk: too late for this venue
            if order_id in self._tickets:
                self._reject(order_id, "venue-refused", f"{venue_id} closed before it arrived")
        slot.in_flight.clear()
        # a timeout lands on the close to within float rounding of the sim clock
        now = max(self.exchange.now_s(), slot.closes_at or 0)
        fills = slot.venue.close(now)
        clearing = getattr(slot.venue, "clearing", None)
        if slot.mechanism.kind == "sealed-bid" and callable(clearing):
            self._record_clearing(slot, clearing())
        self.venues.close(slot)
        self._settle(slot, fills)
        for order_id in list(slot.buys):
            ticket = self._tickets.get(order_id)
            if ticket is not None:
                self.withdraw(order_id, "outbid" if slot.mechanism.kind == "sealed-bid" else reason)
        for order in slot.venue.resting():
            if order.order in self._sellers:
                self._sellers.pop(order.order)
                self._cancel(order.order, order.trader, order.listing, venue_id, reason)

    def _opened(self, slot: VenueSlot, listing: ListingState, mechanism: PricingMechanism) -> None:
        """A venue opened for a buyer: the listing's quote goes in as the seller's standing
        order, and a venue with an end (an auction round, a negotiation's deadline) gets its
        close scheduled at the moment the venue names."""
        if getattr(mechanism, "standing_quote", True):
            self.venues.seed_quote(slot, listing, listing.quote_quantity)
        closes_at = slot.venue.view().closes_at
        if closes_at is None:
            return
        slot.closes_at = closes_at
        reason: CancelReason = "deadline" if mechanism.kind == "bilateral" else "venue-closed"
        days = max(0, closes_at - self.exchange.now_s()) / 86_400
        self.exchange.env.process(self._close_later(slot.id, days, reason))

    def _close_later(
        self, venue_id: str, days: float, reason: CancelReason
    ) -> Generator[simpy.Event, Any, None]:
        yield self.exchange.env.timeout(days)
        self.close(venue_id, reason)

    def _match(self, ticket: Ticket) -> None:
        """The desk's turn for a buy order: the early checks, then its venue."""
        order = ticket.order
        exchange = self.exchange
        listing = exchange.listings[order.listing]
        slot = self.venues.get(order.venue or "")
        if slot is not None:
            slot.in_flight.discard(order.order or "")
        problem = self.settler.precheck(order, listing)
        if problem is None and slot is None:
            problem = ("price-changed", f"venue {order.venue} closed before the order reached it")
        if problem is not None:
            self._reject(order.order or "", *problem)
            return
        assert slot is not None
        # time priority is the order's arrival at the exchange (its ledger time), not the desk's
        buy = LimitOrder(
            order.order or "",
            order.buyer,
            "buy",
            order.listing,
            order.price_fen,
            1,
            exchange.now_s() if order.placed_at is None else order.placed_at,
            version=order.version,
        )
        try:
            fills = slot.venue.submit(buy)
        except MarketError as exc:  # the venue's own rules (out of turn, a second sealed bid)
            self._reject(order.order or "", "venue-refused", str(exc))
            return
        if any(fill.buy == buy.order for fill in fills):
            self._settle(slot, fills)
            return
        if any(rest.order == buy.order for rest in slot.venue.resting()):
            slot.buys[buy.order] = order.listing
            self._settle(slot, fills)
            return
        self._settle(slot, fills)
        view = slot.venue.view()
        ask = view.menu[order.version][1] if order.version < len(view.menu) else view.best_ask_fen
        self._reject(
            order.order or "", "price-changed", f"limit {order.price_fen} is below the ask {ask}"
        )

    def _settle(self, slot: VenueSlot, fills: list[Fill]) -> None:
        """Every fill becomes a contract or a rejection; replaced orders are cancelled."""
        take = getattr(slot.venue, "take_replaced", None)
        if callable(take):
            for old in take():
                if old.side == "buy" and old.order in self._tickets:
                    self.withdraw(old.order, "replaced")
                elif old.order in self._sellers:
                    self._sellers.pop(old.order)
                    self._cancel(old.order, old.trader, old.listing, slot.id, "replaced")
        for fill in fills:
            slot.buys.pop(fill.buy, None)
            ticket = self._tickets.get(fill.buy)
            if ticket is None:
                raise MarketError(f"fill of {fill.buy}, which is not an order in flight")
            listing = self.exchange.listings[fill.listing]
            self._resolve(
                fill.buy, self.settler.settle(ticket.order, listing, fill, slot.mechanism)
            )

    def _resolve(self, order_id: str, contract: ContractState | None) -> None:
        ticket = self._tickets.pop(order_id, None)
        if ticket is None:
            raise MarketError(f"order {order_id} is settled twice")
        ticket.done.succeed(contract)

    def _reject(self, order_id: str, reason: str, detail: str) -> None:
        ticket = self._tickets.get(order_id)
        if ticket is None:
            raise MarketError(f"order {order_id} is settled twice")
        self.settler.reject(ticket.order, reason, detail)
        self._resolve(order_id, None)

    def _cancel(
        self, order_id: str, trader: str, listing: str, venue_id: str, reason: CancelReason
    ) -> None:
        exchange = self.exchange
        signer = exchange.identities[trader] if reason in _TRADERS_OWN else exchange.operator
        body = OrderCancelled(
            order=order_id, trader=trader, listing=listing, venue=venue_id, reason=reason
        )
        exchange.record("trade.cancel", body, [signer])

    def _record_clearing(self, slot: VenueSlot, result: Any) -> None:
        """The operator's record of a sealed-bid round: every bid, the reserve, the winners
        and the price (a round whose seller's order is gone records nothing to clear)."""
        ask = getattr(slot.venue, "ask", None)
        if result is None or ask is None or result.reserve_fen is None:
            return
        listing = self.exchange.listings[slot.listing or ""]
        body = AuctionClearing(
            venue=slot.id,
            listing=listing.listing,
            mechanism=slot.mechanism.name,
            ask=ask.order,
            reserve_fen=result.reserve_fen,
            units=result.units,
            bids=[
                BidTerms(order=b.order, buyer=b.trader, price_fen=b.price_fen, at=b.at)
                for b in result.ranked
            ],
            winners=list(result.winners),
            price_fen=result.price_fen,
            rule=result.rule,
        )
        self.exchange.record("trade.clearing", body, [self.exchange.operator])
