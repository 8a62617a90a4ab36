"""The desk's checks on a fill, and the contract or rejection it becomes.

A fill is a price the venue found; the exchange still refuses it when the law or the rules of
the exchange say no. Checked at the moment of the fill, in this order: the listing has a valid
three-rights certificate now (DESIGN.md §6, invariant 3) and is not withdrawn; the buyer is a
member of the exchange now and can pay the fill's price;
and, for data leaving its origin jurisdiction, the transfer gate (the policy packs). A buy
order is also checked early, when it reaches the desk (:meth:`FillSettler.precheck`), so an
order for uncertified data or beyond the buyer's means never reaches a venue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketplace.crossborder_hook import GateDecision, TransferGate
from marketplace.entries import ESCROW_ACCOUNT, Contract, RequirementTerms, TradeRejected
from marketplace.money import apply_bp
from marketplace.pricing import Fill, PricingMechanism
from marketplace.state import ContractState, ListingState, Order
from marketplace.transfer_facts import transfer_facts

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["FillSettler"]


class FillSettler:
    def __init__(self, exchange: Exchange, gate: TransferGate) -> None:
        self.exchange = exchange
        self.gate = gate
        self.contracts_signed = 0

    def precheck(self, order: Order, listing: ListingState) -> tuple[str, str] | None:
        """Why the desk refuses ``order`` before it reaches a venue, or None."""
        problem = self._membership_problem(order.buyer) or self._certificate_problem(listing)
        if problem is not None:
            return problem
        if order.licence not in listing.spec.delivery_modes:
            modes = ", ".join(listing.spec.delivery_modes)
            return "licence-not-offered", f"{order.licence}: {listing.listing} offers {modes}"
        problem = self._use_problem(order, listing)
        if problem is not None:
            return problem
        accounts = self.exchange.accounts
        if not accounts.can_pay(order.buyer, order.price_fen):
            balance = accounts.balance(order.buyer)
            return "insufficient-funds", f"limit {order.price_fen}, balance {balance}"
        return None

    def settle(
        self, order: Order, listing: ListingState, fill: Fill, mechanism: PricingMechanism
    ) -> ContractState | None:
        """The fill's contract, or None once its rejection is recorded."""
        exchange = self.exchange
        problem = (
            self._membership_problem(order.buyer)
            or self._certificate_problem(listing)
            or self._use_problem(order, listing)
        )
        if problem is None and not exchange.accounts.can_pay(order.buyer, fill.price_fen):
            balance = exchange.accounts.balance(order.buyer)
            problem = "insufficient-funds", f"price {fill.price_fen}, balance {balance}"
        if problem is not None:
            self.reject(order, *problem)
            return None
        now = exchange.now_s()
        decision = GateDecision("allowed", ())
        facts: dict[str, Any] | None = None
        cross_border = order.destination != listing.spec.origin
        if cross_border:
            date = exchange.calendar.date_at(now)
            facts = transfer_facts(listing, order, date, exchange.exports, now)
            decision = self.gate.evaluate(facts)
            if decision.outcome in ("forbidden", "needs-information"):
                self._refuse(order, decision, facts, fill.price_fen)
                return None
        return self._contract(order, listing, fill, mechanism, decision, facts, now)

    def reject(self, order: Order, reason: Any, detail: str) -> None:
        body = TradeRejected(
            buyer=order.buyer,
            listing=order.listing,
            order=order.order,
            reason=reason,
            detail=detail,
        )
        self.exchange.record("trade.rejected", body, [self.exchange.operator])

    def _use_problem(self, order: Order, listing: ListingState) -> tuple[str, str] | None:
        """ "No use scenario, no trade" (the Shanghai Data Exchange's principle, with "no
        compliance, no listing", since its opening in November 2021): an order must serve a use
        its listing permits; where the venue requires it (``trading.require_use_scenario``),
        the order must state a use and the listing name the uses it permits."""
        uses = listing.spec.permitted_uses
        if self.exchange.config.trading.require_use_scenario and (order.use is None or not uses):
            missing = "the order states no use" if order.use is None else "the listing names none"
            return "no-use-scenario", f"{listing.listing}: {missing}"
        if uses and order.use not in uses:
            return "use-not-permitted", f"{order.use}: {listing.listing} permits {', '.join(uses)}"
        return None

    def _membership_problem(self, buyer: str) -> tuple[str, str] | None:
        until = self.exchange.member_until(buyer)
        if until is None or until <= self.exchange.now_s():
            ended = "never joined" if until is None else f"membership ended at {until} s"
            return "not-a-member", f"{buyer}: {ended}"
        return None

    def _certificate_problem(self, listing: ListingState) -> tuple[str, str] | None:
        if listing.withdrawn_at is not None:
            return "withdrawn", f"{listing.listing} was withdrawn at {listing.withdrawn_at} s"
        certificate = listing.certificate
        if certificate is None:
            return "no-certificate", "the listing has no rights certificate"
        if certificate.status in ("revoked", "cancelled"):
            return (
                "certificate-ended",
                f"certificate {certificate.certificate} was {certificate.status} at "
                f"{certificate.ended_at}",
            )
        now = self.exchange.now_s()
        if not certificate.valid_at(now):
            return (
                "certificate-expired",
                f"certificate {certificate.certificate} expired at {certificate.valid_until}",
            )
        for licence in listing.licences:
            if not licence.in_force(now):
                return "licence-ended", f"{listing.listing} derives under {licence.licence}"
        return None

    def _contract(
        self,
        order: Order,
        listing: ListingState,
        fill: Fill,
        mechanism: PricingMechanism,
        decision: GateDecision,
        facts: dict[str, Any] | None,
        now: int,
    ) -> ContractState:
        exchange = self.exchange
        assert listing.certificate is not None and listing.quote_seq is not None
        price = fill.price_fen
        ordered_at = now if order.placed_at is None else order.placed_at
        self.contracts_signed += 1
        contract_id = f"K{self.contracts_signed:07d}"
        fee = apply_bp(price, exchange.config.fees.supplier_fee_bp)
        requirements = decision.requirements
        cross_border = facts is not None
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
                "provider_cost_fen": fill_cost(listing, fill),
            },
            mechanism=mechanism.name,
            ask=fill.sell,
            rule=fill.rule,
            version=fill.version,
            use=order.use,
        )
        signers = [exchange.identities[order.buyer], exchange.identities[listing.provider]]
        entry = exchange.record("trade.contract", body, signers)
        exchange.accounts.move(order.buyer, ESCROW_ACCOUNT, price)
        listing.sales += 1
        listing.revenue_fen += price
        listing.fees_fen += fee
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
            certificate=listing.certificate,
            duration_days=order.duration_days,
            provider=listing.provider,
        )
        exchange.operation.deliver(contract)
        quality = listing.menu[fill.version][0] if listing.menu else listing.spec.quality_pct
        exchange.reference.record(listing.spec.category, quality, price, now)
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


def fill_cost(listing: ListingState, fill: Fill) -> int:
    """The seller's cost of the unit sold: the unit cost the seller stated with its order
    (a lab seller's schedule), else the dataset's unit cost."""
    return listing.unit_costs.get(fill.sell, listing.spec.unit_cost_fen)
