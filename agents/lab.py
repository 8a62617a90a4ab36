"""A laboratory double-auction session run on the exchange: periods of shouts into one book.

The protocol is Gode & Sunder's (JPE 101(1), 1993, §II) for machine traders in Smith's design
(JPE 70(2), 1962): in each period every trader's units are restored; then, shout after shout, one
trader with units left is picked at random (uniformly) and its strategy names a price for its
next unit — a bid for a buyer, an ask for a seller. Two rules of the experiments are session
options (both on by default, as in Gode & Sunder, after the NYSE rules Smith used):

- *improvement rule*: a bid must be higher than the standing best bid, an ask lower than the
  best ask; a trader whose price would not improve the quote does not shout (the rule would
  refuse it and nothing in the book would change, so it is not put on the ledger);
- *clear after trade*: after each trade every standing bid and ask is withdrawn (the operator
  signs the cancellations).

A shout that crosses the other side's best trades at the standing order's price (the book's
maker rule). Every shout is a signed order on the ledger (``trade.order`` by the buyer,
``trade.ask`` by the seller, one unit each, the unit's value or cost recorded as research ground
truth), every trade a contract signed by both, so efficiency and prices fold from the ledger.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from agents.populations_lab import TraderPopulation
from agents.strategies import make_strategy
from agents.trading_strategies import MarketEvent, TradeObservation
from ledger import Identity
from marketplace.exchange import Exchange
from marketplace.pricing import Side, VenueView
from marketplace.state import DatasetSpec, ListingState, Order
from marketplace.trading import Ticket

__all__ = ["LabSession", "LabTrader"]


@dataclass
class LabTrader:
    """One laboratory trader: its identity, side, units, strategy and random stream."""

    identity: Identity
    spec: TraderPopulation
    units_fen: list[int]
    rng: np.random.Generator
    strategy: Any
    listing: ListingState | None = None  # a seller's listing (its units)
    traded: int = 0  # units traded this period
    ticket: Ticket | None = None  # a buyer's standing bid
    ask: str | None = None  # a seller's standing ask
    sold_before: int = 0  # the listing's sales when the period began

    @property
    def side(self) -> Side:
        return self.spec.side

    @property
    def has_units(self) -> bool:
        return self.traded < len(self.units_fen)

    @property
    def next_unit_fen(self) -> int:
        return self.units_fen[self.traded]


def make_trader(
    identity: Identity, spec: TraderPopulation, number: int, rng: np.random.Generator
) -> LabTrader:
    strategy = make_strategy("trading", spec.strategy, spec.strategy_params)
    return LabTrader(identity, spec, list(spec.units_fen[number - 1]), rng, strategy)


def lab_dataset(trader: LabTrader) -> DatasetSpec:
    """A seller's units as a listing: domestic, general, one small download per unit."""
    return DatasetSpec(
        dataset=f"{trader.identity.id}/units",
        category=trader.spec.category,
        size_mb=1,
        records=len(trader.units_fen),
        pi_subjects=0,
        sensitive_pi_subjects=0,
        classification="general",
        origin="CN",
        quality_pct=100,
        unit_cost_fen=min(trader.units_fen),
    )


class LabSession:
    """The session process; see the module docstring."""

    def __init__(
        self,
        exchange: Exchange,
        traders: list[LabTrader],
        config: Any,  # scenarios' SessionSection
        rng: np.random.Generator,
    ) -> None:
        self.exchange = exchange
        self.traders = traders
        self.config = config
        self.rng = rng
        self.buyers = [t for t in traders if t.side == "buy"]
        self.sellers = [t for t in traders if t.side == "sell"]

    def bring_units_to_market(self, trader: LabTrader) -> Generator[simpy.Event, Any, None]:
        """Process: a seller lists its units, quotes them and applies for their rights."""
        exchange = self.exchange
        listing = yield exchange.env.process(
            exchange.storage.list_dataset(trader.identity, lab_dataset(trader))
        )
        trader.listing = listing
        mechanism = self.config.mechanism_for_sellers()
        exchange.pricing.quote(trader.identity, listing, mechanism, self.config.price_ceiling_fen)
        yield exchange.rights.apply(trader.identity, listing)

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Process: wait for the start, then the periods one after another."""
        env, config = self.exchange.env, self.config
        yield env.timeout(max(0.0, config.start_day - env.now))
        for _period in range(config.periods):
            start = env.now
            yield env.process(self.period())
            yield env.timeout(max(0.0, start + config.period_days - env.now))

    def period(self) -> Generator[simpy.Event, Any, None]:
        env, config = self.exchange.env, self.config
        for trader in self.traders:
            trader.traded = 0
            if trader.listing is not None:
                trader.sold_before = trader.listing.sales
        gap = config.period_days / (config.shouts_per_period + 1)
        for _shout in range(config.shouts_per_period):
            yield env.timeout(gap)
            active = [t for t in self.traders if t.has_units and self._can_trade(t)]
            if not any(t.side == "buy" for t in active) or not any(
                t.side == "sell" for t in active
            ):
                break
            trader = active[int(self.rng.random() * len(active))]
            traded = yield env.process(self.shout(trader))
            if traded and config.clear_after_trade:
                self.clear_book()
        self.clear_book()

    def _can_trade(self, trader: LabTrader) -> bool:
        listing = trader.listing
        return trader.side == "buy" or (listing is not None and listing.certificate is not None)

    def shout(self, trader: LabTrader) -> Generator[simpy.Event, Any, bool]:
        """Process: one trader's shout; returns whether a trade happened."""
        trading, config = self.exchange.trading, self.config
        view = trading.view(self._any_listing())
        seen = TradeObservation(
            side=trader.side,
            limit_fen=trader.next_unit_fen,
            venue=view,
            floor_fen=config.price_floor_fen,
            ceiling_fen=config.price_ceiling_fen,
            draw=float(trader.rng.random()),
            draw2=float(trader.rng.random()),
        )
        price = trader.strategy.decide(seen)
        if price is None or (config.improvement_rule and not _improves(trader.side, price, view)):
            return False
        before = self.exchange.trading.contracts_signed
        if trader.side == "buy":
            order = Order(
                buyer=trader.identity.id,
                listing=self._any_listing().listing,
                licence="download",
                duration_days=30,
                destination="CN",
                value_fen=trader.next_unit_fen,
                price_fen=price,
            )
            trader.ticket = yield self.exchange.env.process(trading.bid(order))
        else:
            assert trader.listing is not None
            trader.ask = trading.ask(trader.listing, price, 1, cost_fen=trader.next_unit_fen)
        traded = trading.contracts_signed > before
        self._count_units()
        if traded:  # what the market saw is the trade, at the standing order's price
            price = trading.view(self._any_listing()).last_price_fen or price
        self._tell_all(price, trader.side, traded)
        return traded

    def _count_units(self) -> None:
        """Advance each trader past the units it has traded (a buyer's bid filled, a seller's
        listing sold)."""
        for trader in self.buyers:
            ticket = trader.ticket
            if ticket is not None and ticket.done.triggered:
                if ticket.done.value is not None:
                    trader.traded += 1
                trader.ticket = None
        for trader in self.sellers:
            if trader.listing is not None:
                sold = trader.listing.sales - trader.sold_before
                if sold > trader.traded:
                    trader.traded = sold
                    trader.ask = None

    def _tell_all(self, price: int, side: Side, traded: bool) -> None:
        """Learning strategies (ZIP) observe every shout and whether it traded, each with its
        own random factors; a trader with no units left is no longer active."""
        for trader in self.traders:
            if hasattr(trader.strategy, "active"):
                trader.strategy.active = trader.has_units
            draws = (float(trader.rng.random()), float(trader.rng.random()))
            trader.strategy.observe(MarketEvent(price, side, traded, *draws))

    def clear_book(self) -> None:
        """Withdraw every standing bid and ask (signed by the operator)."""
        trading = self.exchange.trading
        for trader in self.traders:
            if trader.ticket is not None and not trader.ticket.done.triggered:
                trading.withdraw(trader.ticket.order.order or "", "venue-closed")
            trader.ticket = None
            if trader.ask is not None and trading.is_resting(trader.ask):
                trading.withdraw(trader.ask, "venue-closed")
            trader.ask = None

    def _any_listing(self) -> ListingState:
        """The listing buy orders name: the first seller's (the book is the category's)."""
        for seller in self.sellers:
            if seller.listing is not None:
                return seller.listing
        raise RuntimeError("no seller has listed its units yet")


def _improves(side: Side, price: int, view: VenueView) -> bool:
    if side == "buy":
        return view.best_bid_fen is None or price > view.best_bid_fen
    return view.best_ask_fen is None or price < view.best_ask_fen
