"""Accounts in integer fen: the exchange's live view of who holds what.

The ledger is the source of truth; these balances are the simulator's working state, and the
end-of-run invariant checks they equal the balances folded from the ledger, to the fen.
"""

from __future__ import annotations

from collections.abc import Mapping

from marketplace.entries import ESCROW_ACCOUNT, EXCHANGE_ACCOUNT
from marketplace.errors import InsufficientFundsError, MarketError
from marketplace.money import Fen

__all__ = ["Accounts"]


class Accounts:
    """Balances by account id. Money enters only through :meth:`open`; after that it only moves."""

    def __init__(self) -> None:
        self._balances: dict[str, Fen] = {EXCHANGE_ACCOUNT: 0, ESCROW_ACCOUNT: 0}
        self.endowments: Fen = 0

    def open(self, account: str, endowment: Fen) -> None:
        if account in self._balances:
            raise MarketError(f"account {account!r} is already open")
        if endowment < 0:
            raise MarketError("an endowment cannot be negative")
        self._balances[account] = endowment
        self.endowments += endowment

    def balance(self, account: str) -> Fen:
        return self._balances[account]

    def can_pay(self, account: str, amount: Fen) -> bool:
        return self._balances[account] >= amount

    def move(self, source: str, target: str, amount: Fen, *, allow_debt: bool = False) -> None:
        """Move ``amount`` fen. Only hosting charges may run a provider into debt."""
        if amount < 0:
            raise MarketError("amounts are non-negative")
        if target not in self._balances:
            raise MarketError(f"no account {target!r}")
        if not allow_debt and self._balances[source] < amount:
            raise InsufficientFundsError(f"{source} holds {self._balances[source]}, needs {amount}")
        self._balances[source] -= amount
        self._balances[target] += amount

    def snapshot(self) -> Mapping[str, Fen]:
        return dict(sorted(self._balances.items()))

    def total(self) -> Fen:
        return sum(self._balances.values())
