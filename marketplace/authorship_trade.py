"""The rules of record for prices and trades: orders, asks, cancels, auction clearings, contracts.

Part of :class:`marketplace.authorship.MarketRules` (a mixin, so each module stays one job).
Beyond who signs, these rules re-check the mechanisms' promises from the ledger alone:

=========================  =====================================================================
``pricing.quote``          signed by the provider of the listing alone
``trade.order``            signed by its buyer alone, for an existing listing; one id, once; a
                           renewal renews a contract of that buyer and listing whose term ended
``trade.ask``              signed by the provider of its listing alone; one id, once
``trade.cancel``           withdraws an order still open, of the trader and listing it names;
                           signed by that trader when it withdraws it itself, by the operator
                           when its venue ends it
``trade.clearing``         signed by the operator; lists every bid still open at its venue (none
                           left out, none invented, at the price and time recorded), ranked by
                           price then time; the winners are the top ``units`` bids at or above
                           the reserve, which is the listing's quote it cites; the price is the
                           highest losing bid or the reserve, whichever is higher (Vickrey 1961)
``trade.contract``         signed by exactly the buyer and the provider it names, in that order;
                           the provider owns the listing, the certificate was issued for it, the
                           quote cited is a quote of that listing; one id, once; the price is
                           within both limits (at most the buyer's order, at least the seller's
                           ask or quote) and is the one its venue sets: a posted price exactly
                           the quote (or version) cited, in a book or a negotiation the price of
                           the order that stood first; a sold ask never sells more units than it
                           offered; an auction's contract goes to a winner at the clearing
                           price; it settles the open order it cites, of its buyer and listing
                           (an order in a category's shared book, ``book:CATEGORY``, of any
                           listing in it)
``trade.rejected``         names an open buyer account and settles an open order
=========================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from marketplace import entries as vocab
from marketplace.pricing import MECHANISMS

__all__ = ["TradeRules"]

#: Cancel reasons a trader gives itself; the others are its venue's, signed by the operator.
TRADERS_OWN = frozenset({"replaced", "expired", "walked-away"})


@dataclass
class _Open:
    """An order still open on the record."""

    trader: str
    listing: str
    venue: str | None
    price_fen: int
    time: int
    units_left: int | None = 1
    seq: int = -1  # where it was placed on the log


class TradeRules:
    """Trade rules; :class:`MarketRules` provides ``listings``, ``quotes``, ``_account`` and
    ``_own_listing``."""

    roles: dict[str, str]
    listings: dict[str, str]
    certificates: dict[str, str]
    contracts: set[str]
    terms: dict[str, tuple[str, str, int, int]]
    contract_listing: dict[str, str]
    time: int

    def _init_trade(self) -> None:
        self.quotes: dict[int, str] = {}  # seq of a pricing.quote -> listing
        self.quote_terms: dict[int, tuple[int, int | None]] = {}  # seq -> price, quantity
        self.quote_menus: dict[int, list[list[int]]] = {}  # seq -> a tiered quote's versions
        self.orders: dict[str, _Open] = {}  # open buy orders
        self.asks: dict[str, _Open] = {}  # open sell orders (trade.ask)
        self.sold: dict[str, int] = {}  # ask or quote-SEQ -> units sold so far
        self.orders_done: set[str] = set()
        self.awards: dict[str, int] = {}  # order that won an auction -> the price it pays

    if TYPE_CHECKING:  # provided by MarketRules

        def _account(self, account: str, role: str) -> str | None: ...

        def _own_listing(
            self, listing: str, actor: str, signers: tuple[str, ...]
        ) -> str | None: ...

        def _still_listed(self, listing: str) -> str | None: ...

    def _pricing_quote(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.PriceQuote
    ) -> str | None:
        problem = self._own_listing(body.listing, actor, signers) or self._still_listed(
            body.listing
        )
        if problem is None:
            self.quotes[seq] = body.listing
            self.quote_terms[seq] = (body.price_fen, body.quantity)
            if body.menu:
                self.quote_menus[seq] = body.menu
        return problem

    def _trade_order(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.OrderPlaced
    ) -> str | None:
        if signers != (body.buyer,):
            return "an order is signed by its buyer alone"
        problem = self._account(body.buyer, "buyer")
        if problem is not None:
            return problem
        if body.listing not in self.listings:
            return f"an order for listing {body.listing!r}, which was never listed"
        if body.order in self.orders or body.order in self.orders_done:
            return f"order {body.order!r} is placed twice"
        if body.renews is not None and (problem := self._renewal(body)) is not None:
            return problem
        self.orders[body.order] = _Open(
            body.buyer, body.listing, body.venue, body.price_fen, self.time, seq=seq
        )
        return None

    def _renewal(self, body: vocab.OrderPlaced) -> str | None:
        terms = self.terms.get(body.renews or "")
        if terms is None or self.contract_listing.get(body.renews or "") != body.listing:
            return f"order {body.order!r} renews {body.renews!r}, no contract for {body.listing}"
        if terms[0] != body.buyer:
            return f"order {body.order!r} renews {body.renews!r}, another buyer's contract"
        if self.time < terms[3]:
            return f"order {body.order!r} renews {body.renews!r} before its term ends"
        return None

    def _trade_ask(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.AskPlaced
    ) -> str | None:
        problem = self._own_listing(body.listing, body.seller, signers) or self._still_listed(
            body.listing
        )
        if problem is not None:
            return problem
        if body.order in self.asks or body.order in self.sold or body.order in self.orders_done:
            return f"ask {body.order!r} is placed twice"
        self.asks[body.order] = _Open(
            body.seller, body.listing, body.venue, body.price_fen, self.time, body.quantity, seq
        )
        self.sold[body.order] = 0
        return None

    def _trade_cancel(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.OrderCancelled
    ) -> str | None:
        book = self.orders if body.order in self.orders else self.asks
        held = book.pop(body.order, None)
        if held is None:
            return f"cancels order {body.order!r}, which is not open"
        self.orders_done.add(body.order)
        if (held.trader, held.listing) != (body.trader, body.listing):
            return f"order {body.order!r} is {held.trader}'s for {held.listing}"
        own = body.reason in TRADERS_OWN
        if own and signers != (body.trader,):
            return f"a trader's own withdrawal ({body.reason}) is signed by {body.trader} alone"
        if not own and (len(signers) != 1 or self.roles.get(signers[0]) != "operator"):
            return f"a venue's cancellation ({body.reason}) is signed by the operator"
        return None

    def _trade_clearing(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.AuctionClearing
    ) -> str | None:
        if len(signers) != 1 or self.roles.get(signers[0]) != "operator":
            return "an auction clearing is signed by the operator alone"
        quote = _quote_seq(body.ask)
        if quote is None or self.quotes.get(quote) != body.listing:
            return f"the clearing's ask {body.ask!r} is not a quote of {body.listing}"
        if self.quote_terms[quote] != (body.reserve_fen, body.units):
            return f"reserve and units differ from quote {quote}'s"
        open_here = {o for o, held in self.orders.items() if held.venue == body.venue}
        listed = [bid.order for bid in body.bids]
        if set(listed) != open_here or len(listed) != len(open_here):
            return (
                f"the clearing lists {sorted(listed)}; "
                f"the bids open at {body.venue} are {sorted(open_here)}"
            )
        for bid in body.bids:
            held = self.orders[bid.order]
            if (held.trader, held.price_fen, held.time) != (bid.buyer, bid.price_fen, bid.at):
                return f"bid {bid.order} is not as recorded"
        keys = [(-bid.price_fen, bid.at) for bid in body.bids]
        if keys != sorted(keys):  # bids equal in both keep the venue's order of arrival
            return "the bids are not ranked by price, then time"
        ranked = list(body.bids)
        eligible = [b for b in ranked if b.price_fen >= body.reserve_fen]
        winners = eligible[: body.units]
        if [b.order for b in winners] != body.winners:
            return f"the winners are {[b.order for b in winners]}, not {body.winners}"
        losing = ranked[len(winners)] if len(ranked) > len(winners) else None
        price = None
        if winners:
            price = max(body.reserve_fen, losing.price_fen if losing is not None else 0)
        if price != body.price_fen:
            return f"the clearing price is {price}, not {body.price_fen}"
        for bid in winners:
            assert price is not None
            self.awards[bid.order] = price
        return None

    def _trade_terms(self, body: vocab.Contract) -> str | None:
        """A contract's price against the orders it fills."""
        if body.order is None:
            return None
        held = self.orders.get(body.order)
        if held is not None and body.price_fen > held.price_fen:
            return f"price {body.price_fen} is above the buyer's limit {held.price_fen}"
        award = self.awards.pop(body.order, None)
        if body.mechanism == "second-price" or award is not None:
            if award is None:
                return f"order {body.order} won no auction"
            if award != body.price_fen:
                return f"the auction cleared at {award}, not {body.price_fen}"
            return None  # the clearing bounded the units and the reserve
        ask = body.ask
        if ask is None:
            return None
        parts = _quote_parts(ask)
        quote = None if parts is None else parts[0]
        if parts is not None:
            quote, version = parts
            if self.quotes.get(quote) != body.listing:
                return f"ask {ask!r} is not a quote of {body.listing}"
            floor, units = self.quote_terms[quote]
            menu = self.quote_menus.get(quote, [])
            if version != body.version or (version and version >= len(menu)):
                return f"ask {ask!r} is not version {body.version} of quote {quote}"
            if menu:
                floor = menu[version][1]
            ask_seq = quote
        else:
            seller = self.asks.get(ask)
            if seller is None:
                return f"fills ask {ask!r}, which is not open"
            if seller.listing != body.listing:
                return f"ask {ask!r} is for {seller.listing}, not {body.listing}"
            floor, units = seller.price_fen, seller.units_left
            ask_seq = seller.seq
        if body.price_fen < floor:
            return f"price {body.price_fen} is below the seller's ask {floor}"
        problem = _price_rule(body, floor, ask_seq, held)
        if problem is not None:
            return problem
        self.sold[ask] = self.sold.get(ask, 0) + 1
        if units is not None and self.sold[ask] > units:
            return f"ask {ask!r} offered {units} units and sold {self.sold[ask]}"
        if quote is None and units is not None and self.sold[ask] == units:
            del self.asks[ask]  # sold out: no longer open
        return None


def _price_rule(
    body: vocab.Contract, ask_fen: int, ask_seq: int, order: _Open | None
) -> str | None:
    """The price the mechanism's venue kind sets. A posted price is the quote (or the version's
    price) cited, exactly. In an order book or a negotiation the trade is at the price of the
    order that stood first (the maker's; Smith 1962's double auction, and an agreement at the
    standing offer): an order placed after the ask pays the ask; one placed before it may
    have rested (its own price) or still have been at the desk when the ask came (the ask's
    price), which the log cannot tell apart, so either is accepted and no other. A mechanism
    this verifier does not know (a plugin's) is held to the limits alone."""
    mechanism = MECHANISMS.get(body.mechanism)
    kind = getattr(mechanism, "kind", None)
    if kind == "posted" and body.price_fen != ask_fen:
        return f"a posted price fills at the ask {ask_fen}, not {body.price_fen}"
    if kind in ("order-book", "bilateral") and order is not None:
        allowed = {ask_fen} if ask_seq < order.seq else {ask_fen, order.price_fen}
        if body.price_fen not in allowed:
            makers = " or ".join(str(p) for p in sorted(allowed))
            return f"the trade is at the standing order's price {makers}, not {body.price_fen}"
    return None


def _quote_seq(ask: str) -> int | None:
    """The seq of the quote a standing ask stands for (``quote-SEQ``, ``quote-SEQ.vK``)."""
    seq = _quote_parts(ask)
    return None if seq is None else seq[0]


def _quote_parts(ask: str) -> tuple[int, int] | None:
    if not ask.startswith("quote-"):
        return None
    seq, _, version = ask[6:].partition(".v")
    if not seq.isdigit() or (version and not version.isdigit()):
        return None
    return int(seq), int(version or 0)
