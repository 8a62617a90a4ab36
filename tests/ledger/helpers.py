"""Small ledgers for tests: a log, a few signers and a handful of entries of each kind."""

from __future__ import annotations

from dataclasses import dataclass

from ledger import Identity, Ledger
from tests.keys import test_identity

AUTHORIZATION = {
    "provider": ["market.listing", "market.contract"],
    "buyer": ["market.contract", "market.order"],
    "operator": ["market.settlement"],
}


@dataclass
class Cast:
    log: Identity
    alice: Identity  # provider
    bob: Identity  # buyer
    carol: Identity  # buyer
    operator: Identity


def cast(seed: int = 1) -> Cast:
    return Cast(
        log=test_identity(seed, "test-log", "log"),
        alice=test_identity(seed, "alice", "provider"),
        bob=test_identity(seed, "bob", "buyer"),
        carol=test_identity(seed, "carol", "buyer"),
        operator=test_identity(seed, "operator", "operator"),
    )


def small_ledger(url: str, entries: int = 24, *, checkpoint_every: int = 8, seed: int = 1) -> Cast:
    """A closed ledger: genesis, 4 registrations, then ``entries`` market entries."""
    who = cast(seed)
    ledger = Ledger.create(
        url, who.log, AUTHORIZATION, checkpoint_every=checkpoint_every, batch_size=5
    )
    for signer in (who.alice, who.bob, who.carol, who.operator):
        ledger.register(signer)
    for i in range(entries):
        match i % 4:
            case 0:
                ledger.record("market.listing", {"dataset": f"d{i}", "size": i}, i, [who.alice])
            case 1:
                body = {"contract": f"c{i}", "price_fen": 1000 + i, "note": "数据 ✓"}
                ledger.record("market.contract", body, i, [who.bob, who.alice])
            case 2:
                ledger.record(
                    "market.order", {"want": "mobility", "max_fen": 10 * i}, i, [who.carol]
                )
            case _:
                ledger.record(
                    "market.settlement", {"batch": i, "items": [i, i + 1]}, i, [who.operator]
                )
    ledger.close()
    return who
