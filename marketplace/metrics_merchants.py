"""The metrics fold's handlers for data merchants and metered API use (a mixin of
:class:`marketplace.metrics.LedgerFold`): licences, transfers, royalties and API usage, which move
money between participants, and the figures they add up to."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from marketplace import entries as vocab
from marketplace.entries import EXCHANGE_ACCOUNT

__all__ = ["MERCHANT_FIGURES", "USAGE_FIGURES", "MerchantFold"]

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


class MerchantFold:
    """Needs the fold's ``count`` tallies, ``_move`` and welfare totals."""

    count: dict[str, Counter[str]]
    buyer_surplus: int
    provider_surplus: int

    if TYPE_CHECKING:  # the fold's

        def _move(self, source: str, target: str, amount: int) -> None: ...

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
