"""Figures of how prices formed, folded from the ledger: per pricing mechanism.

For each mechanism a study compares: orders placed (buy and sell), contracts and their volume
and mean price, the buyer's and the seller's surplus of the contracts delivered (research
ground truth on the contract: value − price, and price − the exchange's fee − cost, as in the
run's totals), how many orders were withdrawn and why, how long a filled buy order
waited for its fill; for sealed-bid rounds, how many cleared, how many bids each drew and how
often the reserve set the price; for a learning price (``adaptive-posted``), its regret against
the best fixed price of its grid in hindsight, from the buy limits on the ledger. Money is
integer fen; a mean of nothing is None.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from marketplace import entries as vocab
from marketplace.percentiles import nearest_rank
from marketplace.pricing.adaptive import regret

__all__ = ["TradingFold"]

DAY = 86_400


class TradingFold:
    """Consumes the trade kinds in seq order; :meth:`figures` summarises them."""

    KINDS = frozenset(
        {
            "pricing.quote",
            "trade.order",
            "trade.ask",
            "trade.cancel",
            "trade.clearing",
            "trade.contract",
            "operation.settlement",
        }
    )

    def __init__(self) -> None:
        self.count: dict[str, Counter[str]] = defaultdict(Counter)
        self.placed: dict[str, tuple[str, int]] = {}  # buy order -> mechanism, placed at
        self.asked: dict[str, str] = {}  # sell order (trade.ask) -> mechanism
        self.waits: dict[str, list[int]] = defaultdict(list)
        self.prices: dict[str, list[int]] = defaultdict(list)
        self.surplus: dict[str, tuple[str, int | None, int | None]] = {}  # contract -> ...
        #: A learning mechanism's rounds per listing: its grid, and each round's posted price
        #: with the buy limits that round saw (its regret folds from these).
        self.learning: dict[str, tuple[str, tuple[int, ...], list[tuple[int, list[int]]]]] = {}

    def feed(self, time: int, kind: str, body: Any) -> None:
        if kind == "pricing.quote":
            self._quote(body)
        elif kind == "trade.order":
            order: vocab.OrderPlaced = body
            self.placed[order.order] = (order.mechanism, time)
            self.count["bids"][order.mechanism] += 1
            learning = self.learning.get(order.listing)
            if learning is not None and learning[2]:
                learning[2][-1][1].append(order.price_fen)
        elif kind == "trade.ask":
            self.count["asks"][body.mechanism] += 1
            self.asked[body.order] = body.mechanism
        elif kind == "trade.cancel":
            cancel: vocab.OrderCancelled = body
            if cancel.order in self.placed:
                mechanism = self.placed.pop(cancel.order)[0]
            else:
                mechanism = self.asked.pop(cancel.order, "unknown")
            self.count[f"cancelled:{mechanism}"][cancel.reason] += 1
        elif kind == "trade.clearing":
            self._clearing(body)
        elif kind == "trade.contract":
            self._contract(time, body)
        elif kind == "operation.settlement":
            self._settlement(body)

    def _settlement(self, body: vocab.Settlement) -> None:
        """Surplus is realised when the data is delivered (as in the run's totals)."""
        for item in body.items:
            held = self.surplus.pop(item.contract, None)
            if held is None or item.outcome != "delivered":
                continue
            mechanism, buyer, seller = held
            if buyer is not None:
                self.count["buyer_surplus"][mechanism] += buyer
            if seller is not None:
                self.count["seller_surplus"][mechanism] += seller

    def _quote(self, body: vocab.PriceQuote) -> None:
        """A learner's new price opens a round of its listing."""
        if not body.grid:
            self.learning.pop(body.listing, None)
            return
        held = self.learning.setdefault(body.listing, (body.mechanism, tuple(body.grid), []))
        held[2].append((body.price_fen, []))

    def regret_fen(self, mechanism: str) -> int | None:
        """Σ over the mechanism's listings of the best fixed grid price's revenue in hindsight
        minus the revenue of the prices it posted, from the buy limits on the ledger (Arora,
        Hazan & Kale 2012, the Hedge regret; :func:`marketplace.pricing.adaptive.regret`)."""
        total, any_listing = 0, False
        for name, grid, rounds in self.learning.values():
            if name != mechanism or not rounds:
                continue
            any_listing = True
            prices = [price for price, _bids in rounds]
            total += regret([bids for _price, bids in rounds], prices, grid)
        return total if any_listing else None

    def _clearing(self, body: vocab.AuctionClearing) -> None:
        mechanism = body.mechanism
        self.count["rounds"][mechanism] += 1
        self.count["round_bids"][mechanism] += len(body.bids)
        if body.winners:
            self.count["rounds_sold"][mechanism] += 1
            if body.price_fen == body.reserve_fen:
                self.count["reserve_set_price"][mechanism] += 1

    def _contract(self, time: int, body: vocab.Contract) -> None:
        mechanism = body.mechanism
        self.count["trades"][mechanism] += 1
        self.count["volume"][mechanism] += body.price_fen
        self.prices[mechanism].append(body.price_fen)
        value = body.research.get("buyer_value_fen")
        cost = body.research.get("provider_cost_fen")
        self.surplus[body.contract] = (
            mechanism,
            None if value is None else value - body.price_fen,
            None if cost is None else body.price_fen - body.supplier_fee_fen - cost,
        )
        placed = self.placed.pop(body.order, None) if body.order is not None else None
        if placed is not None:
            self.waits[mechanism].append(time - placed[1])

    def figures(self) -> dict[str, Any]:
        """Per mechanism (every one that saw an order or a contract), sorted by name."""
        count = self.count
        names = sorted(set(count["bids"]) | set(count["trades"]) | set(count["asks"]))
        out: dict[str, Any] = {}
        for name in names:
            trades = count["trades"][name]
            prices = sorted(self.prices[name])
            waits = sorted(self.waits[name])
            rounds = count["rounds"][name]
            p50 = nearest_rank(waits, 50)
            figures = {
                "buy_orders": count["bids"][name],
                "sell_orders": count["asks"][name],
                "contracts": trades,
                "volume_fen": count["volume"][name],
                "price_mean_fen": (2 * sum(prices) + trades) // (2 * trades) if trades else None,
                "price_p50_fen": nearest_rank(prices, 50),
                "buyer_surplus_fen": count["buyer_surplus"][name],
                "seller_surplus_fen": count["seller_surplus"][name],
                "fill_rate": trades / count["bids"][name] if count["bids"][name] else None,
                "wait_to_fill_days_p50": None if p50 is None else p50 / DAY,
                "cancelled_by_reason": dict(sorted(count[f"cancelled:{name}"].items())),
                "rounds": rounds,
                "rounds_sold": count["rounds_sold"][name],
                "bids_per_round": count["round_bids"][name] / rounds if rounds else None,
                "reserve_set_price": count["reserve_set_price"][name],
                "regret_fen": self.regret_fen(name),
            }
            out[name] = dict(sorted(figures.items()))
        return out
