"""Ledger commands of the ``dxsim`` CLI: verify, prove, consistency, checkpoint.

They read the ledger alone (a run directory, following its manifest to a database when the run
wrote there; a ``ledger.db`` file; or an SQLAlchemy URL), open it read-only and never change it,
so anyone holding a run directory can re-check it.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ledger import AuditReport, Checkpoint, Store, audit, merkle
from ledger.audit import log_verifier_key
from ledger.checkpoint import open_checkpoint
from ledger.errors import CheckpointError, LedgerError
from ledger.tile_export import export_tiles
from ledger.tiles import TileHashes
from marketplace.authorship import market_rules
from scenarios.cli_errors import EXIT_FAILED, EXIT_INCOMPLETE, UserError, one_line_errors
from scenarios.rundir import RunManifest, ledger_location, read_manifest

__all__ = ["open_target", "read_note", "register", "verdict"]

Target = Annotated[str, typer.Argument(help="Run directory, ledger .db file or SQLAlchemy URL.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def open_target(target: str) -> tuple[Store, RunManifest | None]:
    """The ledger of ``target``, read-only, and the run manifest when it is a run directory."""
    manifest = read_manifest(Path(target)) if Path(target).is_dir() else None
    return Store(ledger_location(target)), manifest


def read_note(path: Path) -> str:
    """A checkpoint note file as text: it must be UTF-8 (a note is a C2SP signed note)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such checkpoint file") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a checkpoint note (byte {exc.start} is not UTF-8)") from None


def verdict(report: AuditReport, manifest: RunManifest | None) -> tuple[str, int, str]:
    """The line, exit code and outcome name of a verification of a ledger (and its run)."""
    line = report.summary()
    if not report.verified:
        return line, EXIT_FAILED, "bad"
    if manifest is not None and manifest.status != "complete":
        why = f": {manifest.error}" if manifest.error else ""
        run = f"run {manifest.status}{why}"
        if report.closed:
            return (
                f"INCOMPLETE RUN  {run}  (the ledger itself verifies: {line})",
                EXIT_INCOMPLETE,
                ("run-incomplete"),
            )
        return f"{line}  [{run}]", EXIT_INCOMPLETE, "not-closed"
    if not report.closed:
        return line, EXIT_INCOMPLETE, "not-closed"
    return line, 0, "ok"


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
    """Verify every row, signature, authorization, checkpoint and rule of record.

    Names the first bad entry. Exit 0 ok, 1 does not verify, 2 bad input, 4 verifies but the
    log is not closed (or the run directory is incomplete).
    """
    store, manifest = open_target(target)
    try:
        witness = _witness(store, checkpoint, key)
        report = audit(
            store, verifier_key=key, threads=threads, witness=witness, domain=market_rules
        )
    finally:
        store.close()
    line, code, outcome = verdict(report, manifest)
    if as_json:
        data = report.to_json()
        data["outcome"] = outcome
        data["ok"] = code == 0  # the log and, for a run directory, the run are complete
        data["run"] = None if manifest is None else manifest.model_dump()
        sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    else:
        sys.stdout.write(line + "\n")
    if code:
        raise typer.Exit(code)


def _witness(store: Store, checkpoint: Path | None, key: str | None) -> Checkpoint | None:
    if checkpoint is None:
        return None
    note = read_note(checkpoint)
    try:
        return open_checkpoint(note, key or log_verifier_key(store))
    except CheckpointError as exc:
        raise UserError(f"{checkpoint}: {exc}") from exc


def _tree(store: Store) -> TileHashes:
    """The stored tree: proofs read O(log n) stored hashes (the ledger's tile rows)."""
    try:
        return store.tile_hashes()
    except ValueError as exc:
        raise UserError(f"{exc}; dxsim verify names the first bad entry") from exc


def _proof_failed(suspects: str) -> NoReturn:
    """A proof that does not reach its signed root: say what may have been altered, exit 1."""
    sys.stderr.write(
        f"dxsim: the proof does not reach the signed root: {suspects} were altered; "
        "dxsim verify names the first bad entry\n"
    )
    raise typer.Exit(EXIT_FAILED)


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
    store, _manifest = open_target(target)
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
        if row is None:
            raise UserError(f"there is no entry {seq}")
        proof = tree.inclusion_proof(seq, size)
        leaf = merkle.leaf_hash(row[4])
        note = checkpoints.get(size)
        if note is not None:  # prove against the signed root, not one we just computed
            root = open_checkpoint(note, log_verifier_key(store)).root
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
        _proof_failed("the entry, the stored Merkle tile rows or the checkpoint")


@one_line_errors
def consistency(
    target: Target,
    old: Annotated[int, typer.Argument(help="Size of the older checkpoint.", min=1)],
    new: Annotated[int, typer.Argument(help="Size of the newer checkpoint.", min=1)],
    as_json: AsJson = False,
) -> None:
    """Print an RFC 9162 consistency proof between two stored checkpoints and check it."""
    store, _manifest = open_target(target)
    try:
        checkpoints = dict(store.checkpoints())
        for size in (old, new):
            if size not in checkpoints:
                known = ", ".join(str(s) for s in sorted(checkpoints)) or "none"
                raise UserError(f"no checkpoint of size {size} (stored: {known})")
        if old > new:
            raise UserError("the old size must not exceed the new size")
        vkey = log_verifier_key(store)
        old_root = open_checkpoint(checkpoints[old], vkey).root
        new_root = open_checkpoint(checkpoints[new], vkey).root
        tree = _tree(store)
        if tree.size < new:
            raise UserError(f"checkpoint {new} covers more entries than the {tree.size} stored")
        proof = tree.consistency_proof(old, new)
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
        _proof_failed("the stored Merkle tile rows or the checkpoints")


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
    """Print the latest signed checkpoint note exactly as stored (C2SP signed note).

    Keep one outside the run directory (``dxsim checkpoint RUN > FILE``): ``dxsim verify RUN
    --checkpoint FILE`` then catches a log rewritten later, even by whoever holds its key.
    """
    store, _manifest = open_target(target)
    try:
        if verifier_key:
            sys.stdout.write(_checked_verifier_key(store) + "\n")
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


def _checked_verifier_key(store: Store) -> str:
    """The genesis key, refusing a ledger whose stored key was replaced."""
    key = log_verifier_key(store)
    stored = store.get_meta("verifier_key")
    if stored != key:
        sys.stderr.write(
            "dxsim: error: the stored verifier key is not the key of the log's signed genesis "
            "entry: the ledger was tampered with\n"
        )
        raise typer.Exit(EXIT_FAILED)
    return key


@one_line_errors
def tiles(
    target: Target,
    out: Annotated[Path, typer.Option(help="New directory for the static log.")],
) -> None:
    """Export the ledger as a static C2SP tlog-tiles log (checkpoint, tiles, entry bundles)
    at its latest signed checkpoint, for any tlog-tiles client to verify."""
    if out.exists():
        raise UserError(f"{out} exists; the export writes a new directory")
    store, _manifest = open_target(target)
    try:
        done = export_tiles(store, out, log_verifier_key(store))
    except LedgerError as exc:
        raise UserError(str(exc)) from exc
    finally:
        store.close()
    sys.stdout.write(
        f"OK  {done.size} entries  root {done.root.hex()}  {done.tiles} tiles  "
        f"{done.bundles} entry bundles  -> {out}\n"
    )


def register(app: typer.Typer) -> None:
    """Add the ledger commands to the ``dxsim`` app."""
    app.command()(verify)
    app.command()(prove)
    app.command()(consistency)
    app.command()(checkpoint)
    app.command()(tiles)
