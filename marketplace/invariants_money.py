"""The second account of money: every balance restated from the economic facts of the log.

The metrics fold keeps money as postings (each entry moves fen between two accounts), so its
Σ endowments = Σ balances holds by construction and proves nothing. This statement is drawn up
independently, the way an auditor rebuilds a ledger from source documents: for each participant,
endowment − membership, hosting, compute, listing and assessment fees − prices of its purchases
+ refunds of its failed ones + the provider's share of its delivered sales ± the royalties a
derived product's sales pay its licensors ± the price of rights transferred − metered API calls
(+ their provider's share); escrow is the price of every contract not yet settled; the exchange
holds the fees charged. Invariant 2 requires the two accounts to agree for every account, to the
fen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from marketplace.entries import (
    ESCROW_ACCOUNT,
    EXCHANGE_ACCOUNT,
    AccountOpen,
    ActFee,
    ApiUsage,
    ComputeJob,
    Contract,
    HostingCharge,
    MembershipFee,
    RightsTransfer,
    Royalty,
    Settlement,
)

__all__ = ["MoneyStatement"]


class MoneyStatement:
    """Fed every entry in seq order; :meth:`balances` restates each account from the facts."""

    def __init__(self) -> None:
        self.endowment: Counter[str] = Counter()
        self.fees_paid: Counter[str] = Counter()
        self.bought: Counter[str] = Counter()  # buyer -> Σ prices of its contracts
        self.refunded: Counter[str] = Counter()
        self.earned: Counter[str] = Counter()  # provider -> Σ its share of delivered sales
        # what a party paid others directly: royalties (licensee), rights it bought
        # (transferee), metered API calls (buyer: the provider's share and the fee)
        self.paid_out: Counter[str] = Counter()
        self.fees_charged = 0  # membership, hosting, compute, supplier fees, as entries state them
        self.open: dict[str, int] = {}  # contract not yet settled -> its price
        self.parties: dict[str, tuple[str, str]] = {}  # contract -> buyer, provider

    def feed(self, seq: int, time: int, kind: str, actor: str, body: Mapping[str, Any]) -> None:
        if kind == "account.open":
            opened = AccountOpen.model_validate(body)
            self.endowment[opened.account] += opened.endowment_fen
        elif kind == "operation.membership":
            paid = MembershipFee.model_validate(body)
            self.fees_paid[paid.account] += paid.fee_fen
            self.fees_charged += paid.fee_fen
        elif kind == "storage.hosting":
            for provider, fen in HostingCharge.model_validate(body).charges.items():
                self.fees_paid[provider] += fen
                self.fees_charged += fen
        elif kind == "operation.job":
            job = ComputeJob.model_validate(body)
            self.fees_paid[job.buyer] += job.cost_fen
            self.fees_charged += job.cost_fen
        elif kind == "operation.fee":
            charged = ActFee.model_validate(body)
            self.fees_paid[charged.account] += charged.fee_fen
            self.fees_charged += charged.fee_fen
        elif kind == "operation.usage":
            usage = ApiUsage.model_validate(body)
            self.paid_out[usage.buyer] += usage.cost_fen
            self.earned[usage.provider] += usage.to_provider_fen
            self.fees_charged += usage.fee_fen
        elif kind == "rights.transfer":
            sold = RightsTransfer.model_validate(body)
            self.paid_out[sold.transferee] += sold.price_fen
            self.earned[sold.transferor] += sold.price_fen
        elif kind == "operation.royalty":
            royalty = Royalty.model_validate(body)
            self.paid_out[royalty.licensee] += royalty.royalty_fen
            self.earned[royalty.licensor] += royalty.royalty_fen
        elif kind == "trade.contract":
            contract = Contract.model_validate(body)
            self.bought[contract.buyer] += contract.price_fen
            self.open[contract.contract] = contract.price_fen
            self.parties[contract.contract] = (contract.buyer, contract.provider)
        elif kind == "operation.settlement":
            for item in Settlement.model_validate(body).items:
                parties = self.parties.get(item.contract)
                if parties is None or self.open.pop(item.contract, None) is None:
                    continue  # unknown or settled twice: the settlement check names it
                buyer, provider = parties
                if item.outcome == "delivered":
                    self.earned[provider] += item.to_provider_fen
                    self.fees_charged += item.fee_fen
                self.refunded[buyer] += item.refund_fen  # in full, or a partial refund

    def balances(self) -> dict[str, int]:
        """Every account's balance as the facts state it (escrow and the exchange included)."""
        accounts = set(self.endowment) | set(self.fees_paid) | set(self.bought) | set(self.earned)
        stated = {
            account: self.endowment[account]
            - self.fees_paid[account]
            - self.bought[account]
            - self.paid_out[account]
            + self.refunded[account]
            + self.earned[account]
            for account in accounts
        }
        stated[ESCROW_ACCOUNT] = stated.get(ESCROW_ACCOUNT, 0) + sum(self.open.values())
        stated[EXCHANGE_ACCOUNT] = stated.get(EXCHANGE_ACCOUNT, 0) + self.fees_charged
        return stated

    def differences(self, postings: Mapping[str, int]) -> list[str]:
        """Accounts where the postings and the statement disagree, first by name."""
        stated = self.balances()
        return [
            f"account {account}: the postings give {postings.get(account, 0)} fen, its "
            f"statement {stated.get(account, 0)} fen"
            for account in sorted(set(stated) | set(postings))
            if stated.get(account, 0) != postings.get(account, 0)
        ]
