"""Audit: re-verify a whole ledger from its rows and report the first bad entry and why.

Checks, for every entry in seq order: the row's index columns agree with its leaf; seq continuity;
the leaf parses (no floats, canonical signature list); the actor signed first and every signer was
registered before the entry; every Ed25519 signature; every signer's role is authorized for the kind
(by the table in the genesis entry); the back-link to the previous leaf hash; and the Merkle root at
every checkpoint size against that signed checkpoint. A checkpoint larger than the log means rows
were removed from its end.

Ed25519 verification dominates and ``cryptography`` releases the GIL while verifying, so chunks of
rows are checked on a thread pool while the main thread reads the next chunk and folds the leaf
hashes into the Merkle tree in order.
"""

from __future__ import annotations

import base64
import json
import time as clock
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ledger.checkpoint import Checkpoint, open_checkpoint, parse_verifier_key
from ledger.entry import parse_leaf, signing_input
from ledger.errors import CheckpointError, EncodingError, LedgerError, StoreError
from ledger.identity import PublicIdentity
from ledger.log import GENESIS_KIND, IDENTITY_KIND, LOG_ROLE, AuthorizationTable
from ledger.merkle import MerkleTree, leaf_hash
from ledger.merkle import root as merkle_root
from ledger.store import EntryRow, Store, resolve_url

__all__ = ["AuditReport", "BodyCheck", "Finding", "KeyMismatchError", "audit"]

#: A domain check of one body: returns None when fine, else the reason it is not.
BodyCheck = Callable[[str, dict[str, Any]], str | None]


class KeyMismatchError(LedgerError):
    """The verifier key given by the user is not this log's key."""


@dataclass(frozen=True)
class Finding:
    """The first bad entry: where, and why."""

    seq: int | None
    kind: str | None
    actor: str | None
    reason: str


@dataclass(frozen=True)
class AuditReport:
    """The outcome of an audit. ``ok`` is true only when nothing at all was wrong."""

    entries: int
    root: bytes
    checkpoints: int
    verified_checkpoints: int
    uncovered: int
    origin: str
    verifier_key: str
    seconds: float
    first_bad: Finding | None = None
    roles: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    def summary(self) -> str:
        """The one-line summary of ``dxsim verify`` (fixed format)."""
        if self.first_bad is None:
            return (
                f"OK  {self.entries} entries  root {self.root.hex()}  "
                f"{self.checkpoints} checkpoints"
            )
        bad = self.first_bad
        where = "ledger" if bad.seq is None else f"seq {bad.seq}"
        return f"BAD  {where}  kind {bad.kind}  actor {bad.actor}: {bad.reason}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["root"] = self.root.hex()
        return data


@dataclass
class _Context:
    """What the workers read: the log's public facts, filled in by the main thread in seq order."""

    origin: bytes
    table: AuthorizationTable
    registered: dict[str, tuple[int, PublicIdentity]]
    body_check: BodyCheck | None


class _Bad(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.reason)
        self.finding = finding


@dataclass
class _ChunkResult:
    hashes: list[bytes]
    prevs: list[bytes]
    first_bad: Finding | None


def _check_row(row: EntryRow, expected: int, ctx: _Context) -> tuple[bytes, bytes]:
    """Check one row completely except the back-link; return (leaf hash, claimed prev)."""
    seq, row_time, row_kind, row_actor, leaf = row
    if seq != expected:
        reason = f"seq gap: expected {expected}, found {seq}" if seq > expected else "seq repeats"
        raise _Bad(Finding(expected, row_kind, row_actor, reason))
    try:
        parsed = parse_leaf(leaf)
    except EncodingError as exc:
        raise _Bad(Finding(seq, row_kind, row_actor, str(exc))) from exc
    kind, actor = parsed.kind, parsed.actor
    if (parsed.seq, parsed.time, kind, actor) != (seq, row_time, row_kind, row_actor):
        raise _Bad(Finding(seq, kind, actor, "row columns differ from the signed entry"))
    sigs = parsed.sigs
    if not sigs or sigs[0][0] != actor:
        raise _Bad(Finding(seq, kind, actor, "bad signature: the actor did not sign first"))
    message = signing_input(ctx.origin, parsed.statement)
    seen: set[str] = set()
    for signer_id, sig in sigs:
        known = ctx.registered.get(signer_id)
        if known is None or known[0] >= seq or signer_id in seen:
            why = "signed twice" if signer_id in seen else "is not a registered identity"
            raise _Bad(Finding(seq, kind, actor, f"bad signature: signer {signer_id!r} {why}"))
        seen.add(signer_id)
        identity = known[1]
        if len(sig) != 64 or not identity.verify(sig, message):
            raise _Bad(Finding(seq, kind, actor, f"bad signature by {signer_id!r}"))
        if not ctx.table.allows(identity.role, kind):
            reason = f"not authorized: role {identity.role!r} may not sign {kind!r}"
            raise _Bad(Finding(seq, kind, actor, reason))
    if kind == GENESIS_KIND and seq != 0:
        raise _Bad(Finding(seq, kind, actor, "a second genesis entry"))
    if ctx.body_check is not None and not kind.startswith("ledger."):
        problem = ctx.body_check(kind, parsed.body)
        if problem is not None:
            raise _Bad(Finding(seq, kind, actor, f"body does not parse: {problem}"))
    return leaf_hash(leaf), parsed.prev


def _check_chunk(rows: list[EntryRow], start: int, ctx: _Context) -> _ChunkResult:
    hashes: list[bytes] = []
    prevs: list[bytes] = []
    expected = start
    for row in rows:
        try:
            digest, prev = _check_row(row, expected, ctx)
        except _Bad as bad:
            return _ChunkResult(hashes, prevs, bad.finding)
        hashes.append(digest)
        prevs.append(prev)
        expected += 1
    return _ChunkResult(hashes, prevs, None)


def _read_genesis(store: Store) -> tuple[str, PublicIdentity, AuthorizationTable]:
    """The log's origin, key and authorization table, from the genesis entry.

    Raises:
        StoreError: the ledger has no entries at all.
        _Bad: seq 0 is missing or is not a well-formed genesis entry (a finding at seq 0).
    """
    row = store.entry_row(0)
    if row is None:
        if store.max_seq() is None:
            raise StoreError("the ledger has no entries")
        raise _Bad(Finding(0, None, None, "seq gap: the genesis entry (seq 0) is missing"))
    try:
        parsed = parse_leaf(row[4])
        if parsed.kind != GENESIS_KIND or parsed.seq != 0:
            raise LedgerError("seq 0 is not a genesis entry")
        body = parsed.body
        log = PublicIdentity(
            body["log"]["id"], LOG_ROLE, base64.b64decode(body["log"]["public_key"], validate=True)
        )
        table = AuthorizationTable.from_mapping(
            {role: kinds for role, kinds in body["authorization"].items() if role != LOG_ROLE}
        )
        origin = str(body["origin"])
    except (EncodingError, KeyError, TypeError, ValueError, AttributeError, LedgerError) as exc:
        reason = f"body does not parse: not a valid genesis entry ({exc})"
        raise _Bad(Finding(0, row[2], row[3], reason)) from exc
    return origin, log, table


def _registration(row: EntryRow) -> tuple[str, PublicIdentity] | None:
    """The identity a ``ledger.identity`` row announces, or None if it does not parse.

    A malformed or forged registration is reported by the worker that checks its row.
    """
    try:
        body = json.loads(row[4])["entry"]["body"]
        public = PublicIdentity(
            body["id"], body["role"], base64.b64decode(body["public_key"], validate=True)
        )
    except (ValueError, KeyError, TypeError, LedgerError):
        return None
    return public.id, public


def audit(
    target: str | Path | Store,
    *,
    verifier_key: str | None = None,
    threads: int = 2,
    chunk: int = 2048,
    body_check: BodyCheck | None = None,
    witness: Checkpoint | None = None,
) -> AuditReport:
    """Verify the ledger at ``target`` completely.

    Args:
        target: a run directory, ledger file, SQLAlchemy URL or open :class:`Store`.
        verifier_key: the log's C2SP verifier key, to pin the log key; without it the audit
            trusts the key in the genesis entry and proves the ledger consistent with itself.
        threads: worker threads for signature checks (1 = check inline).
        chunk: rows per unit of work.
        body_check: an optional domain check of each non-ledger body.
        witness: a checkpoint kept outside the ledger (already opened with the log's key): the
            ledger must reproduce its root at its size.

    Raises:
        StoreError: the target is not a readable dxsim ledger.
        KeyMismatchError, CheckpointError: the verifier key is malformed or not this log's.
    """
    started = clock.perf_counter()
    store = target if isinstance(target, Store) else Store(resolve_url(target))
    try:
        return _audit(store, verifier_key, threads, chunk, body_check, witness, started)
    finally:
        if not isinstance(target, Store):
            store.close()


def _audit(
    store: Store,
    verifier_key: str | None,
    threads: int,
    chunk: int,
    body_check: BodyCheck | None,
    witness: Checkpoint | None,
    started: float,
) -> AuditReport:
    try:
        origin, log, table = _read_genesis(store)
    except _Bad as bad:
        return AuditReport(
            entries=0,
            root=merkle_root([]),
            checkpoints=len(store.checkpoints()),
            verified_checkpoints=0,
            uncovered=0,
            origin="",
            verifier_key="",
            seconds=clock.perf_counter() - started,
            first_bad=bad.finding,
        )
    if verifier_key is not None:
        name, _hash, public_key = parse_verifier_key(verifier_key)
        if name != log.id or public_key != log.public_key:
            raise KeyMismatchError(f"verifier key {name!r} is not the key of this log ({log.id})")
    log_vkey = log.verifier_key
    ctx = _Context(origin.encode(), table, {log.id: (-1, log)}, body_check)
    roles: dict[str, int] = {}
    checkpoints = store.checkpoints()
    pending_checkpoints: deque[tuple[int, bytes | None, str]] = deque()
    for size, note in checkpoints:
        try:
            opened = open_checkpoint(note, log_vkey)
        except CheckpointError as exc:
            pending_checkpoints.append((size, None, f"checkpoint at size {size} is invalid: {exc}"))
            continue
        if opened.size != size or opened.origin != origin:
            reason = f"checkpoint at size {size} does not match its row"
            pending_checkpoints.append((size, None, reason))
            continue
        pending_checkpoints.append((size, opened.root, ""))
    if witness is not None:
        if witness.origin != origin:
            raise KeyMismatchError(f"the checkpoint is for log {witness.origin!r}, not {origin!r}")
        pending_checkpoints.append((witness.size, witness.root, ""))
        pending_checkpoints = deque(sorted(pending_checkpoints, key=lambda item: item[0]))
    tree = MerkleTree(leaf_hashes=lambda a, b: [])  # the audit never asks for proofs
    verified_checkpoints = 0
    last_hash = b""
    last_row: EntryRow | None = None

    def fold(result: _ChunkResult, rows: list[EntryRow]) -> Finding | None:
        """Fold checked rows into the tree in order; check back-links and checkpoints."""
        nonlocal last_hash, last_row, verified_checkpoints
        for row, digest, prev in zip(rows, result.hashes, result.prevs, strict=False):
            seq = tree.size
            if prev != last_hash:
                if last_row is None:
                    return Finding(seq, row[2], row[3], "bad back-link in the genesis entry")
                reason = f"does not match the back-link signed in entry {seq}: altered"
                return Finding(seq - 1, last_row[2], last_row[3], reason)
            tree.append_leaf_hash(digest)
            last_hash, last_row = digest, row
            while pending_checkpoints and pending_checkpoints[0][0] <= tree.size:
                size, expected_root, problem = pending_checkpoints.popleft()
                if not problem and tree.root() != expected_root:
                    problem = f"root differs from checkpoint {size}"
                if problem:
                    return Finding(size - 1, row[2], row[3], problem)
                verified_checkpoints += 1
        return result.first_bad

    def chunks() -> Iterator[tuple[list[EntryRow], int]]:
        start = 0
        for rows in store.iter_rows(chunk=chunk):
            for row in rows:
                if row[2] == IDENTITY_KIND:
                    announced = _registration(row)
                    if announced is not None and announced[0] not in ctx.registered:
                        ctx.registered[announced[0]] = (row[0], announced[1])
            yield rows, start
            start += len(rows)

    first_bad: Finding | None = None
    if threads <= 1:
        for rows, start in chunks():
            first_bad = fold(_check_chunk(rows, start, ctx), rows)
            if first_bad is not None:
                break
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            inflight: deque[tuple[Future[_ChunkResult], list[EntryRow]]] = deque()
            source = chunks()
            exhausted = False
            while not exhausted or inflight:
                while not exhausted and len(inflight) < threads * 2:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    rows, start = item
                    inflight.append((pool.submit(_check_chunk, rows, start, ctx), rows))
                if not inflight:
                    break
                future, rows = inflight.popleft()
                first_bad = fold(future.result(), rows)
                if first_bad is not None:
                    for pending, _ in inflight:
                        pending.cancel()
                    break
    if first_bad is None and pending_checkpoints:
        size = pending_checkpoints[0][0]
        first_bad = Finding(
            tree.size,
            None,
            None,
            f"log truncated: checkpoint {size} covers {size} entries but {tree.size} are stored",
        )
    for _id, (_seq, identity) in ctx.registered.items():
        roles[identity.role] = roles.get(identity.role, 0) + 1
    covered = checkpoints[-1][0] if checkpoints else 0
    return AuditReport(
        entries=tree.size,
        root=tree.root(),
        checkpoints=len(checkpoints),
        verified_checkpoints=verified_checkpoints,
        uncovered=max(0, tree.size - covered),
        origin=origin,
        verifier_key=log_vkey,
        seconds=clock.perf_counter() - started,
        first_bad=first_bad,
        roles=roles,
    )
