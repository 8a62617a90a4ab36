"""Stage 4, trading: orders, checks, and contracts signed by both parties.

An order waits for a desk (capacity) and takes a sampled matching time. The desk then enforces, in
this order: the listing has a valid three-rights certificate **now** (no certificate, no trade);
the buyer can pay; and, when the data leaves its origin jurisdiction, the transfer gate's decision.
A passing order becomes a contract signed by buyer and provider; the price moves into escrow and
delivery starts. A failing order is recorded as ``trade.rejected``, signed by the operator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import simpy

from marketplace.config import TradingConfig
from marketplace.crossborder_hook import GateDecision, TransferGate
from marketplace.entries import (
    ESCROW_ACCOUNT,
    Contract,
    NeedUnmet,
    OrderPlaced,
    RequirementTerms,
    TradeRejected,
)
from marketplace.errors import MarketError
from marketplace.exports import ExportBook
from marketplace.money import apply_bp
from marketplace.state import ContractState, ListingState, Offer, Order

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["US_CATEGORIES", "Trading", "transfer_facts"]


US_CATEGORIES = (
    "genomic",
    "biometric",
    "precise_geolocation",
    "health",
    "financial",
    "identifiers",
)


def transfer_facts(
    listing: ListingState, order: Order, date: dt.date, exports: ExportBook, now: int
) -> dict[str, Any]:
    """The transfer's facts in the fixed format of ``specs/crossborder-facts.md``, every one
    known to the exchange: the exporter's profile and the dataset's classification from the
    listing, the purpose and the recipient from the order, and the people counts from what the
    exporter has already delivered abroad (``exports``), this transfer included."""
    spec = listing.spec
    subjects = spec.subjects
    personal = spec.pi_subjects > 0
    ytd, sensitive_ytd, since, sensitive_since = (
        exports.counts(listing.provider, date.year, subjects) if personal else (0, 0, 0, 0)
    )
    category = spec.us_category
    bulk = dict.fromkeys(US_CATEGORIES, 0)
    if category is not None and personal:
        bulk[category] = exports.bulk(listing.provider, order.buyer, category, subjects, now)
    exporter, terms = spec.exporter, order.terms
    return {
        "date": date.isoformat(),
        "origin": spec.origin,
        "destination": order.destination,
        "exporter": {
            "ciio": exporter.ciio,
            "ftz": exporter.ftz,
            "pi_subjects_processed": exporter.people,
            "gdpr_art3_2": exporter.gdpr_art3_2,
        },
        "data": {
            "personal": personal,
            "sensitive": spec.sensitive_pi_subjects > 0,
            "important": spec.classification == "important",
            "core": spec.classification == "core",
            "ftz_negative_list": spec.ftz_negative_list,
            "transit_only": spec.transit_only,
        },
        "pi_subjects_ytd": ytd,
        "sensitive_pi_subjects_ytd": sensitive_ytd,
        "pi_subjects_since_last_year": since,
        "sensitive_pi_subjects_since_last_year": sensitive_since,
        "purpose": terms.purpose,
        "recipient": {
            "dpf_certified": terms.dpf_certified,
            "covered_person": terms.covered_person,
        },
        "safeguard": terms.safeguard,
        "derogation": terms.derogation,
        "us": {
            "transaction": terms.us_transaction,
            "government_related": spec.government_related,
            "bulk": bulk,
        },
    }


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
        self.gate = gate
        self.rng = rng
        self.desk = simpy.Resource(exchange.env, capacity=config.capacity)
        self.contracts_signed = 0
        self._orders = 0

    def place(self, order: Order) -> Order:
        """Record the buyer's order as it arrives (signed by the buyer); returns it with its id."""
        exchange = self.exchange
        listing = exchange.listings.get(order.listing)
        if listing is None or listing.price_fen is None:
            raise MarketError(f"{order.buyer} ordered {order.listing}, which is not on offer")
        self._orders += 1
        placed = replace(order, order=f"O{self._orders:07d}", placed_at=exchange.now_s())
        body = OrderPlaced(
            order=placed.order or "",
            buyer=order.buyer,
            listing=order.listing,
            licence=order.licence,
            duration_days=order.duration_days,
            destination=order.destination,
            price_fen=order.price_fen,
            terms=order.terms,
        )
        exchange.record("trade.order", body, [exchange.identities[order.buyer]])
        return placed

    def unmet(self, buyer: str, category: str, value_fen: int, offers: Sequence[Offer]) -> None:
        """Record a need that found no acceptable offer (lost demand), signed by the buyer."""
        certified = [o for o in offers if o.certified]
        reason: Literal["no-offers", "none-certified", "none-worth-its-price"] = (
            "no-offers"
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

    def purchase(self, order: Order) -> Generator[simpy.Event, Any, ContractState | None]:
        """Process: place the order, wait for the desk, match and check it; returns the
        contract, or None if rejected."""
        exchange = self.exchange
        if order.order is None:
            order = self.place(order)
        with self.desk.request() as seat:
            yield seat
            yield exchange.env.timeout(self.config.matching_days.sample(self.rng))
        listing = exchange.listings.get(order.listing)
        if listing is None or listing.price_fen is None:
            raise MarketError(f"{order.buyer} ordered {order.listing}, which is not on offer")
        certificate = listing.certificate
        now = exchange.now_s()
        if certificate is None:
            self._reject(order, "no-certificate", "the listing has no rights certificate")
            return None
        if not certificate.valid_at(now):
            detail = f"certificate {certificate.certificate} expired at {certificate.valid_until}"
            self._reject(order, "certificate-expired", detail)
            return None
        price = listing.price_fen
        if price > order.price_fen:
            detail = f"price rose from {order.price_fen} to {price} before matching"
            self._reject(order, "price-changed", detail)
            return None
        if not exchange.accounts.can_pay(order.buyer, price):
            balance = exchange.accounts.balance(order.buyer)
            self._reject(order, "insufficient-funds", f"price {price}, balance {balance}")
            return None
        decision = GateDecision("allowed", ())
        facts: dict[str, Any] | None = None
        cross_border = order.destination != listing.spec.origin
        if cross_border:
            date = exchange.calendar.date_at(now)
            facts = transfer_facts(listing, order, date, exchange.exports, now)
            decision = self.gate.evaluate(facts)
            if decision.outcome in ("forbidden", "needs-information"):
                self._refuse(order, decision, facts, price)
                return None
        return self._contract(order, listing, price, cross_border, decision, facts, now)

    @property
    def orders_placed(self) -> int:
        return self._orders

    def _contract(
        self,
        order: Order,
        listing: ListingState,
        price: int,
        cross_border: bool,
        decision: GateDecision,
        facts: dict[str, Any] | None,
        now: int,
    ) -> ContractState:
        exchange = self.exchange
        assert listing.certificate is not None and listing.quote_seq is not None
        ordered_at = now if order.placed_at is None else order.placed_at
        self.contracts_signed += 1
        contract_id = f"K{self.contracts_signed:07d}"
        fee = apply_bp(price, exchange.config.fees.supplier_fee_bp)
        requirements = decision.requirements
        body = Contract(
            contract=contract_id,
            listing=listing.listing,
            certificate=listing.certificate.certificate,
            buyer=order.buyer,
            provider=listing.provider,
            price_fen=price,
            supplier_fee_fen=fee,
            licence=order.licence,
            duration_days=order.duration_days,
            destination=order.destination,
            cross_border=cross_border,
            requirements=[
                RequirementTerms(
                    pack=r.pack,
                    any_of=list(r.any_of),
                    rules=list(r.rules),
                    lead_time_days=r.lead_time_days,
                )
                for r in requirements
            ],
            policy_rules=list(decision.rules) if cross_border else [],
            terms=order.terms,
            facts=facts,
            order=order.order,
            quote_seq=listing.quote_seq,
            ordered_at=ordered_at,
            research={
                "buyer_value_fen": order.value_fen,
                "provider_cost_fen": listing.spec.unit_cost_fen,
            },
        )
        signers = [exchange.identities[order.buyer], exchange.identities[listing.provider]]
        entry = exchange.record("trade.contract", body, signers)
        exchange.accounts.move(order.buyer, ESCROW_ACCOUNT, price)
        listing.sales += 1
        contract = ContractState(
            contract=contract_id,
            listing=listing,
            buyer=order.buyer,
            price_fen=price,
            supplier_fee_fen=fee,
            licence=order.licence,
            destination=order.destination,
            requirements=requirements,
            signed_at=entry.time,
            seq=entry.seq,
        )
        exchange.operation.deliver(contract)
        return contract

    def _refuse(
        self, order: Order, decision: GateDecision, facts: dict[str, Any], price: int
    ) -> None:
        """A policy refusal: the rules that refused it, what it lacked, what it was worth."""
        detail = "; ".join(decision.rules)
        if decision.missing:
            detail += f" (missing: {', '.join(decision.missing)})"
        body = TradeRejected(
            buyer=order.buyer,
            listing=order.listing,
            order=order.order,
            reason=decision.outcome,  # type: ignore[arg-type]
            detail=detail,
            rules=list(decision.rules),
            missing=list(decision.missing),
            price_fen=price,
            destination=order.destination,
            facts=facts,
        )
        self.exchange.record("trade.rejected", body, [self.exchange.operator])

    def _reject(self, order: Order, reason: Any, detail: str) -> None:
        body = TradeRejected(
            buyer=order.buyer,
            listing=order.listing,
            order=order.order,
            reason=reason,
            detail=detail,
        )
        self.exchange.record("trade.rejected", body, [self.exchange.operator])
