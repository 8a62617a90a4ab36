"""A forger's toolkit for the tamper tests: rewrite a stored ledger and re-sign what it can.

``forge`` loads every entry, lets the caller edit the list (change a body, drop an entry, swap a
signer), then rebuilds every statement from the first change on (seqs renumbered, back-links
recomputed), re-signs each with the keys the forger holds (a signature it cannot make is left as
it was, which is what a forger without that key can do), recomputes every checkpoint root and
re-signs the notes if it holds the log key. It writes the result back in place.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert

from ledger import Identity, Store, merkle, parse_leaf
from ledger.checkpoint import sign_checkpoint
from ledger.entry import check_json_value, leaf_bytes, signing_input, statement_bytes
from ledger.store import checkpoints_table, entries_table, tiles_table
from ledger.tiles import TileWriter

Keys = Callable[[str], Identity | None]


@dataclass
class Forged:
    seq: int
    time: int
    kind: str
    actor: str
    body: dict[str, Any]
    sigs: list[tuple[str, bytes]] = field(default_factory=list)
    changed: bool = False


def load(db: Path) -> tuple[list[Forged], list[tuple[int, str]]]:
    store = Store(db)
    try:
        entries = []
        for rows in store.iter_rows():
            for row in rows:
                parsed = parse_leaf(row[4])
                entries.append(
                    Forged(
                        parsed.seq, parsed.time, parsed.kind, parsed.actor, parsed.body, parsed.sigs
                    )
                )
        return entries, store.checkpoints()
    finally:
        store.close()


def forge(db: Path, edit: Callable[[list[Forged]], list[Forged]], keys: Keys, origin: str) -> int:
    """Rewrite the ledger at ``db``; returns how many signatures the forger could not make."""
    entries, checkpoints = load(db)
    edited = edit(entries)
    for entry in edited:
        if entry.kind == "ledger.close":
            entry.body = {"entries": len(edited)}
            entry.changed = True
    first = next((i for i, e in enumerate(edited) if e.changed or e.seq != i), len(edited))
    prev = b""
    leaves: list[bytes] = []
    unsigned = 0
    for index, entry in enumerate(edited):
        check_json_value(entry.body)
        statement = statement_bytes(index, entry.time, entry.kind, entry.actor, prev, entry.body)
        if index >= first:
            message = signing_input(origin.encode(), statement)
            sigs = []
            for signer, old in entry.sigs:
                key = keys(signer)
                if key is None:
                    unsigned += 1
                    sigs.append((signer, old))
                else:
                    sigs.append((signer, key.sign(message)))
            entry.sigs = sigs
        leaf = leaf_bytes(statement, entry.sigs)
        leaves.append(leaf)
        prev = merkle.leaf_hash(leaf)
    log = keys(origin)
    notes: list[tuple[int, str]] = []
    sizes = sorted({size for size, _note in checkpoints if size < len(leaves)} | {len(leaves)})
    old_notes = dict(checkpoints)
    for size in sizes:
        if log is not None:
            notes.append((size, sign_checkpoint(origin, size, merkle.root(leaves[:size]), log)))
        elif size in old_notes:
            notes.append((size, old_notes[size]))
    store = Store(db, create=True)
    try:
        with store.engine.begin() as conn:
            conn.execute(delete(entries_table))
            conn.execute(
                insert(entries_table),
                [
                    {"seq": i, "time": e.time, "kind": e.kind, "actor": e.actor, "leaf": leaf}
                    for i, (e, leaf) in enumerate(zip(edited, leaves, strict=True))
                ],
            )
            conn.execute(delete(checkpoints_table))
            if notes:
                conn.execute(insert(checkpoints_table), [{"size": s, "note": n} for s, n in notes])
            # A forger who rewrites the entries rewrites the stored tile rows to match them.
            tiles = TileWriter()
            tiles.extend(merkle.leaf_hash(leaf) for leaf in leaves)
            conn.execute(delete(tiles_table))
            if tiles.full:
                conn.execute(
                    insert(tiles_table),
                    [{"tree_level": k, "idx": i, "hashes": h} for k, i, h in tiles.full],
                )
    finally:
        store.close()
    return unsigned


def seed_derived_key(seed: int, identity_id: str, role: str) -> Identity:
    """What a holder of the run directory could derive: HKDF of the seed stored in it (the
    derivation dxsim used before keys came from a key secret)."""
    ikm = seed.to_bytes(max(1, (seed.bit_length() + 7) // 8), "big")
    prk = hmac.new(b"dxsim/identity-salt/v1", ikm, hashlib.sha256).digest()
    info = b"dxsim/identity/" + identity_id.encode()
    okm = hmac.new(prk, info + b"\x01", hashlib.sha256).digest()
    return Identity(identity_id, role, Ed25519PrivateKey.from_private_bytes(okm))
