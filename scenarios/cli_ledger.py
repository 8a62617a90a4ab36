"""Ledger commands of the ``dxsim`` CLI: verify, prove, consistency, checkpoint.

They read the ledger alone (a run directory, a ``ledger.db`` file or an SQLAlchemy URL), so anyone
holding a run directory can re-check it.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger import merkle
from ledger.audit import audit
from ledger.checkpoint import open_checkpoint
from ledger.errors import CheckpointError, StoreError
from ledger.store import Store, resolve_url
from marketplace.entries import BODY_MODELS, check_body
from scenarios.cli_errors import EXIT_FAILED, UserError, one_line_errors

__all__ = ["register"]

Target = Annotated[str, typer.Argument(help="Run directory, ledger .db file or SQLAlchemy URL.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def market_bodies(kind: str, body: dict[str, Any]) -> str | None:
    """Check bodies of the exchange's kinds against their models; other logs' kinds pass
    (the ledger is generic: their authorization was still checked by the audit)."""
    return check_body(kind, body) if kind in BODY_MODELS else None


def _open(target: str) -> Store:
    return Store(resolve_url(target))


def _verifier_key(store: Store) -> str:
    key = store.get_meta("verifier_key")
    if key is None:
        raise StoreError("the ledger has no verifier key recorded")
    return key


@one_line_errors
def verify(
    target: Target,
    key: Annotated[
        str | None, typer.Option("--key", help="Pin the log's C2SP verifier key.")
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Also check a checkpoint note kept elsewhere."),
    ] = None,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Verifier threads.")] = 2,
    as_json: AsJson = False,
) -> None:
    """Verify every entry, signature, authorization and checkpoint; name the first bad entry."""
    witness = None
    if checkpoint is not None:
        note = checkpoint.read_text(encoding="utf-8")
        store = _open(target)
        try:
            vkey = key or _verifier_key(store)
        finally:
            store.close()
        try:
            witness = open_checkpoint(note, vkey)
        except CheckpointError as exc:
            raise UserError(f"{checkpoint}: {exc}") from exc
    report = audit(
        target, verifier_key=key, threads=threads, witness=witness, body_check=market_bodies
    )
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), sort_keys=True) + "\n")
    else:
        sys.stdout.write(report.summary() + "\n")
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


def _tree(store: Store) -> merkle.MerkleTree:
    hashes = (merkle.leaf_hash(row[4]) for rows in store.iter_rows() for row in rows)
    return merkle.MerkleTree.from_leaf_hashes(hashes, leaf_hashes=store.leaf_hashes)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@one_line_errors
def prove(
    target: Target,
    seq: Annotated[int, typer.Argument(help="Seq of the entry to prove.", min=0)],
    size: Annotated[
        int | None, typer.Option(help="Tree size (default: the latest checkpoint).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Print an RFC 9162 inclusion proof of entry SEQ and check it against a signed checkpoint."""
    store = _open(target)
    try:
        checkpoints = dict(store.checkpoints())
        tree = _tree(store)
        if size is None:
            covering = [s for s in checkpoints if s > seq]
            if not covering:
                raise UserError(f"no checkpoint covers seq {seq}; pass --size")
            size = max(covering)
        if not 0 <= seq < size <= tree.size:
            raise UserError(f"seq {seq} and size {size} must satisfy seq < size <= {tree.size}")
        row = store.entry_row(seq)
        assert row is not None
        proof = tree.inclusion_proof(seq, size)
        leaf = merkle.leaf_hash(row[4])
        note = checkpoints.get(size)
        if note is not None:  # prove against the signed root, not one we just computed
            root = open_checkpoint(note, _verifier_key(store)).root
        elif size == tree.size:
            root = tree.root()
        else:
            raise UserError(f"no checkpoint of size {size}; use a checkpoint size or {tree.size}")
        ok = merkle.verify_inclusion(leaf, seq, size, proof, root)
    finally:
        store.close()
    result = {
        "seq": seq,
        "size": size,
        "kind": row[2],
        "actor": row[3],
        "leaf_hash": _b64(leaf),
        "proof": [_b64(p) for p in proof],
        "root": _b64(root),
        "checkpoint": note,
        "verified": ok,
    }
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    else:
        sys.stdout.write(
            f"{'OK' if ok else 'BAD'}  seq {seq} ({row[2]} by {row[3]}) in tree of {size}  "
            f"leaf {leaf.hex()}  {len(proof)} proof hashes\n"
        )
        for element in proof:
            sys.stdout.write(f"  {element.hex()}\n")
    if not ok:
        raise typer.Exit(EXIT_FAILED)


@one_line_errors
def consistency(
    target: Target,
    old: Annotated[int, typer.Argument(help="Size of the older checkpoint.", min=1)],
    new: Annotated[int, typer.Argument(help="Size of the newer checkpoint.", min=1)],
    as_json: AsJson = False,
) -> None:
    """Print an RFC 9162 consistency proof between two stored checkpoints and check it."""
    store = _open(target)
    try:
        checkpoints = dict(store.checkpoints())
        for size in (old, new):
            if size not in checkpoints:
                known = ", ".join(str(s) for s in sorted(checkpoints)) or "none"
                raise UserError(f"no checkpoint of size {size} (stored: {known})")
        if old > new:
            raise UserError("the old size must not exceed the new size")
        vkey = _verifier_key(store)
        old_root = open_checkpoint(checkpoints[old], vkey).root
        new_root = open_checkpoint(checkpoints[new], vkey).root
        proof = _tree(store).consistency_proof(old, new)
    finally:
        store.close()
    ok = merkle.verify_consistency(old, new, old_root, new_root, proof)
    result = {"old": old, "new": new, "proof": [_b64(p) for p in proof], "verified": ok}
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    else:
        sys.stdout.write(f"{'OK' if ok else 'BAD'}  {old} -> {new}  {len(proof)} proof hashes\n")
        for element in proof:
            sys.stdout.write(f"  {element.hex()}\n")
    if not ok:
        raise typer.Exit(EXIT_FAILED)


@one_line_errors
def checkpoint(
    target: Target,
    all_notes: Annotated[
        bool, typer.Option("--all", help="Every checkpoint, oldest first.")
    ] = False,
    verifier_key: Annotated[
        bool, typer.Option("--verifier-key", help="Print the log's verifier key line instead.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Print the latest signed checkpoint note exactly as stored (C2SP signed note)."""
    store = _open(target)
    try:
        if verifier_key:
            sys.stdout.write(_verifier_key(store) + "\n")
            return
        notes = [note for _size, note in store.checkpoints()]
    finally:
        store.close()
    if not notes:
        raise UserError("the ledger has no checkpoint yet")
    chosen = notes if all_notes else notes[-1:]
    if as_json:
        sys.stdout.write(json.dumps(chosen if all_notes else chosen[0]) + "\n")
    else:
        # Notes end in exactly one newline; print() would add a second, which Go's verifier rejects.
        sys.stdout.write("".join(chosen))


def register(app: typer.Typer) -> None:
    """Add the ledger commands to the ``dxsim`` app."""
    app.command()(verify)
    app.command()(prove)
    app.command()(consistency)
    app.command()(checkpoint)
