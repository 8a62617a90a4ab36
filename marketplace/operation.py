"""Stage 5, operation management: cross-border mechanisms, delivery, settlement, refunds.

Delivery time depends on the licence: a download moves the data (size / bandwidth); an API
subscription and compute-in-place ("usable but not visible") need provisioning. Deliveries can
fail. Settlement runs in cycles, as clearing does: every finished delivery since the last cycle is
settled in one operator-signed entry — the provider is paid the price less the supplier fee, the
exchange keeps the fee; a failed delivery is refunded to the buyer in full.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from marketplace.config import FeeSchedule, OperationConfig
from marketplace.entries import (
    ESCROW_ACCOUNT,
    EXCHANGE_ACCOUNT,
    CrossBorderMechanism,
    Settlement,
    SettlementItem,
)
from marketplace.state import ContractState

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["Operation"]


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
        return self.exchange.env.process(self._deliver(contract))

    def _deliver(self, contract: ContractState) -> Generator[simpy.Event, Any, None]:
        env = self.exchange.env
        if contract.mechanism is not None:
            # The fastest required mechanism, completed before any data moves (lead time in
            # working days, approximated as calendar days here).
            yield env.timeout(contract.lead_time_days)
            body = CrossBorderMechanism(
                contract=contract.contract,
                mechanism=contract.mechanism,
                completed_at=self.exchange.now_s(),
                lead_time_days=contract.lead_time_days,
            )
            self.exchange.record("crossborder.mechanism", body, [self.exchange.operator])
        draws = self.rng.random()
        yield env.timeout(self.delivery_days(contract))
        failed = draws * 10_000 < self._failure_bp[contract.licence]
        contract.outcome = "failed" if failed else "delivered"
        contract.delivered_at = self.exchange.now_s()
        self.in_delivery -= 1
        self.finished.append(contract)

    def settle(self) -> int:
        """Settle every finished delivery in one entry; returns the number settled."""
        if not self.finished:
            return 0
        accounts = self.exchange.accounts
        items: list[SettlementItem] = []
        for contract in self.finished:
            provider = contract.listing.provider
            if contract.outcome == "delivered":
                to_provider = contract.price_fen - contract.supplier_fee_fen
                accounts.move(ESCROW_ACCOUNT, provider, to_provider)
                accounts.move(ESCROW_ACCOUNT, EXCHANGE_ACCOUNT, contract.supplier_fee_fen)
                item = SettlementItem(
                    contract=contract.contract,
                    outcome="delivered",
                    delivered_at=contract.delivered_at,
                    to_provider_fen=to_provider,
                    fee_fen=contract.supplier_fee_fen,
                    refund_fen=0,
                )
            else:
                accounts.move(ESCROW_ACCOUNT, contract.buyer, contract.price_fen)
                item = SettlementItem(
                    contract=contract.contract,
                    outcome="failed",
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
        settled = len(self.finished)
        self.finished = []
        return settled
