"""Stage 5, operation management: cross-border clearance, delivery, settlement, refunds.

A cross-border contract first waits for clearance (:mod:`marketplace.clearance`): every
mechanism its policy requires, obtained or already held; a refused one cancels the contract.
Delivery time depends on the licence: a download moves the data (size / bandwidth); an API
subscription and compute-in-place ("usable but not visible") need provisioning. Deliveries can
fail. A delivery abroad of personal information is recorded in the exchange's export book, so
later transfers of the same exporter count its people. Settlement runs in cycles, as clearing
does: every finished delivery since the last cycle is settled in one operator-signed entry — the
provider is paid the price less the supplier fee, the exchange keeps the fee; a failed delivery
or a cancelled contract is refunded to the buyer in full; the sale of a derived product then pays
each licence its royalty upstream (``operation.royalty``). A delivery under a certificate revoked
or cancelled before it completes is cancelled and refunded: no data moves under an ended right.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import simpy

from ledger import Identity
from marketplace.config import FeeSchedule, OperationConfig
from marketplace.entries import (
    ESCROW_ACCOUNT,
    EXCHANGE_ACCOUNT,
    ApiUsage,
    ComputeJob,
    DeliveryDispute,
    DeliveryRuling,
    Royalty,
    Settlement,
    SettlementItem,
    UsageRefusal,
)
from marketplace.errors import MarketError
from marketplace.money import apply_bp
from marketplace.state import CertificateState, ContractState

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["Operation", "cpu_hours_cost"]

Ended = Literal["delivered", "failed", "cancelled"]
JobRefusal = Literal["licence-expired", "certificate-ended", "insufficient-funds"]


def _ended(certificate: CertificateState) -> bool:
    """Revoked or cancelled: no data moves and no job runs under it (nor under a certificate
    it superseded)."""
    return certificate.status in ("revoked", "cancelled")


def cpu_hours_cost(cpu_hours: float, fen_per_cpu_hour: int) -> int:
    """A job's compute charge in whole fen: its CPU time, counted in thousandths of an hour as
    the ledger records it, at the published rate, rounded half up."""
    milli = round(cpu_hours * 1000)
    return (milli * fen_per_cpu_hour + 500) // 1000


class Operation:
    def __init__(
        self,
        exchange: Exchange,
        config: OperationConfig,
        fees: FeeSchedule,
        rng: np.random.Generator,
    ) -> None:
        self.exchange = exchange
        self.config = config
        self.fees = fees
        self.rng = rng
        self.finished: list[ContractState] = []
        self.in_delivery = 0
        self._cycles = 0
        self._jobs = 0
        self._failure_bp = {
            "download": config.download_failure_bp,
            "api": config.api_failure_bp,
            "compute-in-place": config.compute_failure_bp,
        }

    def delivery_days(self, contract: ContractState) -> float:
        """Sampled delivery time in days for this contract's licence and dataset size."""
        config = self.config
        jitter = config.delivery_jitter_days.sample(self.rng)
        if contract.licence == "download":
            return contract.listing.spec.size_mb / config.download_mb_per_day + jitter
        if contract.licence == "api":
            return config.api_setup_days.sample(self.rng) + jitter
        return config.compute_setup_days.sample(self.rng) + jitter

    def deliver(self, contract: ContractState) -> simpy.Process:
        self.in_delivery += 1
        contract.finished = self.exchange.env.event()
        return self.exchange.env.process(self._deliver(contract))

    def _deliver(self, contract: ContractState) -> Generator[simpy.Event, Any, None]:
        exchange = self.exchange
        env = exchange.env
        if contract.requirements:
            cleared = yield env.process(exchange.clearance.clear(contract))
            if not cleared:
                self._finish(contract, "cancelled")
                return
        if self._stopped(contract, before_moving=True):
            self._finish(contract, "cancelled")
            return
        contract.moved_at = exchange.now_s()
        draws = self.rng.random()
        yield env.timeout(self.delivery_days(contract))
        failed = draws * 10_000 < self._failure_bp[contract.licence]
        if self._stopped(contract, before_moving=False):  # ended while the data moved
            self._finish(contract, "cancelled")
            return
        if not failed and self.config.dispute_bp:
            contract.delivered_at = exchange.now_s()  # the data arrived; the ruling comes later
            yield env.process(self._dispute(contract))
        self._finish(contract, "failed" if failed else "delivered")

    def _dispute(self, contract: ContractState) -> Generator[simpy.Event, Any, None]:
        """Process: the buyer may dispute what it received; the exchange rules, and an upheld
        claim refunds part of the price at settlement (settlement waits for the ruling)."""
        config, exchange = self.config, self.exchange
        if self.rng.random() * 10_000 >= config.dispute_bp:
            return
        buyer = exchange.identities[contract.buyer]
        claim = DeliveryDispute(
            contract=contract.contract, buyer=contract.buyer, grounds="not as described"
        )
        exchange.record("operation.dispute", claim, [buyer])
        days = config.dispute_days.sample(self.rng)
        upheld = bool(self.rng.random() * 10_000 < config.dispute_upheld_bp)
        yield exchange.env.timeout(days)
        refund = apply_bp(contract.price_fen, config.partial_refund_bp) if upheld else 0
        ruling = DeliveryRuling(
            contract=contract.contract,
            upheld=upheld,
            refund_fen=refund,
            days_x1000=round(days * 1000),
        )
        exchange.record("operation.ruling", ruling, [exchange.operator])
        contract.refund_fen = refund

    def _stopped(self, contract: ContractState, *, before_moving: bool) -> bool:
        """No data moves, and no delivery completes, under a certificate that was revoked or
        cancelled; nor does data start to move unless the listing holds a certificate in force
        (the contract's own, or the renewal that superseded it); nor under a derived
        product's licence that has ended."""
        certificate = contract.certificate
        if certificate is None:
            return False
        current = contract.listing.certificate  # a change may have superseded the contract's
        if _ended(certificate) or (current is not None and _ended(current)):
            return True
        now = self.exchange.now_s()
        if not all(licence.in_force(now) for licence in contract.listing.licences):
            return True  # a derived product's licence ended: its data may no longer move
        return before_moving and (current is None or not current.valid_at(now))

    def _finish(self, contract: ContractState, outcome: Ended) -> None:
        exchange = self.exchange
        contract.outcome = outcome
        contract.delivered_at = contract.delivered_at or exchange.now_s()
        spec = contract.listing.spec
        if outcome == "delivered" and contract.cross_border and spec.pi_subjects:
            exchange.exports.record(
                contract.listing.provider,
                exchange.calendar.date_at(contract.delivered_at).year,
                spec.subjects,
                at=contract.delivered_at,
                recipient=contract.buyer,
                category=spec.us_category,
            )
        self.in_delivery -= 1
        self.finished.append(contract)
        if contract.finished is not None:
            contract.finished.succeed(outcome)

    def run_job(self, buyer: Identity, contract: ContractState, cpu_hours: float) -> bool:
        """Run a buyer's job on the data under its compute-in-place licence and charge the
        compute it used; only its results leave the exchange. Refused (and recorded so) after
        the licence term, under an ended certificate, or beyond the buyer's funds."""
        exchange = self.exchange
        if contract.licence != "compute-in-place" or contract.buyer != buyer.id:
            raise MarketError(f"{buyer.id} holds no compute-in-place licence {contract.contract}")
        now = exchange.now_s()
        self._jobs += 1
        cost = cpu_hours_cost(cpu_hours, self.config.compute_fen_per_cpu_hour)
        certificate = contract.certificate
        refused: JobRefusal | None = None
        if now >= contract.ends_at:
            refused = "licence-expired"
        elif (
            (certificate is not None and _ended(certificate))
            or (contract.listing.certificate is not None and _ended(contract.listing.certificate))
            or contract.listing.withdrawn_at is not None
            or not all(licence.in_force(now) for licence in contract.listing.licences)
        ):
            refused = "certificate-ended"
        elif not exchange.accounts.can_pay(buyer.id, cost):
            refused = "insufficient-funds"
        body = ComputeJob(
            contract=contract.contract,
            job=f"J{self._jobs:07d}",
            buyer=buyer.id,
            cpu_hours_x1000=round(cpu_hours * 1000),
            cost_fen=0 if refused else cost,
            refused=refused,
        )
        if refused is None:
            exchange.accounts.move(buyer.id, EXCHANGE_ACCOUNT, cost)
        exchange.record("operation.job", body, [buyer, exchange.operator])
        return refused is None

    def meter(self, buyer: Identity, contract: ContractState, calls: int, period_from: int) -> bool:
        """Bill an API subscription's calls since ``period_from`` at the published rate: the
        buyer pays, the provider gets it less the supplier fee. Refused (and recorded so, with
        nothing billed) after the licence term, under an ended certificate or a withdrawn
        listing, or beyond the buyer's funds; the caller then stops the subscription."""
        exchange = self.exchange
        if contract.licence != "api" or contract.buyer != buyer.id:
            raise MarketError(f"{buyer.id} holds no API subscription {contract.contract}")
        now = exchange.now_s()
        ends = contract.ends_at
        rate = self.config.api_fen_per_1000_calls
        cost = (calls * rate + 500) // 1000
        listing = contract.listing
        refused: UsageRefusal | None = None
        if period_from >= ends:
            refused = "licence-expired"
        elif (
            (contract.certificate is not None and _ended(contract.certificate))
            or (listing.certificate is not None and _ended(listing.certificate))
            or listing.withdrawn_at is not None
            or not all(licence.in_force(now) for licence in listing.licences)
        ):
            refused = "certificate-ended"
        elif not exchange.accounts.can_pay(buyer.id, cost):
            refused = "insufficient-funds"
        fee = 0 if refused else apply_bp(cost, self.fees.supplier_fee_bp)
        body = ApiUsage(
            contract=contract.contract,
            buyer=buyer.id,
            provider=contract.provider,
            period_from=period_from,
            period_until=min(now, ends),  # the last period ends with the licence
            calls=0 if refused else calls,
            fen_per_1000_calls=rate,
            cost_fen=0 if refused else cost,
            to_provider_fen=0 if refused else cost - fee,
            fee_fen=fee,
            refused=refused,
        )
        if refused is None:
            exchange.accounts.move(buyer.id, contract.provider, cost - fee)
            exchange.accounts.move(buyer.id, EXCHANGE_ACCOUNT, fee)
        exchange.record("operation.usage", body, [buyer, exchange.operator])
        return refused is None

    def settle(self) -> int:
        """Settle every finished delivery in one entry; returns the number settled."""
        if not self.finished:
            return 0
        accounts = self.exchange.accounts
        items: list[SettlementItem] = []
        royalties: list[tuple[ContractState, int]] = []
        for contract in self.finished:
            provider = contract.provider or contract.listing.provider
            if contract.outcome == "delivered":
                refund = contract.refund_fen
                fee = (
                    contract.supplier_fee_fen
                    if refund == 0
                    else apply_bp(contract.price_fen - refund, self.fees.supplier_fee_bp)
                )
                to_provider = contract.price_fen - refund - fee
                accounts.move(ESCROW_ACCOUNT, provider, to_provider)
                accounts.move(ESCROW_ACCOUNT, EXCHANGE_ACCOUNT, fee)
                if refund:
                    accounts.move(ESCROW_ACCOUNT, contract.buyer, refund)
                if contract.listing.derived:
                    royalties.append((contract, to_provider))
                item = SettlementItem(
                    contract=contract.contract,
                    outcome="delivered",
                    moved_at=contract.moved_at,
                    delivered_at=contract.delivered_at,
                    to_provider_fen=to_provider,
                    fee_fen=fee,
                    refund_fen=refund,
                )
            else:
                accounts.move(ESCROW_ACCOUNT, contract.buyer, contract.price_fen)
                item = SettlementItem(
                    contract=contract.contract,
                    outcome="cancelled" if contract.outcome == "cancelled" else "failed",
                    moved_at=contract.moved_at,
                    delivered_at=contract.delivered_at,
                    to_provider_fen=0,
                    fee_fen=0,
                    refund_fen=contract.price_fen,
                )
            items.append(item)
        self._cycles += 1
        self.exchange.record(
            "operation.settlement",
            Settlement(cycle=self._cycles, items=items),
            [self.exchange.operator],
        )
        for contract, takings in royalties:
            self._pay_upstream(contract, takings)
        settled = len(self.finished)
        self.finished = []
        return settled

    def _pay_upstream(self, contract: ContractState, takings_fen: int) -> None:
        """A derived product's sale pays each licence its royalty out of the seller's takings
        (what the settlement just paid it), as the licence agreed."""
        accounts, listing = self.exchange.accounts, contract.listing
        for licence in listing.licences:
            fen = apply_bp(takings_fen, licence.royalty_bp)
            accounts.move(contract.provider, licence.licensor, fen)
            listing.royalties_fen += fen
            body = Royalty(
                cycle=self._cycles,
                contract=contract.contract,
                licence=licence.licence,
                licensee=contract.provider,
                licensor=licence.licensor,
                royalty_fen=fen,
            )
            self.exchange.record("operation.royalty", body, [self.exchange.operator])
