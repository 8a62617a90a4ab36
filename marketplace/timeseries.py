"""Figures per sim-day, folded from the ledger: what a report plots and an export tabulates.

:mod:`marketplace.metrics` folds a run into totals; a report also needs the same facts *over
time*: prices by category and by pricing mechanism, how many entries of each stage each day, how
long each stage's queue was, how concentrated provider revenue had become, and what the exchange
earned. Those are folds too (DESIGN.md §1): :class:`SeriesFold` reads entries in seq order, like
:class:`marketplace.metrics.LedgerFold`, and :func:`fold_series` streams a ledger through both at
once, so a report's plots and its table of totals come from one pass over the same entries.

Day ``d`` is the sim-time interval ``[d, d + 1)`` days; a series has one value per day from day 0
to the day of the last entry. Counts and money are per day (integer fen); a backlog is the queue's
length at the end of the day and its peak during the day; HHI and Gini are cumulative (provider
revenue from day 0 to the end of the day), None while nobody has earned anything, and on the last
day they equal the fold's ``hhi`` and ``gini``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ledger import Store
from marketplace import entries as vocab
from marketplace.entries import BODY_MODELS
from marketplace.metrics import DAY, FoldError, LedgerFold, Metrics, gini, hhi, parsed_entries

__all__ = [
    "BACKLOGS",
    "FEES",
    "STAGE_COUNTS",
    "DailyPrices",
    "SeriesFold",
    "TimeSeries",
    "fold_series",
]

#: The entries counted per day, stage by stage (keys of :attr:`TimeSeries.counts`).
STAGE_COUNTS = (
    "listings",
    "rights_applications",
    "rights_approvals",
    "rights_rejections",
    "orders",
    "contracts",
    "rejections",
    "unmet",
    "delivered",
    "failed",
    "cancelled",
)
#: The queues followed over time: rights applications awaiting an assessor, orders awaiting the
#: desk, contracts awaiting delivery (money in escrow), and cross-border applications awaiting a
#: regulator or certifier (those an exporter carries out itself wait for nobody).
BACKLOGS = ("rights", "desk", "delivery", "clearance")
#: The exchange's revenue streams (keys of :attr:`TimeSeries.fees_fen`).
FEES = ("supplier", "membership", "hosting", "compute", "listing", "assessment")
UNKNOWN = "unknown"  # a contract citing a quote the ledger does not hold


@dataclass
class DailyPrices:
    """Contracts signed per day and their total price; the mean is ``volume / trades``."""

    trades: list[int] = field(default_factory=list)
    volume_fen: list[int] = field(default_factory=list)

    def mean_fen(self) -> list[float | None]:
        """The mean price per day (None on a day without a contract)."""
        return [v / n if n else None for n, v in zip(self.trades, self.volume_fen, strict=True)]


@dataclass(frozen=True)
class TimeSeries:
    """A run's figures per sim-day (see the module docstring for what a day and a value are)."""

    days: int
    prices_by_category: dict[str, DailyPrices]
    prices_by_mechanism: dict[str, DailyPrices]
    counts: dict[str, list[int]]
    backlog_end: dict[str, list[int]]
    backlog_peak: dict[str, list[int]]
    fees_fen: dict[str, list[int]]
    hhi: list[float | None]
    gini: list[float | None]
    #: For each listing traded: days from its listing to its first contract (ascending).
    time_to_trade_days: list[float]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (dict keys sorted where they are data, not field names)."""
        return asdict(self)


def _grow(values: list[int], days: int) -> None:
    values.extend([0] * (days - len(values)))


class _Queue:
    """One backlog: its level now, and its end-of-day level and peak per closed day."""

    __slots__ = ("end", "level", "peak", "today_peak")

    def __init__(self) -> None:
        self.level = self.today_peak = 0
        self.end: list[int] = []
        self.peak: list[int] = []

    def change(self, by: int) -> None:
        self.level += by
        self.today_peak = max(self.today_peak, self.level)

    def close_day(self) -> None:
        self.end.append(self.level)
        self.peak.append(self.today_peak)
        self.today_peak = self.level


class SeriesFold:
    """Consumes entries in seq order and gives a :class:`TimeSeries` of the days seen so far.

    It keeps only what the series need: each listing's category, provider and time, each
    quote's mechanism (a contract cites the quote it accepted by seq), the open rights
    applications, orders, contracts and clearance applications, and revenue per provider.
    """

    def __init__(self) -> None:
        self.day = 0  # the day being filled; days before it are closed
        self.listed: dict[str, tuple[str, int]] = {}  # listing -> category, listed at
        self.providers: set[str] = set()
        self.revenue: dict[str, int] = {}
        self.quotes: dict[int, str] = {}  # seq of a pricing.quote -> its mechanism
        self.first_trade: dict[str, int] = {}
        self.open: dict[str, set[str]] = {name: set() for name in BACKLOGS}
        self.contracts: dict[str, str] = {}  # contract -> provider
        self.queues = {name: _Queue() for name in BACKLOGS}
        self.counts: dict[str, list[int]] = {name: [] for name in STAGE_COUNTS}
        self.fees: dict[str, list[int]] = {name: [] for name in FEES}
        self.by_category: dict[str, DailyPrices] = {}
        self.by_mechanism: dict[str, DailyPrices] = {}
        self.hhi: list[float | None] = []
        self.gini: list[float | None] = []

    # -- time ---------------------------------------------------------------------------------
    def _advance(self, time: int) -> None:
        """Close every day before the day of ``time`` (the ledger's time never goes back: a
        rule of record that ``dxsim verify`` checks)."""
        while time // DAY > self.day:
            self._close_day()

    def _close_day(self) -> None:
        for queue in self.queues.values():
            queue.close_day()
        today_hhi, today_gini = self._concentration()
        self.hhi.append(today_hhi)
        self.gini.append(today_gini)
        self.day += 1

    def _concentration(self) -> tuple[float | None, float | None]:
        """HHI and Gini of revenue so far, over every provider seen (listed or paid)."""
        revenue = {p: self.revenue.get(p, 0) for p in sorted(self.providers | set(self.revenue))}
        return hhi(revenue), gini(list(revenue.values()))

    def _add(self, series: dict[str, list[int]], name: str, amount: int = 1) -> None:
        values = series[name]
        _grow(values, self.day + 1)
        values[self.day] += amount

    def _price(self, table: dict[str, DailyPrices], key: str, price: int) -> None:
        cell = table.setdefault(key, DailyPrices())
        _grow(cell.trades, self.day + 1)
        _grow(cell.volume_fen, self.day + 1)
        cell.trades[self.day] += 1
        cell.volume_fen[self.day] += price

    def _enter(self, name: str, key: str) -> None:
        self.open[name].add(key)
        self.queues[name].change(+1)

    def _leave(self, name: str, key: str | None) -> bool:
        if key is None or key not in self.open[name]:
            return False
        self.open[name].discard(key)
        self.queues[name].change(-1)
        return True

    # -- entries ------------------------------------------------------------------------------
    def feed(self, seq: int, time: int, kind: str, actor: str, body: Mapping[str, Any]) -> None:
        """Fold one entry; kinds the series do not use are skipped.

        Raises:
            FoldError: the body does not parse as its kind's model (naming the seq).
        """
        self._advance(time)
        handler = _HANDLERS.get(kind)
        if handler is None:
            return
        try:
            parsed = BODY_MODELS[kind].model_validate(body)
        except ValidationError as exc:
            raise FoldError(f"seq {seq}: {kind} body does not parse ({exc.errors()[0]})") from exc
        handler(self, seq, time, actor, parsed)

    def _on_storage_listing(self, seq: int, time: int, actor: str, body: vocab.Listing) -> None:
        self.listed[body.listing] = (body.category, time)
        self.providers.add(actor)  # the signer is the provider, as in the metrics fold
        self._add(self.counts, "listings")

    def _on_rights_application(
        self, seq: int, time: int, actor: str, body: vocab.RightsApplication
    ) -> None:
        self._enter("rights", body.application)
        self._add(self.counts, "rights_applications")

    def _on_rights_decision(
        self, seq: int, time: int, actor: str, body: vocab.CertificateDecision
    ) -> None:
        self._leave("rights", body.application)
        self._add(self.counts, "rights_approvals" if body.approved else "rights_rejections")

    def _on_pricing_quote(self, seq: int, time: int, actor: str, body: vocab.PriceQuote) -> None:
        self.quotes[seq] = body.mechanism

    def _on_trade_order(self, seq: int, time: int, actor: str, body: vocab.OrderPlaced) -> None:
        self._enter("desk", body.order)
        self._add(self.counts, "orders")

    def _on_trade_unmet(self, seq: int, time: int, actor: str, body: vocab.NeedUnmet) -> None:
        self._add(self.counts, "unmet")

    def _on_trade_rejected(
        self, seq: int, time: int, actor: str, body: vocab.TradeRejected
    ) -> None:
        self._leave("desk", body.order)
        self._add(self.counts, "rejections")

    def _on_trade_contract(self, seq: int, time: int, actor: str, body: vocab.Contract) -> None:
        self._leave("desk", body.order)
        self._enter("delivery", body.contract)
        self.contracts[body.contract] = body.provider
        self._add(self.counts, "contracts")
        category = self.listed[body.listing][0] if body.listing in self.listed else UNKNOWN
        self._price(self.by_category, category, body.price_fen)
        self._price(self.by_mechanism, self.quotes.get(body.quote_seq, UNKNOWN), body.price_fen)
        self.first_trade.setdefault(body.listing, time)

    def _on_operation_settlement(
        self, seq: int, time: int, actor: str, body: vocab.Settlement
    ) -> None:
        for item in body.items:
            if item.contract not in self.contracts:
                continue  # nobody to pay: the money invariant reports it, as in the metrics
            self._leave("delivery", item.contract)
            self._add(self.counts, item.outcome)
            if item.outcome == "delivered":
                self._add(self.fees, "supplier", item.fee_fen)
                provider = self.contracts[item.contract]
                self.revenue[provider] = self.revenue.get(provider, 0) + item.to_provider_fen

    def _on_operation_fee(self, seq: int, time: int, actor: str, body: vocab.ActFee) -> None:
        self._add(self.fees, body.fee, body.fee_fen)

    def _on_operation_usage(self, seq: int, time: int, actor: str, body: vocab.ApiUsage) -> None:
        self._add(self.fees, "supplier", body.fee_fen)
        self.revenue[body.provider] = self.revenue.get(body.provider, 0) + body.to_provider_fen

    def _on_operation_royalty(self, seq: int, time: int, actor: str, body: vocab.Royalty) -> None:
        """Revenue moves upstream: the derived product's seller pays its licensor."""
        fen = body.royalty_fen
        self.revenue[body.licensee] = self.revenue.get(body.licensee, 0) - fen
        self.revenue[body.licensor] = self.revenue.get(body.licensor, 0) + fen

    def _on_operation_membership(
        self, seq: int, time: int, actor: str, body: vocab.MembershipFee
    ) -> None:
        self._add(self.fees, "membership", body.fee_fen)

    def _on_storage_hosting(
        self, seq: int, time: int, actor: str, body: vocab.HostingCharge
    ) -> None:
        self._add(self.fees, "hosting", sum(body.charges.values()))

    def _on_operation_job(self, seq: int, time: int, actor: str, body: vocab.ComputeJob) -> None:
        self._add(self.fees, "compute", body.cost_fen)

    def _on_crossborder_application(
        self, seq: int, time: int, actor: str, body: vocab.ClearanceApplication
    ) -> None:
        if body.route != "self":
            self._enter("clearance", body.application)

    def _on_crossborder_decision(
        self, seq: int, time: int, actor: str, body: vocab.ClearanceDecision
    ) -> None:
        self._leave("clearance", body.application)

    # -- the series ---------------------------------------------------------------------------
    def series(self) -> TimeSeries:
        """The series through the day of the last entry fed (leaves the fold unchanged)."""
        days = self.day + 1  # the day being filled counts as it stands
        ends = {n: [*q.end, q.level] for n, q in self.queues.items()}
        peaks = {n: [*q.peak, q.today_peak] for n, q in self.queues.items()}
        closing_hhi, closing_gini = self._concentration()
        for values in (*self.counts.values(), *self.fees.values()):
            _grow(values, days)
        for table in (self.by_category, self.by_mechanism):
            for cell in table.values():
                _grow(cell.trades, days)
                _grow(cell.volume_fen, days)
        return TimeSeries(
            days=days,
            prices_by_category=_copy_prices(self.by_category),
            prices_by_mechanism=_copy_prices(self.by_mechanism),
            counts={k: list(v) for k, v in self.counts.items()},
            backlog_end=ends,
            backlog_peak=peaks,
            fees_fen={k: list(v) for k, v in self.fees.items()},
            hhi=[*self.hhi, closing_hhi],
            gini=[*self.gini, closing_gini],
            time_to_trade_days=sorted(
                (t - self.listed[k][1]) / DAY
                for k, t in self.first_trade.items()
                if k in self.listed
            ),
        )


def _copy_prices(table: dict[str, DailyPrices]) -> dict[str, DailyPrices]:
    return {
        key: DailyPrices(list(cell.trades), list(cell.volume_fen))
        for key, cell in sorted(table.items())
    }


_HANDLERS = {
    kind: handler
    for kind in BODY_MODELS
    if (handler := getattr(SeriesFold, "_on_" + kind.replace(".", "_"), None)) is not None
}


def fold_series(target: str | Path | Store) -> tuple[Metrics, TimeSeries]:
    """Stream a whole ledger once through a :class:`LedgerFold` and a :class:`SeriesFold`.

    Args:
        target: a run directory, ledger file, SQLAlchemy URL or open :class:`ledger.Store`.

    Raises:
        FoldError: an entry does not parse; run ``dxsim verify`` to see why.
        ledger.StoreError: the target is not a readable dxsim ledger.
    """
    totals, daily = LedgerFold(), SeriesFold()
    store = target if isinstance(target, Store) else Store(target)
    try:
        for entry in parsed_entries(store):
            totals.feed(entry.seq, entry.time, entry.kind, entry.actor, entry.body)
            daily.feed(entry.seq, entry.time, entry.kind, entry.actor, entry.body)
    finally:
        if store is not target:
            store.close()
    return totals.metrics(), daily.series()
