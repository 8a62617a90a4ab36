"""The metrics fold's handlers for data merchants and metered API use (a mixin of
:class:`marketplace.metrics.LedgerFold`): licences, transfers, royalties and API usage, which move
money between participants, and the figures they add up to."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from marketplace import entries as vocab
from marketplace.entries import EXCHANGE_ACCOUNT

__all__ = ["MERCHANT_FIGURES", "RENEWAL_FIGURES", "USAGE_FIGURES", "MerchantFold"]

#: The keys of ``Metrics.brokers`` and ``Metrics.api_usage``, in the order they are shown.
MERCHANT_FIGURES = (
    "broker_takings_fen",
    "derived_listings",
    "derived_trades",
    "derived_volume_fen",
    "licences",
    "royalties_fen",
    "transfer_fen",
    "transfers",
)
USAGE_FIGURES = ("billed_fen", "calls", "periods", "refused")
#: The keys of ``Metrics.renewals``.
RENEWAL_FIGURES = ("churned", "renewed", "terms_ended")


class MerchantFold:
    """Needs the fold's ``count`` tallies, ``_move`` and welfare totals."""

    count: dict[str, Counter[str]]
    buyer_surplus: int
    provider_surplus: int

    if TYPE_CHECKING:  # the fold's

        def _move(self, source: str, target: str, amount: int) -> None: ...

    def _init_merchants(self) -> None:
        self.derived: set[str] = set()  # listings registered as derived products
        self.renewing: dict[str, str] = {}  # an open renewal order -> the contract it renews
        self.term_ends: dict[str, int] = {}  # a signed contract -> when its licence term ends
        self.delivered_terms: dict[str, int] = {}  # the delivered ones'
        self.renewed: set[str] = set()  # contracts a signed renewal followed

    def _note_order(self, body: vocab.OrderPlaced) -> None:
        if body.renews is not None:
            self.renewing[body.order] = body.renews

    def _note_contract(self, time: int, body: vocab.Contract) -> None:
        self.term_ends[body.contract] = time + body.duration_days * 86_400
        renews = self.renewing.pop(body.order, None) if body.order is not None else None
        if renews is not None:
            self.renewed.add(renews)

    def _note_delivered(self, contract: str) -> None:
        if contract in self.term_ends:
            self.delivered_terms[contract] = self.term_ends.pop(contract)

    def renewal_figures(self, now: int) -> dict[str, int]:
        """Delivered licences whose term ended by ``now``: how many a signed renewal followed,
        and how many churned (the buyer let them go, or its renewal was refused)."""
        ended = {c for c, end in self.delivered_terms.items() if end <= now}
        renewed = len(ended & self.renewed)
        return {"churned": len(ended) - renewed, "renewed": renewed, "terms_ended": len(ended)}

    def _on_rights_licence(self, time: int, actor: str, body: vocab.RightsLicence) -> None:
        self.count["rights_events"]["licence"] += 1
        self.count["brokers"]["licences"] += 1

    def _on_rights_transfer(self, time: int, actor: str, body: vocab.RightsTransfer) -> None:
        self._move(body.transferee, body.transferor, body.price_fen)
        self.count["rights_events"]["transfer"] += 1
        self.count["brokers"]["transfers"] += 1
        self.count["brokers"]["transfer_fen"] += body.price_fen

    def _on_operation_usage(self, time: int, actor: str, body: vocab.ApiUsage) -> None:
        self._move(body.buyer, body.provider, body.to_provider_fen)
        self._move(body.buyer, EXCHANGE_ACCOUNT, body.fee_fen)
        self.count["fen"]["supplier"] += body.fee_fen
        self.count["revenue"][body.provider] += body.to_provider_fen
        self.count["usage"]["refused" if body.refused else "periods"] += 1
        self.count["usage"]["calls"] += body.calls
        self.count["usage"]["billed_fen"] += body.cost_fen
        # a metered call costs its provider nothing more: a transfer, net zero in the total
        self.buyer_surplus -= body.cost_fen
        self.provider_surplus += body.to_provider_fen

    def _on_operation_royalty(self, time: int, actor: str, body: vocab.Royalty) -> None:
        self._move(body.licensee, body.licensor, body.royalty_fen)
        self.count["revenue"][body.licensee] -= body.royalty_fen
        self.count["revenue"][body.licensor] += body.royalty_fen
        self.count["brokers"]["royalties_fen"] += body.royalty_fen
        self.count["brokers"]["broker_takings_fen"] -= body.royalty_fen

    def merchant_figures(self) -> dict[str, int]:
        return {key: self.count["brokers"][key] for key in MERCHANT_FIGURES}

    def usage_figures(self) -> dict[str, int]:
        return {key: self.count["usage"][key] for key in USAGE_FIGURES}
