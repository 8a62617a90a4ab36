"""Bilateral negotiation between a buyer and a provider: alternating offers to a deadline.

The protocol is Rubinstein's alternating offers (A. Rubinstein, "Perfect Equilibrium in a
Bargaining Model", Econometrica 50(1), 1982) with a deadline, as in Faratin, Sierra & Jennings
("Negotiation Decision Functions for Autonomous Agents", Robotics and Autonomous Systems
24(3-4), 1998): the provider's list price (its quote) stands first; the buyer answers, then
each party answers the other ``round_days`` later, until an offer meets the other's standing
offer (an agreement at the standing price), a party walks away (its strategy names no price),
or the deadline passes. What each party offers is its own trading strategy's decision (by
default Faratin's time-dependent tactics), from its private limit (the buyer's value, the
provider's unit cost), the other's last offer and the time left. Every offer is a signed order
on the ledger, every replaced offer a cancellation, the agreement a contract.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import simpy

from agents.trading_strategies import TradeObservation, TradingStrategy
from marketplace.exchange import Exchange
from marketplace.pricing import Side
from marketplace.state import ContractState, ListingState, Order
from marketplace.trading import Ticket

__all__ = ["Haggler", "Negotiations"]

DAY = 86_400


@dataclass
class Haggler:
    """One party's side of negotiations: its strategy and its own random stream."""

    strategy: TradingStrategy
    rng: np.random.Generator


@dataclass
class Negotiations:
    """The providers' hagglers by provider id (filled as providers are made) and the process
    that runs one negotiation."""

    exchange: Exchange
    sellers: dict[str, Haggler] = field(default_factory=dict)

    def negotiate(
        self, buyer: Haggler, order: Order, value_fen: int
    ) -> Generator[simpy.Event, Any, ContractState | None]:
        """Process: negotiate ``order``'s listing for the buyer; returns the contract or None."""
        exchange = self.exchange
        trading, env = exchange.trading, exchange.env
        listing = exchange.listings[order.listing]
        seller = self.sellers[listing.provider]
        mechanism = trading.mechanism_of(listing)
        round_days = float(getattr(mechanism, "round_days", 1.0))
        list_price = listing.price_fen or 1
        opened = exchange.now_s()
        price = buyer.strategy.decide(
            self._seen("buy", value_fen, listing, list_price, list_price, 0, buyer, None)
        )
        if price is None:
            return None
        ticket: Ticket = yield env.process(trading.bid(replace(order, price_fen=price)))
        venue = ticket.order.venue or ""
        slot = trading.venues.get(venue)
        span = (slot.closes_at or opened) - opened if slot is not None else 0
        side: Side = "sell"
        while not ticket.done.triggered:
            yield ticket.done | env.timeout(round_days)
            if ticket.done.triggered or trading.venues.get(venue) is None:
                break
            view = trading.venues[venue].venue.view()
            party = seller if side == "sell" else buyer
            limit = (
                exchange.break_even_fen(listing.spec.unit_cost_fen) or listing.spec.unit_cost_fen
                if side == "sell"
                else value_fen
            )
            other = view.best_bid_fen if side == "sell" else view.best_ask_fen
            own = view.best_ask_fen if side == "sell" else view.best_bid_fen
            seen = self._seen(
                side, limit, listing, list_price, other, exchange.now_s() - opened, party, own
            )
            seen = replace(seen, deadline_s=span if span > 0 else None)
            offer = party.strategy.decide(seen)
            if offer is None:  # walks away
                if side == "buy":
                    trading.withdraw(ticket.order.order or "", "walked-away")
                else:
                    trading.close(venue, "venue-closed")
                break
            newer = yield env.process(trading.counter(venue, listing, side, offer, ticket.order))
            if newer is not None:
                ticket = newer
            side = "buy" if side == "sell" else "sell"
        if not ticket.done.triggered:
            yield ticket.done
        result: ContractState | None = ticket.done.value
        return result

    def _seen(
        self,
        side: Side,
        limit: int,
        listing: ListingState,
        list_price: int,
        other: int | None,
        elapsed: int,
        party: Haggler,
        own: int | None,
    ) -> TradeObservation:
        """A party's view: it bargains between half the list price (or its limit, if lower)
        and the list price, knowing the other's last offer and the time spent."""
        view = self.exchange.trading.view(listing)
        floor = max(1, min(limit, list_price) // 2)
        return TradeObservation(
            side=side,
            limit_fen=limit,
            venue=view,
            floor_fen=floor,
            ceiling_fen=max(floor, list_price),
            draw=float(party.rng.random()),
            draw2=float(party.rng.random()),
            own_fen=own,
            counterpart_fen=other,
            elapsed_s=elapsed,
            quote_fen=list_price,
        )
