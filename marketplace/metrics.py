"""Metrics: folds over ledger entries, never counters kept on the side.

The ledger is the single source of truth (DESIGN.md §1), so every figure of a study is computed by
replaying entries in seq order through :class:`LedgerFold`. The same fold serves a finished run
(:func:`fold` streams a store through it), the live replay and the invariants, so a number in a
report can always be re-derived from ``ledger.db`` alone. Money stays in integer fen; floats appear
only for ratios, indices (HHI, Gini) and means in days.

Percentiles use the nearest-rank method (Hyndman & Fan 1996, definition 1: the inverse of the
empirical distribution function), so a percentile is always an observed value and prices stay
integer fen. A statistic of an empty set is ``None`` ("n/a" in tables), never 0: a mean price of
0 would read as data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ledger import LedgerError, Store, parse_leaf
from ledger.entry import ParsedLeaf
from marketplace import entries as vocab
from marketplace.backlog import Backlog
from marketplace.entries import BODY_MODELS, ESCROW_ACCOUNT, EXCHANGE_ACCOUNT
from marketplace.errors import MarketError
from marketplace.metrics_crossborder import CrossBorderFold
from marketplace.metrics_merchants import MerchantFold
from marketplace.metrics_rights import RightsFold
from marketplace.metrics_trading import TradingFold
from marketplace.percentiles import nearest_rank

__all__ = [
    "FoldError",
    "LedgerFold",
    "Metrics",
    "fold",
    "gini",
    "hhi",
    "nearest_rank",
    "parsed_entries",
]

DAY = 86_400  # seconds: the ledger clock counts integer sim-seconds


class FoldError(MarketError):
    """An entry the fold cannot interpret (its seq is named): a tampered or foreign ledger."""


def hhi(revenues: Mapping[str, int]) -> float | None:
    """Herfindahl-Hirschman index on the 0-10 000 scale: ``Σ (100 · rᵢ / R)²``.

    Shares in percent, squared and summed, as in the U.S. DOJ/FTC Merger Guidelines (2023, §2.1)
    and China SAMR practice; computed as ``10 000 · Σ rᵢ² / R²`` with one division. None if
    R = 0 (no market to be concentrated).
    """
    total = sum(revenues.values())
    if total <= 0:
        return None
    return 10_000 * sum(r * r for r in revenues.values()) / (total * total)


def gini(values: Sequence[int]) -> float | None:
    """Gini coefficient ``Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² μ)`` of non-negative ``values`` (None if Σ = 0).

    Evaluated with the sorted-rank identity ``G = (2 Σ i·x₍ᵢ₎ − (n + 1) Σ x) / (n Σ x)``, i 1-based
    over ascending values (Damgaard & Weiner 2000, eq. 1), exact in integers up to one division.
    """
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total <= 0:
        return None
    ranked = sum(i * x for i, x in enumerate(ordered, start=1))
    return (2 * ranked - (n + 1) * total) / (n * total)


@dataclass(frozen=True)
class Metrics:
    """A study's figures, folded from its ledger. Money in int fen, durations in days.

    ``to_json()`` holds only ints, strs, lists, dicts with sorted keys, and floats for ratios,
    means in days and the HHI/Gini indices, so a results file is stable byte for byte.

    Welfare is over delivered contracts: buyer surplus ``Σ (value − price)``, provider surplus
    ``Σ (to_provider − cost)`` (value and cost from the contract's ``research`` ground truth),
    exchange revenue the supplier fees; their sum is the gains from trade ``Σ (value − cost)``.
    Membership and hosting fees are transfers between participants and the exchange that would
    cancel in the total, so welfare leaves them out; ``fees_*`` report them as revenue.
    """

    entries: int
    entries_by_kind: dict[str, int]
    days_simulated: float
    participants_by_role: dict[str, int]
    listings: int
    submissions: int  # datasets submitted for listing
    ingest_wait_days_p50: float | None  # submission to listing: channels and hosting space
    ingest_wait_days_p90: float | None
    ingest_backlog_max: int
    ingest_backlog_time_mean: float | None
    ingest_backlog_end: int  # submitted, still not listed when the log ends
    dataset_versions: int  # new versions of listed data (each re-registered)
    listings_withdrawn: int  # taken off the market by their providers (they did not pay)
    listings_active: int  # listed and not withdrawn at the end
    buyers_joined: int  # buyers that became members at least once
    buyer_participation_rate: float | None  # buyers_joined / buyers admitted
    memberships: int  # membership periods paid for (first ones and renewals)
    membership_renewals: int
    rights_applications: int
    #: Registration acts by kind: ``first`` and ``change`` applications, ``notice``,
    #: ``objection``, ``upheld`` disputes, ``revocation``, ``cancellation``, ``refusal``.
    rights_events: dict[str, int]
    rights_reviews_by_specialty: dict[str, int]
    rights_reviews_failed_by_specialty: dict[str, int]
    rights_decisions: int
    rights_approvals: int
    rights_rejections: int
    rights_approval_rate: float | None
    review_wait_days_mean: float | None
    review_wait_days_p50: float | None
    review_wait_days_p90: float | None
    rights_backlog_max: int
    rights_backlog_mean: float | None  # sampled once per distinct entry time, after its entries
    rights_backlog_time_mean: float | None  # time-weighted over [0, last entry time]
    orders: int
    desk_wait_days_mean: float | None  # from an order's arrival to its contract or rejection
    desk_wait_days_p50: float | None
    desk_wait_days_p90: float | None
    desk_backlog_max: int
    desk_backlog_time_mean: float | None
    unmet_needs: int  # needs that found no acceptable offer (lost demand)
    unmet_by_reason: dict[str, int]
    unmet_value_fen: int  # the buyers' values of those needs (research ground truth)
    trades: int
    volume_fen: int
    price_mean_fen: int | None
    price_p10_fen: int | None
    price_p50_fen: int | None
    price_p90_fen: int | None
    trades_by_licence: dict[str, int]
    trades_by_destination: dict[str, int]
    cross_border_trades: int
    trades_by_corridor: dict[str, int]  # "origin-destination" of cross-border contracts
    mechanisms_completed: dict[str, int]
    time_to_trade_days_mean: float | None
    time_to_trade_days_p50: float | None
    listings_traded: int
    listings_never_traded: int
    rejections: int
    rejections_by_reason: dict[str, int]
    order_rejection_rate: float | None  # rejections / (contracts + rejections)
    delivered: int
    failed: int
    cancelled: int  # a required cross-border mechanism was refused: refunded, no data moved
    refunds_fen: int
    delivery_disputes: int
    delivery_disputes_upheld: int
    partial_refunds_fen: int  # refunded to buyers on delivered contracts (upheld disputes)
    settlement_lag_days_mean: float | None
    in_escrow: int
    escrow_balance_fen: int
    fees_supplier_fen: int
    fees_membership_fen: int
    fees_hosting_fen: int
    fees_compute_fen: int  # compute-in-place jobs, charged by the CPU hour
    fees_total_fen: int
    compute_jobs: int
    compute_jobs_refused: int
    buyer_surplus_fen: int
    provider_surplus_fen: int
    provider_profit_fen: int  # provider surplus less the hosting the providers paid
    exchange_revenue_fen: int
    total_surplus_fen: int
    provider_revenue_fen: dict[str, int]
    hhi: float | None
    gini: float | None
    balances_fen: dict[str, int]
    endowments_fen: int
    crossborder: dict[str, Any]  # see marketplace.metrics_crossborder
    cancels_by_reason: dict[str, int]
    pricing: dict[str, Any]  # per pricing mechanism: see marketplace.metrics_trading
    #: Data merchants: ``licences`` registered, ``derived_listings`` (applied for as derived
    #: products), ``derived_trades`` and ``derived_volume_fen`` (their contracts),
    #: ``royalties_fen`` paid upstream to licensors, ``broker_takings_fen`` (what the derived
    #: sales left their sellers after fees and royalties), ``transfers`` of listings' rights
    #: to merchants and the ``transfer_fen`` paid for them.
    brokers: dict[str, int] = field(default_factory=dict)
    #: API subscriptions' metering: billing ``periods`` (and ``refused`` ones), ``calls``
    #: and ``billed_fen`` (paid to providers less the supplier fee, counted in fees_supplier).
    api_usage: dict[str, int] = field(default_factory=dict)
    #: Licence terms that ended (delivered contracts), ``renewed`` by the buyer or ``churned``.
    renewals: dict[str, int] = field(default_factory=dict)
    fees_listing_fen: int = 0  # the schedule's fee per dataset listed
    fees_assessment_fen: int = 0  # and per rights application

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``metrics.json`` (field order as declared, dict keys sorted)."""
        return asdict(self)


@dataclass(slots=True)
class _Deal:  # what the fold remembers of one contract
    listing: str
    buyer: str
    provider: str
    price: int
    time: int
    research: dict[str, int]
    settled: bool = False


def _days(seconds: int | None) -> float | None:
    return None if seconds is None else seconds / DAY


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items()))


class LedgerFold(MerchantFold, RightsFold):
    """Consumes entries one at a time, in seq order, and yields :class:`Metrics` at any point.

    ``feed`` takes the parts of an entry (as :func:`ledger.parse_leaf` gives them), so a finished
    ledger, a live run and a replay all drive the same code. Money moves exactly as the table in
    :mod:`marketplace.entries` says, even where the ledger is wrong (a settlement paying more than
    the price): the fold reports what the ledger says; :mod:`marketplace.invariants` judges it.
    """

    def __init__(self) -> None:
        self.count: dict[str, Counter[str]] = defaultdict(Counter)  # tallies by dimension
        self.balances: dict[str, int] = {ESCROW_ACCOUNT: 0, EXCHANGE_ACCOUNT: 0}
        self.endowments = 0
        self.listed: dict[str, tuple[int, str, str]] = {}  # listing -> time, provider, origin
        self.pending: dict[str, int] = {}  # rights application -> applied at (seconds)
        self.review_waits: list[int] = []
        self.deals: dict[str, _Deal] = {}
        self.first_trade: dict[str, int] = {}  # listing -> time of its first contract
        self.role_of: dict[str, str] = {}  # account -> the role it was opened for
        self._init_merchants()
        self.lags: list[int] = []
        self.buyer_surplus = self.provider_surplus = 0
        self.last_time = 0
        self._now: int | None = None
        self._samples = self._sample_sum = self._sample_max = 0
        self._backlog_area = 0  # Σ applications waiting × seconds
        self.crossborder = CrossBorderFold()
        self.trading = TradingFold()
        self.orders: dict[str, int] = {}  # order waiting at the desk -> placed at
        self.desk_waits: list[int] = []
        self.desk = Backlog()
        self.submitted: dict[str, int] = {}  # dataset submitted, not yet listed -> when
        self.ingest_waits: list[int] = []
        self.ingest = Backlog()

    def feed(self, seq: int, time: int, kind: str, actor: str, body: Mapping[str, Any]) -> None:
        """Fold one entry. Kinds outside the market vocabulary (``ledger.*``) are only counted.

        Raises:
            FoldError: the body does not parse as its kind's model (naming the seq).
        """
        if self._now is not None and time != self._now:  # event sweep of the rights backlog
            waiting = len(self.pending)  # after every entry at the time now ending
            self._samples += 1
            self._sample_sum += waiting
            self._sample_max = max(self._sample_max, waiting)
            self._backlog_area += waiting * max(0, time - self._now)
        self._now, self.last_time = time, max(self.last_time, time)
        self.count["kind"][kind] += 1
        handler = _HANDLERS.get(kind)
        crossing = kind in _CROSSBORDER_KINDS
        trading = kind in TradingFold.KINDS
        if handler is None and not crossing and not trading:
            return
        try:
            parsed = BODY_MODELS[kind].model_validate(body)
        except ValidationError as exc:
            raise FoldError(f"seq {seq}: {kind} body does not parse ({exc.errors()[0]})") from exc
        if handler is not None:
            handler(self, time, actor, parsed)
        if crossing:
            self.crossborder.feed(time, kind, parsed)
        if trading:
            self.trading.feed(time, kind, parsed)

    def _move(self, source: str, target: str, amount: int) -> None:
        self.balances[source] = self.balances.get(source, 0) - amount
        self.balances[target] = self.balances.get(target, 0) + amount

    # -- one small handler per kind, named after it -------------------------------------------
    def _on_account_open(self, time: int, actor: str, body: vocab.AccountOpen) -> None:
        self.balances[body.account] = self.balances.get(body.account, 0) + body.endowment_fen
        self.endowments += body.endowment_fen
        self.count["role"][body.role] += 1
        self.role_of[body.account] = body.role

    def _on_operation_membership(self, time: int, actor: str, body: vocab.MembershipFee) -> None:
        self._move(body.account, EXCHANGE_ACCOUNT, body.fee_fen)
        self.count["fen"]["membership"] += body.fee_fen
        if self.role_of.get(body.account) == "buyer":  # brokers join too: not buyers' uptake
            self.count["members"][body.account] += 1
        self.count["membership"]["renewals" if body.renewal else "first"] += 1

    def _on_storage_withdrawal(self, time: int, actor: str, body: vocab.ListingWithdrawal) -> None:
        self.count["withdrawn"][body.reason] += 1

    def _on_operation_fee(self, time: int, actor: str, body: vocab.ActFee) -> None:
        self._move(body.account, EXCHANGE_ACCOUNT, body.fee_fen)
        self.count["fen"][body.fee] += body.fee_fen

    def _on_storage_hosting(self, time: int, actor: str, body: vocab.HostingCharge) -> None:
        for provider, fen in sorted(body.charges.items()):
            self._move(provider, EXCHANGE_ACCOUNT, fen)
            self.count["fen"]["hosting"] += fen

    def _on_storage_submission(self, time: int, actor: str, body: vocab.Submission) -> None:
        self.submitted[body.dataset] = time
        self.ingest.change(time, +1)

    def _on_operation_dispute(self, time: int, actor: str, body: vocab.DeliveryDispute) -> None:
        self.count["disputes"]["raised"] += 1

    def _on_operation_ruling(self, time: int, actor: str, body: vocab.DeliveryRuling) -> None:
        if body.upheld:
            self.count["disputes"]["upheld"] += 1

    def _on_operation_job(self, time: int, actor: str, body: vocab.ComputeJob) -> None:
        self._move(body.buyer, EXCHANGE_ACCOUNT, body.cost_fen)
        self.count["fen"]["compute"] += body.cost_fen
        self.count["jobs"]["refused" if body.refused else "run"] += 1

    def _on_storage_listing(self, time: int, actor: str, body: vocab.Listing) -> None:
        self.listed[body.listing] = (time, actor, body.origin)  # the signer is the provider
        submitted = self.submitted.pop(body.dataset, None)
        if submitted is not None:
            self.ingest_waits.append(time - submitted)
            self.ingest.change(time, -1)

    def _on_storage_version(self, time: int, actor: str, body: vocab.DatasetVersion) -> None:
        self.count["storage"]["versions"] += 1

    def _on_trade_order(self, time: int, actor: str, body: vocab.OrderPlaced) -> None:
        self.orders[body.order] = time
        self._note_order(body)
        self.count["orders"]["placed"] += 1
        self.desk.change(time, +1)

    def _settle_order(self, time: int, order: str | None) -> None:
        placed = self.orders.pop(order, None) if order is not None else None
        if placed is not None:
            self.desk_waits.append(time - placed)
            self.desk.change(time, -1)

    def _on_trade_cancel(self, time: int, actor: str, body: vocab.OrderCancelled) -> None:
        self._settle_order(time, body.order)  # a withdrawn buy order leaves the desk's books
        self.count["cancel"][body.reason] += 1

    def _on_trade_unmet(self, time: int, actor: str, body: vocab.NeedUnmet) -> None:
        self.count["unmet"][body.reason] += 1
        self.count["fen"]["unmet"] += body.value_fen

    def _on_trade_contract(self, time: int, actor: str, body: vocab.Contract) -> None:
        self._settle_order(time, body.order)
        self._note_contract(time, body)
        self.deals[body.contract] = _Deal(
            body.listing, body.buyer, body.provider, body.price_fen, time, body.research
        )
        self._move(body.buyer, ESCROW_ACCOUNT, body.price_fen)
        self.first_trade.setdefault(body.listing, time)
        if body.listing in self.derived:
            self.count["brokers"]["derived_trades"] += 1
            self.count["brokers"]["derived_volume_fen"] += body.price_fen
        self.count["licence"][body.licence] += 1
        self.count["destination"][body.destination] += 1
        if body.cross_border:
            origin = self.listed[body.listing][2] if body.listing in self.listed else "??"
            self.count["corridor"][f"{origin}-{body.destination}"] += 1

    def _on_trade_rejected(self, time: int, actor: str, body: vocab.TradeRejected) -> None:
        self._settle_order(time, body.order)
        self.count["rejection"][body.reason] += 1

    def _on_crossborder_decision(
        self, time: int, actor: str, body: vocab.ClearanceDecision
    ) -> None:
        if body.approved:
            self.count["mechanism"][body.mechanism] += 1

    def _on_operation_settlement(self, time: int, actor: str, body: vocab.Settlement) -> None:
        for item in body.items:
            deal = self.deals.get(item.contract)
            if deal is None:  # nobody to pay: the money invariant reports it
                continue
            deal.settled = True
            self.lags.append(time - deal.time)
            if item.outcome != "delivered":  # failed, or cancelled by a refused mechanism
                self._move(ESCROW_ACCOUNT, deal.buyer, item.refund_fen)
                self.count["settlement"][item.outcome] += 1
                self.count["fen"]["refunds"] += item.refund_fen
                continue
            self._move(ESCROW_ACCOUNT, deal.provider, item.to_provider_fen)
            self._move(ESCROW_ACCOUNT, EXCHANGE_ACCOUNT, item.fee_fen)
            self._move(ESCROW_ACCOUNT, deal.buyer, item.refund_fen)  # an upheld dispute's
            self.count["fen"]["partial_refunds"] += item.refund_fen
            self.count["settlement"]["delivered"] += 1
            self._note_delivered(item.contract)
            self.count["fen"]["supplier"] += item.fee_fen
            self.count["revenue"][deal.provider] += item.to_provider_fen
            if deal.listing in self.derived:
                self.count["brokers"]["broker_takings_fen"] += item.to_provider_fen
            # Welfare counts only what the contract's recorded ground truth supports.
            value = deal.research.get("buyer_value_fen")
            cost = deal.research.get("provider_cost_fen")
            self.buyer_surplus += 0 if value is None else value - deal.price + item.refund_fen
            self.provider_surplus += 0 if cost is None else item.to_provider_fen - cost

    # -- the figures --------------------------------------------------------------------------
    def metrics(self) -> Metrics:
        """The figures as of the last entry fed (leaves the fold unchanged: call at any time)."""
        waiting = len(self.pending)  # the last distinct time is not sampled yet
        samples = self._samples + (self._now is not None)
        count, fees, rights = self.count, self.count["fen"], self.count["rights"]
        decisions = rights["approvals"] + rights["rejections"]
        waits = sorted(self.review_waits)
        desk = sorted(self.desk_waits)
        ingest = sorted(self.ingest_waits)
        prices = sorted(deal.price for deal in self.deals.values())
        listed, traded = self.listed, self.first_trade
        to_trade = sorted(t - listed[k][0] for k, t in traded.items() if k in listed)
        providers = {provider for _t, provider, _o in listed.values()} | set(count["revenue"])
        revenue = {p: count["revenue"][p] for p in sorted(providers)}
        rejections, trades = sum(count["rejection"].values()), len(prices)
        return Metrics(
            entries=sum(count["kind"].values()),
            entries_by_kind=_sorted(count["kind"]),
            days_simulated=self.last_time / DAY,
            participants_by_role=_sorted(count["role"]),
            listings=len(listed),
            submissions=len(self.ingest_waits) + len(self.submitted),
            ingest_wait_days_p50=_days(nearest_rank(ingest, 50)),
            ingest_wait_days_p90=_days(nearest_rank(ingest, 90)),
            ingest_backlog_max=self.ingest.peak,
            ingest_backlog_time_mean=self.ingest.time_mean(self.last_time),
            ingest_backlog_end=len(self.submitted),
            dataset_versions=count["storage"]["versions"],
            listings_withdrawn=sum(count["withdrawn"].values()),
            listings_active=len(listed) - sum(count["withdrawn"].values()),
            buyers_joined=len(count["members"]),
            buyer_participation_rate=len(count["members"]) / count["role"]["buyer"]
            if count["role"]["buyer"]
            else None,
            memberships=sum(count["membership"].values()),
            membership_renewals=count["membership"]["renewals"],
            rights_applications=rights["applications"],
            rights_events=_sorted(count["rights_events"]),
            rights_reviews_by_specialty=_sorted(count["reviews"]),
            rights_reviews_failed_by_specialty=_sorted(count["reviews_failed"]),
            rights_decisions=decisions,
            rights_approvals=rights["approvals"],
            rights_rejections=rights["rejections"],
            rights_approval_rate=rights["approvals"] / decisions if decisions else None,
            review_wait_days_mean=sum(waits) / len(waits) / DAY if waits else None,
            review_wait_days_p50=_days(nearest_rank(waits, 50)),
            review_wait_days_p90=_days(nearest_rank(waits, 90)),
            rights_backlog_max=max(self._sample_max, waiting),
            rights_backlog_mean=(self._sample_sum + waiting) / samples if samples else None,
            orders=count["orders"]["placed"],
            desk_wait_days_mean=sum(desk) / len(desk) / DAY if desk else None,
            desk_wait_days_p50=_days(nearest_rank(desk, 50)),
            desk_wait_days_p90=_days(nearest_rank(desk, 90)),
            desk_backlog_max=self.desk.peak,
            desk_backlog_time_mean=self.desk.time_mean(self.last_time),
            unmet_needs=sum(count["unmet"].values()),
            unmet_by_reason=_sorted(count["unmet"]),
            unmet_value_fen=fees["unmet"],
            rights_backlog_time_mean=self._backlog_area / self.last_time
            if self.last_time
            else None,
            trades=trades,
            volume_fen=sum(prices),
            price_mean_fen=(2 * sum(prices) + trades) // (2 * trades) if trades else None,  # ½ up
            price_p10_fen=nearest_rank(prices, 10),
            price_p50_fen=nearest_rank(prices, 50),
            price_p90_fen=nearest_rank(prices, 90),
            trades_by_licence=_sorted(count["licence"]),
            trades_by_destination=_sorted(count["destination"]),
            cross_border_trades=sum(count["corridor"].values()),
            trades_by_corridor=_sorted(count["corridor"]),
            mechanisms_completed=_sorted(count["mechanism"]),
            time_to_trade_days_mean=sum(to_trade) / len(to_trade) / DAY if to_trade else None,
            time_to_trade_days_p50=_days(nearest_rank(to_trade, 50)),
            listings_traded=sum(1 for k in listed if k in traded),
            listings_never_traded=sum(1 for k in listed if k not in traded),
            rejections=rejections,
            rejections_by_reason=_sorted(count["rejection"]),
            order_rejection_rate=rejections / (rejections + trades)
            if rejections + trades
            else None,
            delivered=count["settlement"]["delivered"],
            failed=count["settlement"]["failed"],
            cancelled=count["settlement"]["cancelled"],
            refunds_fen=fees["refunds"],
            delivery_disputes=count["disputes"]["raised"],
            delivery_disputes_upheld=count["disputes"]["upheld"],
            partial_refunds_fen=fees["partial_refunds"],
            settlement_lag_days_mean=sum(self.lags) / len(self.lags) / DAY if self.lags else None,
            in_escrow=sum(1 for deal in self.deals.values() if not deal.settled),
            escrow_balance_fen=self.balances[ESCROW_ACCOUNT],
            fees_supplier_fen=fees["supplier"],
            fees_membership_fen=fees["membership"],
            fees_hosting_fen=fees["hosting"],
            fees_compute_fen=fees["compute"],
            fees_total_fen=fees["supplier"]
            + fees["membership"]
            + fees["hosting"]
            + fees["compute"]
            + fees["listing"]
            + fees["assessment"],
            fees_listing_fen=fees["listing"],
            fees_assessment_fen=fees["assessment"],
            compute_jobs=count["jobs"]["run"],
            compute_jobs_refused=count["jobs"]["refused"],
            buyer_surplus_fen=self.buyer_surplus,
            provider_surplus_fen=self.provider_surplus,
            provider_profit_fen=self.provider_surplus - fees["hosting"],
            exchange_revenue_fen=fees["supplier"],
            total_surplus_fen=self.buyer_surplus + self.provider_surplus + fees["supplier"],
            provider_revenue_fen=revenue,
            hhi=hhi(revenue),
            gini=gini(list(revenue.values())),
            balances_fen=_sorted(self.balances),
            endowments_fen=self.endowments,
            crossborder=self.crossborder.figures(self.last_time),
            cancels_by_reason=_sorted(count["cancel"]),
            pricing=self.trading.figures(),
            api_usage=self.usage_figures(),
            renewals=self.renewal_figures(self.last_time),
            brokers=self.merchant_figures(),
        )


#: The kinds the cross-border fold reads (it keeps its own view of listings and contracts).
_CROSSBORDER_KINDS = frozenset(
    {
        "operation.calendar",
        "storage.listing",
        "trade.contract",
        "trade.rejected",
        "crossborder.application",
        "crossborder.decision",
        "operation.settlement",
    }
)
_Handler = Callable[[LedgerFold, int, str, Any], None]
#: kind -> handler, by the naming rule ``_on_<kind with dots as underscores>``; kinds without
#: one (``pricing.quote``) are counted only.
_HANDLERS: dict[str, _Handler] = {
    kind: handler
    for kind in BODY_MODELS
    if (handler := getattr(LedgerFold, "_on_" + kind.replace(".", "_"), None)) is not None
}


def parsed_entries(store: Store) -> Iterator[ParsedLeaf]:
    """Every stored entry in seq order, parsed (not verified: ``dxsim verify`` does that).

    Raises:
        FoldError: naming the first entry that does not parse.
    """
    for rows in store.iter_rows():
        for seq, _time, _kind, _actor, leaf in rows:
            try:
                yield parse_leaf(leaf)
            except LedgerError as exc:
                raise FoldError(f"seq {seq}: {exc}") from exc


def fold(target: str | Path | Store) -> Metrics:
    """Stream a whole ledger through a :class:`LedgerFold` and return its metrics.

    Args:
        target: a run directory, ledger file, SQLAlchemy URL or open :class:`ledger.Store`.

    Raises:
        FoldError: an entry does not parse; run ``dxsim verify`` to see why.
        ledger.StoreError: the target is not a readable dxsim ledger.
    """
    folder = LedgerFold()
    store = target if isinstance(target, Store) else Store(target)
    try:
        for entry in parsed_entries(store):
            folder.feed(entry.seq, entry.time, entry.kind, entry.actor, entry.body)
    finally:
        if store is not target:
            store.close()
    return folder.metrics()
