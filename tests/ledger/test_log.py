"""The append path: what the log accepts, what it refuses, and what it records."""

from __future__ import annotations

import pytest

from ledger import (
    AuthorizationError,
    EncodingError,
    Ledger,
    LedgerError,
    SignatureError,
    Store,
    audit,
    merkle,
    open_checkpoint,
)
from ledger.log import REFUSAL_KIND
from tests.keys import test_identity
from tests.ledger.helpers import AUTHORIZATION, cast, small_ledger


def test_small_ledger_verifies_with_checkpoints(ledger_url: str) -> None:
    small_ledger(ledger_url, entries=24, checkpoint_every=8)
    report = audit(ledger_url)
    assert report.ok, report.summary()
    assert report.entries == 1 + 4 + 24 + 1  # genesis, registrations, entries, close
    assert report.closed and report.state == "closed"
    # sizes 8, 16, 24 by cadence and the final one at 30
    assert report.checkpoints == 4 and report.verified_checkpoints == 4
    assert report.uncovered == 0


def test_root_matches_rfc6962_root_of_stored_leaves(ledger_url: str) -> None:
    small_ledger(ledger_url, entries=10)
    store = Store(ledger_url)
    leaves = store.leaves(0, 10_000)
    size, note = store.checkpoints()[-1]
    vkey = store.get_meta("verifier_key")
    store.close()
    assert vkey is not None
    checkpoint = open_checkpoint(note, vkey)
    assert size == len(leaves) == checkpoint.size
    assert checkpoint.root == merkle.root(leaves)


def test_same_seed_same_bytes_different_seed_different_root(tmp_path) -> None:  # type: ignore[no-untyped-def]
    roots = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        url = f"sqlite:///{tmp_path / name}.db"
        small_ledger(url, entries=12, seed=seed)
        roots.append(audit(url).root)
    assert roots[0] == roots[1]
    assert roots[0] != roots[2]


def test_unauthorized_kind_is_refused_and_the_refusal_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    url = f"sqlite:///{tmp_path / 'l.db'}"
    ledger = Ledger.create(url, who.log, AUTHORIZATION)
    ledger.register(who.bob)
    with pytest.raises(AuthorizationError, match=r"may not sign 'market\.listing'"):
        ledger.record("market.listing", {"dataset": "x"}, 5, [who.bob])
    ledger.close()
    store = Store(url)
    kinds = [row[2] for rows in store.iter_rows() for row in rows]
    store.close()
    assert kinds == ["ledger.genesis", "ledger.identity", REFUSAL_KIND, "ledger.close"]
    assert audit(url).ok


def test_cosigner_role_must_be_authorized_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'l.db'}", who.log, AUTHORIZATION)
    ledger.register(who.bob)
    ledger.register(who.operator)
    with pytest.raises(AuthorizationError, match="operator"):
        ledger.record("market.contract", {"c": 1}, 0, [who.bob, who.operator])


def test_unregistered_signer_and_forged_signature_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'l.db'}", who.log, AUTHORIZATION)
    with pytest.raises(SignatureError, match="unknown signer 'bob'"):
        ledger.record("market.order", {"x": 1}, 0, [who.bob])
    ledger.register(who.bob)
    impostor = test_identity(99, "bob", "buyer")  # same id, another key
    with pytest.raises(SignatureError, match="bad signature by 'bob'"):
        ledger.record("market.order", {"x": 1}, 0, [impostor])
    assert ledger.size == 2  # nothing was appended by the failed attempts


def test_floats_and_non_json_bodies_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'l.db'}", who.log, AUTHORIZATION)
    ledger.register(who.bob)
    with pytest.raises(EncodingError, match=r"body\.price: floats are not allowed"):
        ledger.record("market.order", {"price": 1.5}, 0, [who.bob])
    with pytest.raises(EncodingError, match=r"body\.items\[1\]"):
        ledger.record("market.order", {"items": [1, float("nan")]}, 0, [who.bob])
    with pytest.raises(EncodingError, match="64 bits"):
        ledger.record("market.order", {"n": 2**70}, 0, [who.bob])
    with pytest.raises(EncodingError, match="set is not a JSON value"):
        ledger.record("market.order", {"s": {1, 2}}, 0, [who.bob])


def test_out_of_order_entry_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'l.db'}", who.log, AUTHORIZATION)
    ledger.register(who.bob)
    first = ledger.sign("market.order", {"x": 1}, 0, [who.bob])
    ledger.append(first)
    with pytest.raises(LedgerError, match="seq 2 but the log expects 3"):
        ledger.append(first)


def test_log_kinds_belong_to_the_log(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    with pytest.raises(LedgerError, match="log kinds"):
        Ledger.create(f"sqlite:///{tmp_path / 'l.db'}", who.log, {"buyer": ["ledger.identity"]})


def test_a_ledger_is_never_rewritten(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'l.db'}"
    small_ledger(url, entries=2)
    with pytest.raises(LedgerError, match="already holds a ledger"):
        Ledger.create(url, cast().log, AUTHORIZATION)


def test_inclusion_and_consistency_proofs_from_the_live_tree(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    ledger = Ledger.create(f"sqlite:///{tmp_path / 'l.db'}", who.log, AUTHORIZATION, batch_size=3)
    ledger.register(who.carol)
    leaves = []
    for i in range(20):
        leaves.append(ledger.record("market.order", {"i": i}, i, [who.carol]).leaf)
    size = ledger.size
    root = ledger.root()
    for index in (0, 5, size - 1):
        proof = ledger.tree.inclusion_proof(index)
        store_leaf = ledger.store.leaves(index, index + 1)[0]
        assert merkle.verify_inclusion(merkle.leaf_hash(store_leaf), index, size, proof, root)
    old_root = merkle.root(ledger.store.leaves(0, 7))
    proof = ledger.tree.consistency_proof(7)
    assert merkle.verify_consistency(7, size, old_root, root, proof)


def test_background_verification_persists_nothing_unverified(tmp_path) -> None:  # type: ignore[no-untyped-def]
    who = cast()
    url = f"sqlite:///{tmp_path / 'l.db'}"
    ledger = Ledger.create(url, who.log, AUTHORIZATION, batch_size=4, verify_in_background=True)
    ledger.register(who.bob)
    ledger.flush()  # genesis and bob's registration are verified and committed
    good = [ledger.record("market.order", {"i": i}, i, [who.bob]) for i in range(2)]
    impostor = test_identity(99, "bob", "buyer")  # bob's id, another key
    ledger.append(ledger.sign("market.order", {"i": 2}, 2, [impostor]))  # accepted for now...
    with pytest.raises(SignatureError, match=r"entry 4: bad signature by 'bob'"):
        ledger.flush()  # ...but refused before anything of its batch is written
    with pytest.raises(LedgerError, match="closed"):
        ledger.record("market.order", {"i": 3}, 3, [who.bob])
    store = Store(url)
    assert store.count() == 2 and good[0].seq == 2
    store.close()
    report = audit(url)
    assert report.verified and report.state == "not-closed"  # stopped, not closed


def test_background_verification_gives_the_same_ledger(tmp_path) -> None:  # type: ignore[no-untyped-def]
    roots = []
    for name, background in (("inline", False), ("background", True)):
        who = cast()
        ledger = Ledger.create(
            f"sqlite:///{tmp_path / name}.db",
            who.log,
            AUTHORIZATION,
            batch_size=7,
            verify_in_background=background,
        )
        ledger.register(who.alice)
        ledger.register(who.bob)
        for i in range(50):
            ledger.record("market.contract", {"c": i}, i, [who.bob, who.alice])
        ledger.close()
        roots.append(audit(f"sqlite:///{tmp_path / name}.db").root)
    assert roots[0] == roots[1]
