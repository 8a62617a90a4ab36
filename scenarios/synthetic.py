"""Synthetic ledgers: realistic-looking signed entries without a market behind them.

Used by ``dxsim synthetic`` and the ledger benchmarks, to exercise the ledger at any size with
entries of the size and shape the market writes (a two-party contract is signed by both parties).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ledger import Identity, KeySecret, Ledger

__all__ = ["SYNTHETIC_AUTHORIZATION", "SyntheticParties", "synthetic_bodies", "write_synthetic"]

SYNTHETIC_AUTHORIZATION: dict[str, list[str]] = {
    "provider": ["synthetic.listing", "synthetic.contract"],
    "buyer": ["synthetic.contract"],
    "operator": ["synthetic.settlement"],
}


@dataclass(frozen=True)
class SyntheticParties:
    """The log and the signers of a synthetic ledger, all derived from one seed."""

    log: Identity
    providers: list[Identity]
    buyers: list[Identity]
    operator: Identity

    @classmethod
    def derive(
        cls, secret: KeySecret, seed: int, providers: int = 20, buyers: int = 50
    ) -> SyntheticParties:
        """The parties of synthetic ledger ``seed``, their keys derived from ``secret``."""
        scope = f"synthetic/seed={seed}"

        def key(identity_id: str, role: str) -> Identity:
            return secret.identity(scope, identity_id, role)

        return cls(
            log=key("dxsim-log", "log"),
            providers=[key(f"provider-{i:04d}", "provider") for i in range(providers)],
            buyers=[key(f"buyer-{i:04d}", "buyer") for i in range(buyers)],
            operator=key("operator", "operator"),
        )

    def all_signers(self) -> list[Identity]:
        return [*self.providers, *self.buyers, self.operator]


def synthetic_bodies(
    seed: int, count: int, parties: SyntheticParties
) -> Iterator[tuple[str, dict[str, Any], list[Identity]]]:
    """Yield ``count`` (kind, body, signers): mostly contracts, some listings and settlements."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    n_prov, n_buy = len(parties.providers), len(parties.buyers)
    for index in range(count):
        roll = rng.random()
        provider = parties.providers[int(rng.integers(n_prov))]
        if roll < 0.1:
            body = {
                "dataset": f"ds-{index:07d}",
                "size_mb": int(rng.integers(1, 50_000)),
                "category": "mobility",
                "classification": "general",
            }
            yield "synthetic.listing", body, [provider]
        elif roll < 0.95:
            buyer = parties.buyers[int(rng.integers(n_buy))]
            price = int(rng.integers(10_000, 10_000_000))
            body = {
                "contract": f"c-{index:07d}",
                "dataset": f"ds-{int(rng.integers(index + 1)):07d}",
                "buyer": buyer.id,
                "provider": provider.id,
                "price_fen": price,
                "supplier_fee_fen": price * 25 // 1000,
                "licence": "api",
                "duration_days": 90,
                "destination": "CN",
            }
            yield "synthetic.contract", body, [buyer, provider]
        else:
            settled = int(rng.integers(1, 200))
            body = {"batch": index, "settled": settled, "total_fen": settled * 120_000}
            yield "synthetic.settlement", body, [parties.operator]


def write_synthetic(
    target: str | Path,
    secret: KeySecret,
    seed: int,
    count: int,
    *,
    checkpoint_every: int = 16384,
) -> Ledger:
    """Write a closed synthetic ledger of ``count`` entries after genesis and registrations."""
    parties = SyntheticParties.derive(secret, seed)
    ledger = Ledger.create(
        target, parties.log, SYNTHETIC_AUTHORIZATION, checkpoint_every=checkpoint_every
    )
    for signer in parties.all_signers():
        ledger.register(signer)
    for step, (kind, body, signers) in enumerate(synthetic_bodies(seed, count, parties)):
        ledger.record(kind, body, step, signers)
    ledger.close()
    return ledger
