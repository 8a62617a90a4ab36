"""A scripted market story on a real ledger, shared by the metrics and invariants tests.

``Script`` writes entries straight onto a real ledger (no SimPy, no exchange), so every figure
can be worked out on paper from :func:`good_story`; ``FoldScript`` plays the same scripts into a
bare ``LedgerFold`` (fast, for Hypothesis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from ledger import Identity, Ledger
from marketplace.accounts import Accounts
from marketplace.entries import (
    AUTHORIZATION,
    ESCROW_ACCOUNT,
    EXCHANGE_ACCOUNT,
    RIGHTS,
    AccountOpen,
    CertificateDecision,
    ClearanceApplication,
    ClearanceDecision,
    Contract,
    HostingCharge,
    IssuedCertificate,
    Listing,
    ListingWithdrawal,
    MembershipFee,
    OrderPlaced,
    PriceQuote,
    RequirementTerms,
    RightsApplication,
    RightsReview,
    Settlement,
    SettlementItem,
    TradeRejected,
)
from marketplace.metrics import LedgerFold
from marketplace.metrics_merchants import MERCHANT_FIGURES, RENEWAL_FIGURES, USAGE_FIGURES
from tests.keys import test_identity

SEED = 7
DAY = 86_400
CAST = {
    "op": "operator",
    "p1": "provider",
    "p2": "provider",
    "b1": "buyer",
    "b2": "buyer",
    "a1": "assessor",
}
LISTING = "p1/L001"
CERTIFICATE = "C-A1"


@dataclass
class Script:
    """Scripts a market story onto a fresh ledger; each method records one entry, at ``day``."""

    ledger: Ledger | None
    who: dict[str, Identity]
    seqs: dict[str, int] = field(default_factory=dict)  # label -> seq, for the invariant tests
    quotes: dict[str, int] = field(default_factory=dict)  # listing -> seq of its latest quote
    buyers: dict[str, str] = field(default_factory=dict)  # contract -> buyer
    members: dict[str, int] = field(default_factory=dict)  # buyer -> its membership's end (s)
    applications: int = 0
    orders: int = 0

    @classmethod
    def create(cls, path: Path, authorization: dict[str, list[str]] | None = None) -> Script:
        log = test_identity(SEED, "dx-log", "log")
        ledger = Ledger.create(path, log, authorization or AUTHORIZATION, checkpoint_every=16)
        who = {name: test_identity(SEED, name, role) for name, role in CAST.items()}
        for identity in who.values():
            ledger.register(identity)
        return cls(ledger, who)

    def record(self, kind: str, body: BaseModel | dict[str, Any], day: float, *by: str) -> int:
        data = body.model_dump() if isinstance(body, BaseModel) else body
        assert self.ledger is not None
        entry = self.ledger.record(kind, data, round(day * DAY), [self.who[s] for s in by])
        return entry.seq

    def close(self) -> bytes:
        assert self.ledger is not None
        self.ledger.close()
        return self.ledger.root()

    # -- one method per kind --------------------------------------------------------------------
    def open(self, account: str, endowment: int, day: float = 0) -> int:
        body = AccountOpen(account=account, role=CAST[account], endowment_fen=endowment)
        return self.record("account.open", body, day, "op")

    def membership(self, account: str, fee: int, day: float = 0) -> int:
        """A year's membership from ``day``, or from the end of the last one (a renewal)."""
        current = self.members.get(account)
        start = round(day * DAY) if current is None else max(round(day * DAY), current)
        until = start + 365 * DAY
        body = MembershipFee(
            account=account,
            fee_fen=fee,
            period_days=365,
            valid_from=start,
            valid_until=until,
            renewal=current is not None and start == current,
            expected_surplus_fen=fee,
        )
        self.members[account] = until
        return self.record("operation.membership", body, day, "op")

    def listing(self, listing: str, day: float, origin: str = "CN") -> int:
        body = Listing(
            listing=listing,
            dataset=f"ds-{listing}",
            category="traffic",
            size_mb=2048,
            records=10_000,
            pi_subjects=0,
            sensitive_pi_subjects=0,
            classification="general",
            origin=origin,
            quality_pct=90,
            ingest_days_x1000=0,
        )
        return self.record("storage.listing", body, day, listing.split("/")[0])

    def withdraw(self, listing: str, day: float, margin: int = 0, hosting: int = 100) -> int:
        body = ListingWithdrawal(
            listing=listing,
            reason="unprofitable",
            window_days=90,
            margin_fen=margin,
            hosting_fen=hosting,
        )
        return self.record("storage.withdrawal", body, day, listing.split("/")[0])

    def apply(self, application: str, listing: str, day: float) -> int:
        body = RightsApplication(application=application, listing=listing, rights=["holding"])
        return self.record("rights.application", body, day, listing.split("/")[0])

    def decide(
        self, application: str, listing: str, day: float, approved: bool = True, valid: int = 365
    ) -> int:
        """The assessor's compliance review, then the registry's decision: an approval issues
        one certificate per right, ``C-<application>`` being the product-operation one."""
        review = RightsReview(
            application=application,
            specialty="compliance",
            passed=approved,
            reasons=[] if approved else ["incomplete"],
            review_days_x1000=0,
        )
        self.record("rights.review", review, day, "a1")
        start = round(day * DAY)
        until = start + valid * DAY if approved else start
        owner = listing.split("/")[0]
        names = {"holding": "H", "processing-use": "P", "product-operation": ""}
        body = CertificateDecision(
            application=application,
            listing=listing,
            approved=approved,
            certificate=f"C-{application}" if approved else None,
            rights=list(RIGHTS) if approved else [],
            valid_from=start,
            valid_until=until,
            review_days_x1000=0,
            reasons=[] if approved else ["incomplete"],
            certificates=[
                IssuedCertificate(
                    certificate=f"C-{application}{'-' + tag if tag else ''}",
                    right=right,
                    holder=owner,
                    valid_from=start,
                    valid_until=until,
                    parents=[],
                )
                for right, tag in names.items()
            ]
            if approved
            else [],
        )
        return self.record("rights.decision", body, day, "op")

    def quote(self, listing: str, price: int, day: float) -> int:
        body = PriceQuote(
            listing=listing, mechanism="posted", price_fen=price, cost_fen=0, reason=""
        )
        self.quotes[listing] = self.record("pricing.quote", body, day, listing.split("/")[0])
        return self.quotes[listing]

    def contract(
        self,
        contract: str,
        buyer: str,
        price: int,
        day: float,
        *,
        fee: int | None = None,
        listing: str = LISTING,
        certificate: str = CERTIFICATE,
        licence: str = "download",
        destination: str = "CN",
        required: Sequence[str] = (),
        value: int = 0,
        cost: int = 0,
        ordered: float | None = None,
    ) -> int:
        """The buyer's order (placed on day ``ordered``, by default ``day``), then the contract
        that settles it."""
        provider = listing.split("/")[0]
        self.orders += 1
        order = f"O{self.orders:07d}"
        placed = OrderPlaced(
            order=order,
            buyer=buyer,
            listing=listing,
            licence=licence,  # type: ignore[arg-type]
            duration_days=365,
            destination=destination,
            price_fen=price,
        )
        self.record("trade.order", placed, day if ordered is None else ordered, buyer)
        body = Contract(
            contract=contract,
            listing=listing,
            certificate=certificate,
            buyer=buyer,
            provider=provider,
            price_fen=price,
            supplier_fee_fen=price // 20 if fee is None else fee,
            licence=licence,  # type: ignore[arg-type]
            duration_days=365,
            destination=destination,
            cross_border=destination != "CN",
            requirements=(
                [RequirementTerms(pack="test", any_of=list(required), rules=[], lead_time_days=0)]
                if required
                else []
            ),
            order=order,
            quote_seq=self.quotes.get(listing, 0),
            ordered_at=round(day * DAY),
            research={"buyer_value_fen": value, "provider_cost_fen": cost},
        )
        self.buyers[contract] = buyer
        self.seqs[contract] = self.record("trade.contract", body, day, buyer, provider)
        return self.seqs[contract]

    def reject(self, buyer: str, listing: str, reason: str, day: float) -> int:
        body = TradeRejected.model_validate(
            {"buyer": buyer, "listing": listing, "reason": reason, "detail": ""}
        )
        return self.record("trade.rejected", body, day, "op")

    def mechanism(
        self, contract: str, mechanism: str, day: float, *, filed: float | None = None
    ) -> int:
        """The exporter p1 carries out ``mechanism`` for b-buyer of ``contract``: applies on day
        ``filed`` (default: ``day``) and completes it on ``day``, valid for a year."""
        buyer = self.buyers[contract]
        self.applications += 1
        application = f"X{self.applications:06d}"
        body = ClearanceApplication(
            application=application,
            mechanism=mechanism,
            route="self",
            exporter="p1",
            recipient=buyer,
            contract=contract,
            pack="test",
        )
        self.record("crossborder.application", body, day if filed is None else filed, "p1")
        at = round(day * DAY)
        decision = ClearanceDecision(
            application=application,
            mechanism=mechanism,
            exporter="p1",
            recipient=buyer,
            approved=True,
            approval=f"AP-{application}",
            valid_from=at,
            valid_until=at + 365 * DAY,
            working_days=2,
            reasons=[],
        )
        return self.record("crossborder.decision", decision, day, "p1")

    def settle(self, day: float, *items: SettlementItem, cycle: int = 1) -> int:
        seq = self.record(
            "operation.settlement", Settlement(cycle=cycle, items=list(items)), day, "op"
        )
        self.seqs.update({f"settle {item.contract}": seq for item in items})
        return seq

    def host(self, day: float, charges: dict[str, int]) -> int:
        end = round(day * DAY)
        body = HostingCharge(period_start=0, period_end=end, rate_fen_per_gb_day=5, charges=charges)
        return self.record("storage.hosting", body, day, "op")


class FoldScript(Script):
    """The same scripts played straight into a :class:`LedgerFold` (no signing, no storage)."""

    def __init__(self) -> None:
        super().__init__(None, {})
        self.fold = LedgerFold()
        self.seq = 0

    def record(self, kind: str, body: BaseModel | dict[str, Any], day: float, *by: str) -> int:
        data = body.model_dump() if isinstance(body, BaseModel) else body
        self.seq += 1
        self.fold.feed(self.seq, round(day * DAY), kind, by[0], data)
        return self.seq


def delivered(contract: str, price: int, fee: int, day: float) -> SettlementItem:
    at = round(day * DAY)
    return SettlementItem(
        contract=contract,
        outcome="delivered",
        moved_at=at,
        delivered_at=at,
        to_provider_fen=price - fee,
        fee_fen=fee,
        refund_fen=0,
    )


def failed(contract: str, price: int, day: float) -> SettlementItem:
    at = round(day * DAY)
    return SettlementItem(
        contract=contract,
        outcome="failed",
        delivered_at=at,
        to_provider_fen=0,
        fee_fen=0,
        refund_fen=price,
    )


def certified_market(path: Path, **create: Any) -> Script:
    """Accounts, two listings, p1/L001 certified (C-A1 valid days 3-368), p2/L001 refused."""
    s = Script.create(path, **create)
    for account, endowment in (("p1", 0), ("p2", 0), ("b1", 1_000_000), ("b2", 500_000)):
        s.open(account, endowment)
    s.membership("b1", 10_000)
    s.membership("b2", 10_000)
    s.listing(LISTING, 1)
    s.listing("p2/L001", 1)
    s.apply("A1", LISTING, 1)
    s.apply("A2", "p2/L001", 1)
    s.decide("A1", LISTING, 3)
    s.decide("A2", "p2/L001", 5, approved=False)
    s.quote(LISTING, 100_000, 6)
    return s


def good_story(path: Path) -> Script:
    """The reference story; returns the open script (call ``close()``)."""
    s = certified_market(path)
    s.contract("K1", "b1", 100_000, 8, licence="download", value=150_000, cost=20_000, ordered=7.5)
    s.contract(
        "K2",
        "b2",
        100_000,
        9,
        licence="api",
        destination="US",
        required=["security-assessment", "standard-contract"],
        value=120_000,
        cost=20_000,
    )
    s.reject("b2", "p2/L001", "no-certificate", 9)
    s.contract("K3", "b1", 80_000, 10, licence="compute-in-place", value=90_000, cost=20_000)
    s.mechanism("K2", "standard-contract", 12, filed=10)
    s.settle(
        14,
        delivered("K1", 100_000, 5_000, 13),
        delivered("K2", 100_000, 5_000, 13),
        failed("K3", 80_000, 12),
    )
    s.host(20, {"p1": 300, "p2": 200})
    s.contract("K4", "b2", 50_000, 20, value=60_000, cost=20_000)
    return s


EXPECTED: dict[str, Any] = {
    "entries": 1 + 6 + 4 + 2 + 2 + 2 + 2 + 2 + 1 + 4 + 4 + 1 + 2 + 1 + 1 + 1,
    "entries_by_kind": {
        "account.open": 4,
        "crossborder.application": 1,
        "crossborder.decision": 1,
        "ledger.close": 1,
        "ledger.genesis": 1,
        "ledger.identity": 6,
        "operation.membership": 2,
        "operation.settlement": 1,
        "pricing.quote": 1,
        "rights.application": 2,
        "rights.decision": 2,
        "rights.review": 2,
        "storage.hosting": 1,
        "storage.listing": 2,
        "trade.contract": 4,
        "trade.order": 4,
        "trade.rejected": 1,
    },
    "days_simulated": 20.0,
    "participants_by_role": {"buyer": 2, "provider": 2},
    "listings": 2,
    "submissions": 0,  # the story lists without submitting first: nothing queued
    "ingest_wait_days_p50": None,
    "ingest_wait_days_p90": None,
    "ingest_backlog_max": 0,
    "ingest_backlog_time_mean": 0.0,
    "ingest_backlog_end": 0,
    "dataset_versions": 0,
    "listings_withdrawn": 0,
    "listings_active": 2,
    "buyers_joined": 2,
    "buyer_participation_rate": 1.0,
    "memberships": 2,
    "membership_renewals": 0,
    "rights_applications": 2,
    "rights_events": {"first": 2},
    "rights_reviews_by_specialty": {"compliance": 2},
    "rights_reviews_failed_by_specialty": {"compliance": 1},
    "rights_decisions": 2,
    "rights_approvals": 1,
    "rights_rejections": 1,
    "rights_approval_rate": 0.5,
    "review_wait_days_mean": 3.0,  # A1 waited 2 days, A2 4 days
    "review_wait_days_p50": 2.0,  # nearest rank: ceil(0.5 · 2) = 1st
    "review_wait_days_p90": 4.0,  # ceil(0.9 · 2) = 2nd
    "rights_backlog_max": 2,
    # distinct times 0,1,3,5,6,7.5,8,9,10,12,14,20 with 0,2,1,0,... waiting
    "rights_backlog_mean": 3 / 12,
    "rights_backlog_time_mean": (2 * 2 + 1 * 2) / 20,  # two for 2 days, one for 2, over 20
    "orders": 4,
    "desk_wait_days_mean": 0.5 / 4,  # K1 ordered on day 7.5, signed on day 8; the rest at once
    "desk_wait_days_p50": 0.0,
    "desk_wait_days_p90": 0.5,
    "desk_backlog_max": 1,
    "desk_backlog_time_mean": 0.5 / 20,  # one order waiting for half a day, over 20 days
    "unmet_needs": 0,
    "unmet_by_reason": {},
    "unmet_value_fen": 0,
    "trades": 4,
    "volume_fen": 330_000,
    "price_mean_fen": 82_500,
    "price_p10_fen": 50_000,  # sorted 50k, 80k, 100k, 100k: ranks 1, 2, 4
    "price_p50_fen": 80_000,
    "price_p90_fen": 100_000,
    "trades_by_licence": {"api": 1, "compute-in-place": 1, "download": 2},
    "trades_by_destination": {"CN": 3, "US": 1},
    "cross_border_trades": 1,
    "trades_by_corridor": {"CN-US": 1},
    "mechanisms_completed": {"standard-contract": 1},
    "time_to_trade_days_mean": 7.0,  # listed day 1, first contract day 8
    "time_to_trade_days_p50": 7.0,
    "listings_traded": 1,
    "listings_never_traded": 1,
    "rejections": 1,
    "rejections_by_reason": {"no-certificate": 1},
    "order_rejection_rate": 0.2,
    "delivered": 2,
    "failed": 1,
    "refunds_fen": 80_000,
    "delivery_disputes": 0,
    "delivery_disputes_upheld": 0,
    "partial_refunds_fen": 0,
    "settlement_lag_days_mean": 5.0,  # 6, 5 and 4 days
    "in_escrow": 1,
    "escrow_balance_fen": 50_000,
    "fees_supplier_fen": 10_000,
    "fees_membership_fen": 20_000,
    "fees_hosting_fen": 500,
    "fees_compute_fen": 0,
    "fees_total_fen": 30_500,
    "compute_jobs": 0,
    "compute_jobs_refused": 0,
    "buyer_surplus_fen": 50_000 + 20_000,
    "provider_surplus_fen": 75_000 + 75_000,
    "provider_profit_fen": 75_000 + 75_000 - 500,  # less the hosting p1 paid
    "exchange_revenue_fen": 10_000,
    "total_surplus_fen": 230_000,  # Σ (value − cost) = 130k + 100k
    "provider_revenue_fen": {"p1": 190_000, "p2": 0},
    "hhi": 10_000.0,
    "gini": 0.5,  # two providers, one holds everything: (2·2·190k − 3·190k) / (2·190k)
    "balances_fen": {
        "b1": 1_000_000 - 10_000 - 100_000 - 80_000 + 80_000,
        "b2": 500_000 - 10_000 - 100_000 - 50_000,
        "escrow": 50_000,
        "exchange": 30_500,
        "p1": 190_000 - 300,
        "p2": -200,
    },
    "endowments_fen": 1_500_000,
    "cancelled": 0,
    "crossborder": {
        "flows": {"CN-US": {"standard-contract": {"delivered": 1}}},
        "delivered_abroad": 1,
        "cancelled_abroad": 0,
        "refusals": {},
        "refused_by_rule": {},
        "refused_by_corridor": {},
        "refused_value_fen": 0,
        "mechanism_wait_days": {  # applied on day 10, completed on day 12
            "standard-contract": {"n": 1, "mean": 2.0, "p50": 2.0, "p90": 2.0}
        },
        "clearance_wait_days": {  # K2 signed on day 9, its data moved on day 13
            "standard-contract": {"n": 1, "mean": 4.0, "p50": 4.0, "p90": 4.0}
        },
        "decisions": {"standard-contract": {"approved": 1, "refused": 0}},
        "regulator_backlog_max": 0,  # the exporter carried it out itself: no queue
        "regulator_backlog_time_mean": 0.0,
        "regulator_backlog_end": 0,
        "exporter_years_over": {"pi_100k": 0, "pi_1m": 0, "sensitive_10k": 0},
        "exporters_by_people": [],  # the story's datasets hold no personal information
        "important_delivered_abroad": 0,
        "important_without_assessment": 0,
    },
    "cancels_by_reason": {},
    "pricing": {  # every contract here came from a posted price
        "posted": {
            "bids_per_round": None,
            "buy_orders": 4,
            "buyer_surplus_fen": 50_000 + 20_000,  # delivered contracts only, as in the totals
            "cancelled_by_reason": {},
            "contracts": 4,
            "fill_rate": 1.0,
            "price_mean_fen": 82_500,  # 330,000 / 4
            "price_p50_fen": 80_000,  # nearest rank 2 of 50k, 80k, 100k, 100k
            "regret_fen": None,  # a posted price quotes no grid, so it has no regret
            "reserve_set_price": 0,
            "rounds": 0,
            "rounds_sold": 0,
            "sell_orders": 0,
            "seller_surplus_fen": 75_000 + 75_000,
            "volume_fen": 330_000,
            "wait_to_fill_days_p50": 0.0,  # each order filled the moment it was placed
        }
    },
    # no data merchant and no metered API call in this story
    "brokers": dict.fromkeys(MERCHANT_FIGURES, 0),
    "api_usage": dict.fromkeys(USAGE_FIGURES, 0),
    # every licence in the story outlasts it: no term ends, none is renewed or churns
    "renewals": dict.fromkeys(RENEWAL_FIGURES, 0),
    "fees_listing_fen": 0,  # the story's schedule charges no listing or assessment fee
    "fees_assessment_fen": 0,
}


CONTRACT = st.tuples(
    st.just("contract"),
    st.sampled_from(["b1", "b2"]),
    st.integers(1, 300_000),
    st.integers(0, 10_000),
)
SETTLE = st.tuples(
    st.just("settle"), st.lists(st.sampled_from(["delivered", "failed"]), min_size=1, max_size=4)
)
HOST = st.tuples(st.just("host"), st.integers(0, 5_000), st.integers(0, 5_000))
MEMBER = st.tuples(st.just("member"), st.sampled_from(["b1", "b2"]), st.integers(0, 20_000))
#: Contracts and settlements twice as likely as fees, so most stories move money through escrow.
OPS = st.lists(st.one_of(CONTRACT, SETTLE, CONTRACT, SETTLE, HOST, MEMBER), min_size=1, max_size=30)
ENDOWMENTS = st.tuples(st.integers(0, 2_000_000), st.integers(0, 2_000_000))


def play(s: Script, ops: Sequence[tuple[Any, ...]], endowments: tuple[int, int]) -> Accounts:
    """Play random market operations onto ``s``, keeping the simulator's live accounts beside it.

    The live accounts follow the exchange's rules (a buyer who cannot pay is not contracted);
    the script only records what happened, so the fold must agree with the live view.
    """
    live = Accounts()
    for account, endowment in (("p1", 0), ("p2", 0), ("b1", endowments[0]), ("b2", endowments[1])):
        s.open(account, endowment)
        live.open(account, endowment)
    for buyer in ("b1", "b2"):
        s.membership(buyer, 0)  # members from the start; "member" ops renew, with a fee
    s.listing(LISTING, 1)
    s.apply("A1", LISTING, 1)
    s.decide("A1", LISTING, 3)
    s.quote(LISTING, 100_000, 6)
    cycles = 0
    open_contracts: list[tuple[str, str, int, int]] = []
    for day, op in enumerate(ops, start=8):
        if op[0] == "contract" and live.can_pay(op[1], op[2]):
            name, fee = f"K{day}", (op[2] * op[3]) // 10_000
            s.contract(name, op[1], op[2], day, fee=fee)
            live.move(op[1], ESCROW_ACCOUNT, op[2])
            open_contracts.append((name, op[1], op[2], fee))
        elif op[0] == "settle" and open_contracts:
            items = []
            for outcome, (name, buyer, price, fee) in zip(op[1], open_contracts, strict=False):
                if outcome == "delivered":
                    items.append(delivered(name, price, fee, day))
                    live.move(ESCROW_ACCOUNT, "p1", price - fee)
                    live.move(ESCROW_ACCOUNT, EXCHANGE_ACCOUNT, fee)
                else:
                    items.append(failed(name, price, day))
                    live.move(ESCROW_ACCOUNT, buyer, price)
            del open_contracts[: len(items)]
            cycles += 1
            s.settle(day, *items, cycle=cycles)
        elif op[0] == "host" and op[1] + op[2]:
            s.host(
                day,
                {"p1": op[1]}
                if not op[2]
                else {"p1": op[1], "p2": op[2]}
                if False
                else {"p1": op[1] + op[2]},
            )
            live.move("p1", EXCHANGE_ACCOUNT, op[1] + op[2], allow_debt=True)
        elif op[0] == "member" and live.can_pay(op[1], op[2]):
            s.membership(op[1], op[2], day)
            live.move(op[1], EXCHANGE_ACCOUNT, op[2])
    return live
