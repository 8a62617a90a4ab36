"""Audit: re-verify a whole ledger from its rows and report the first bad entry and why.

Every row of every table is accounted for. Per entry, in seq order (see :mod:`ledger.audit_rows`
for what is checked row by row): seq continuity from 0 with no extra rows, canonical parsing,
every signature by an identity registered before it, every signer's role authorized for the kind
(by the table in the signed genesis entry), the back-link to the previous leaf hash, and the
Merkle root at every checkpoint size against that signed checkpoint. Then the log as a whole:
a checkpoint at every multiple of the cadence the genesis states (none may be removed), no
checkpoint past the end (rows cut from its end), the identities table equal to the signed
registrations, the stored metadata (origin, verifier key) equal to the genesis, and the domain's
own rules (who must sign what), fed every entry in order.

The closing state is part of the verdict: a log is **closed** when its last entry is the
``ledger.close`` entry the writer appends, and a final checkpoint covers it. A log that verifies
but is not closed (a crash, or a log cut back to one of its checkpoints) is reported as such, with
how many entries lie past its last checkpoint: a script can tell it from a good log.

Ed25519 verification dominates and ``cryptography`` releases the GIL while verifying, so chunks of
rows are checked on a thread pool while the main thread reads the next chunk and folds the leaf
hashes into the Merkle tree in order.
"""

from __future__ import annotations

import base64
import hashlib
import time as clock
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ledger.audit_rows import (
    Checked,
    ChunkResult,
    Context,
    Finding,
    RowError,
    check_chunk,
    registration,
)
from ledger.checkpoint import Checkpoint, open_checkpoint, parse_verifier_key
from ledger.digest import StatementDigest
from ledger.entry import parse_leaf
from ledger.errors import EncodingError, LedgerError, StoreError
from ledger.identity import PublicIdentity
from ledger.kinds import CLOSE_KIND, GENESIS_KIND, IDENTITY_KIND, LOG_ROLE
from ledger.log import AuthorizationTable
from ledger.merkle import MerkleTree
from ledger.merkle import root as merkle_root
from ledger.store import EntryRow, Store
from ledger.tiles import TILE_WIDTH, TileWriter

__all__ = [
    "AuditReport",
    "Checked",
    "DomainCheck",
    "DomainFactory",
    "Finding",
    "LogState",
    "VerifiedAtAppend",
    "audit",
    "log_verifier_key",
]

LogState = Literal["closed", "not-closed", "bad"]
#: The metadata rows a dxsim ledger has, no more.
_META_KEYS = frozenset({"schema_version", "origin", "verifier_key"})


class DomainCheck(Protocol):
    """The domain's rules over the whole log (who must sign what, what must exist before).

    ``feed`` is called once per entry in seq order, the log's own entries included, after the
    entry passed every ledger check; it returns None, or why the entry breaks the domain's rules.
    """

    def feed(
        self,
        seq: int,
        time: int,
        kind: str,
        actor: str,
        body: dict[str, Any],
        signers: tuple[str, ...],
    ) -> str | None: ...


#: Given the genesis authorization table (role -> kinds), a fresh checker for this log, or None
#: when the log is not one of the domain's (a generic ledger).
DomainFactory = Callable[[Mapping[str, list[str]]], DomainCheck | None]


@dataclass(frozen=True)
class VerifiedAtAppend:
    """What a writer vouches for: it verified every signature of its first ``size`` entries,
    whose Merkle root is ``root``, before it stored them (:meth:`ledger.Ledger.append` does,
    for every entry, before anything is persisted).

    A run's own end-of-run audit passes this so each signature is verified once, not twice:
    the audit re-reads every stored leaf and re-hashes it, and RFC 6962 leaf hashes bind the
    leaf bytes, signatures included, so stored leaves that hash to ``root`` are exactly the
    ones whose signatures were verified. Every other check is made as usual. If the stored
    leaves do not reach ``root`` (altered, cut, or not this log), the audit starts again with
    every signature verified, and names the first bad entry the usual way.
    """

    size: int
    root: bytes


@dataclass(frozen=True)
class AuditReport:
    """The outcome of an audit. ``ok`` only when nothing was wrong and the log is closed."""

    entries: int
    root: bytes
    checkpoints: int
    verified_checkpoints: int
    uncovered: int  # entries past the last checkpoint
    origin: str
    verifier_key: str
    seconds: float
    first_bad: Finding | None = None
    roles: dict[str, int] = field(default_factory=dict)
    closed: bool = False
    statements: str = ""

    @property
    def verified(self) -> bool:
        """Every stored entry verifies (the log may still be unclosed)."""
        return self.first_bad is None

    @property
    def ok(self) -> bool:
        return self.first_bad is None and self.closed

    @property
    def state(self) -> LogState:
        if self.first_bad is not None:
            return "bad"
        return "closed" if self.closed else "not-closed"

    def summary(self) -> str:
        """The one-line summary of ``dxsim verify`` (fixed format, see specs/ledger-api.md)."""
        head = f"{self.entries} entries  root {self.root.hex()}  {self.checkpoints} checkpoints"
        if self.first_bad is not None:
            bad = self.first_bad
            where = "ledger" if bad.seq is None else f"seq {bad.seq}"
            return f"BAD  {where}  kind {bad.kind}  actor {bad.actor}: {bad.reason}"
        if not self.closed:
            return (
                f"NOT CLOSED  {head}: {self.uncovered} entries past the last checkpoint; the "
                "log has no close entry (its writer stopped, or it was cut back)"
            )
        return f"OK  {head}  statements {self.statements}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            ok=self.ok,
            verified=self.verified,
            state=self.state,
            root=self.root.hex(),
            entries_past_last_checkpoint=self.uncovered,
        )
        return data


@dataclass
class _Genesis:
    origin: str
    log: PublicIdentity
    table: AuthorizationTable
    authorization: dict[str, list[str]]
    checkpoint_every: int


def _read_genesis(store: Store) -> _Genesis:
    """The log's origin, key, authorization table and checkpoint cadence, from seq 0.

    Raises:
        RowError: seq 0 is missing or is not a well-formed genesis entry (a finding at seq 0).
    """
    row = store.entry_row(0)
    if row is None:
        if store.max_seq() is None:
            raise RowError(Finding(0, None, None, "the ledger has no entries, not even a genesis"))
        raise RowError(Finding(0, None, None, "seq gap: the genesis entry (seq 0) is missing"))
    try:
        parsed = parse_leaf(row[4])
        if parsed.kind != GENESIS_KIND or parsed.seq != 0:
            raise LedgerError("seq 0 is not a genesis entry")
        body = parsed.body
        if set(body) != {"authorization", "checkpoint_every", "log", "origin"}:
            raise LedgerError(f"fields {sorted(body)}")
        log = PublicIdentity(
            body["log"]["id"], LOG_ROLE, base64.b64decode(body["log"]["public_key"], validate=True)
        )
        authorization = {str(role): list(kinds) for role, kinds in body["authorization"].items()}
        table = AuthorizationTable.from_mapping(
            {role: kinds for role, kinds in authorization.items() if role != LOG_ROLE}
        )
        every = body["checkpoint_every"]
        if type(every) is not int or every < 1:
            raise LedgerError("checkpoint_every must be a positive integer")
        origin = body["origin"]
        if not isinstance(origin, str) or origin != log.id:
            raise LedgerError("the origin must be the log's id")
    except (EncodingError, KeyError, TypeError, ValueError, AttributeError, LedgerError) as exc:
        reason = f"body does not parse: not a valid genesis entry ({exc})"
        raise RowError(Finding(0, row[2], row[3], reason)) from exc
    return _Genesis(origin, log, table, authorization, every)


def log_verifier_key(store: Store) -> str:
    """The log's verifier key as its signed genesis entry states it (not the stored metadata,
    which the audit checks against it).

    Raises:
        StoreError: there is no readable genesis entry.
    """
    try:
        return _read_genesis(store).log.verifier_key
    except RowError as bad:
        raise StoreError(f"seq 0: {bad.finding.reason}") from bad


def audit(
    target: str | Path | Store,
    *,
    verifier_key: str | None = None,
    threads: int = 2,
    chunk: int = 2048,
    domain: DomainFactory | None = None,
    witness: Checkpoint | None = None,
    on_entry: Callable[[Checked], None] | None = None,
    verified_at_append: VerifiedAtAppend | None = None,
) -> AuditReport:
    """Verify the ledger at ``target`` completely, without changing it.

    Args:
        target: a run directory, ledger file, SQLAlchemy URL or open :class:`Store` (opened here
            read-only when it is not a Store already).
        verifier_key: the log's C2SP verifier key, to pin the log key; without it the audit
            trusts the key in the genesis entry and proves the ledger consistent with itself.
        threads: worker threads for signature checks (1 = check inline).
        chunk: rows per unit of work.
        domain: makes the domain's checker of the whole log (see :data:`DomainFactory`).
        witness: a checkpoint kept outside the ledger (already opened with the log's key): the
            ledger must reproduce its root at its size.
        on_entry: called with each entry, in seq order, once it is verified: its signatures and
            rules checked and its leaf hash confirmed by the back-link the next entry signed (the
            last entry once the scan ends). An entry found bad is never passed: the report's
            ``first_bad`` names it. ``dxsim replay --verify`` shows entries through this.
        verified_at_append: the writer's word that it verified the signatures of the log with
            this root (see :class:`VerifiedAtAppend`); kept only if the stored leaves hash to it.
            Ignored with ``on_entry``, which shows entries before the root is known.

    Raises:
        StoreError: the target is not a readable dxsim ledger.
        CheckpointError: the verifier key is malformed. (A well-formed key that is not this
            log's is a finding: the ledger is not the log the caller expects.)
    """
    started = clock.perf_counter()
    store = target if isinstance(target, Store) else Store(target)
    try:
        if verified_at_append is not None and verified_at_append.size > 0 and on_entry is None:
            # No signature left to verify below the vouched size: parsing is the GIL's, inline.
            once = _Audit(store, 1, chunk, domain, started, vouched=verified_at_append)
            report = once.run(verifier_key, witness)
            if once.vouch_kept:  # every leaf below the size is one verified: nothing differs
                return report
        return _Audit(store, threads, chunk, domain, started, on_entry).run(verifier_key, witness)
    finally:
        if not isinstance(target, Store):
            store.close()


class _Audit:
    def __init__(
        self,
        store: Store,
        threads: int,
        chunk: int,
        domain: DomainFactory | None,
        started: float,
        on_entry: Callable[[Checked], None] | None = None,
        vouched: VerifiedAtAppend | None = None,
    ) -> None:
        self.on_entry = on_entry
        self.vouched = vouched
        self.vouch_kept = False  # the stored leaves reached the vouched root
        self.store, self.threads, self.chunk = store, threads, chunk
        self.domain_factory, self.started = domain, started
        self.tree = MerkleTree(leaf_hashes=lambda a, b: [])  # the audit never asks for proofs
        #: The tile rows the entries make (a digest each: 32 bytes per 128 entries), to compare
        #: with the stored ones: a proof read from an altered row would not verify.
        self.tiles = TileWriter()
        self.tile_digests: dict[tuple[int, int], bytes] = {}
        self.digest = StatementDigest()
        self.verified_checkpoints = 0
        self.last_hash = b""
        self.last: Checked | None = None
        self.closed_at: int | None = None
        self.announced: dict[str, int] = {}  # identity id -> seq of its registration
        self.pending: deque[tuple[int, bytes | None, str]] = deque()
        self.log_id = ""

    def _report(self, genesis: _Genesis | None, first_bad: Finding | None) -> AuditReport:
        checkpoints = self._checkpoints
        covered = checkpoints[-1][0] if checkpoints else 0
        roles: dict[str, int] = {}
        if genesis is not None:
            for _seq, identity in self.ctx.registered.values():
                roles[identity.role] = roles.get(identity.role, 0) + 1
        closed = first_bad is None and self.closed_at is not None
        return AuditReport(
            entries=self.tree.size,
            root=self.tree.root() if genesis is not None else merkle_root([]),
            checkpoints=len(checkpoints),
            verified_checkpoints=self.verified_checkpoints,
            uncovered=max(0, self.tree.size - covered),
            origin=genesis.origin if genesis else "",
            verifier_key=genesis.log.verifier_key if genesis else "",
            seconds=clock.perf_counter() - self.started,
            first_bad=first_bad,
            roles=roles,
            closed=closed,
            statements=self.digest.hexdigest() if genesis is not None else "",
        )

    def run(self, verifier_key: str | None, witness: Checkpoint | None) -> AuditReport:
        self._checkpoints = []
        try:
            self._checkpoints = self.store.checkpoints()
            genesis = _read_genesis(self.store)
        except RowError as bad:
            return self._report(None, bad.finding)
        except StoreError as exc:  # a dxsim ledger (it opened) that cannot be read: damaged
            return self._report(None, Finding(0, None, None, str(exc)))
        if verifier_key is not None:
            name, _hash, public_key = parse_verifier_key(verifier_key)  # malformed: raises
            if name != genesis.log.id or public_key != genesis.log.public_key:
                reason = (
                    f"the log is signed by {genesis.log.verifier_key}, not by the pinned "
                    f"verifier key {verifier_key}: it is not the log you expect"
                )
                return self._report(None, Finding(0, GENESIS_KIND, genesis.log.id, reason))
        if witness is not None and witness.origin != genesis.origin:
            reason = f"the checkpoint kept elsewhere is of log {witness.origin!r}, not this one"
            return self._report(None, Finding(0, GENESIS_KIND, genesis.log.id, reason))
        self.log_id = genesis.log.id
        self.ctx = Context(
            genesis.origin.encode(),
            genesis.table,
            {genesis.log.id: (-1, genesis.log)},
            verified_below=self.vouched.size if self.vouched is not None else 0,
        )
        self.domain = self.domain_factory(genesis.authorization) if self.domain_factory else None
        self._queue_checkpoints(genesis, witness)
        first_bad = self._scan()
        if first_bad is None and self.on_entry is not None and self.last is not None:
            self.on_entry(self.last)  # nothing follows it to confirm its hash: the scan did
        if first_bad is None:
            first_bad = self._whole_log(genesis)
        return self._report(genesis, first_bad)

    def _queue_checkpoints(self, genesis: _Genesis, witness: Checkpoint | None) -> None:
        vkey = genesis.log.verifier_key
        for size, note in self._checkpoints:
            try:
                opened = open_checkpoint(note, vkey)
            except LedgerError as exc:
                self.pending.append((size, None, f"checkpoint at size {size} is invalid: {exc}"))
                continue
            if opened.size != size or opened.origin != genesis.origin:
                self.pending.append(
                    (size, None, f"checkpoint at size {size} does not match its row")
                )
                continue
            self.pending.append((size, opened.root, ""))
        if witness is not None:
            self.pending.append((witness.size, witness.root, ""))
            self.pending = deque(sorted(self.pending, key=lambda item: item[0]))

    # -- the scan ---------------------------------------------------------------------------
    def _chunks(self) -> Iterator[tuple[list[EntryRow], int]]:
        start = 0
        for rows in self.store.iter_rows(chunk=self.chunk):
            for row in rows:
                if row[2] == IDENTITY_KIND:
                    self._announce(row)
            yield rows, start
            start += len(rows)

    def _announce(self, row: EntryRow) -> None:
        """Let workers know an identity before they reach entries it signed (verified later)."""
        try:
            public = registration(parse_leaf(row[4]).body)
        except LedgerError:
            return  # the worker that checks this row reports it
        if public.id not in self.ctx.registered:
            self.ctx.registered[public.id] = (row[0], public)

    def _scan(self) -> Finding | None:
        try:
            if self.threads <= 1:
                for rows, start in self._chunks():
                    bad = self._fold(check_chunk(rows, start, self.ctx))
                    if bad is not None:
                        return bad
                return None
            return self._scan_threaded()
        except StoreError as exc:
            where = self.tree.size
            verified = f" (entries 0 to {where - 1} verify)" if where else ""
            return Finding(where, None, None, f"{exc}{verified}")

    def _scan_threaded(self) -> Finding | None:
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            inflight: deque[Future[ChunkResult]] = deque()
            source = self._chunks()
            exhausted = False
            while not exhausted or inflight:
                while not exhausted and len(inflight) < self.threads * 2:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    inflight.append(pool.submit(check_chunk, item[0], item[1], self.ctx))
                if not inflight:
                    break
                bad = self._fold(inflight.popleft().result())
                if bad is not None:
                    for pending in inflight:
                        pending.cancel()
                    return bad
        return None

    def _fold(self, result: ChunkResult) -> Finding | None:
        """Fold checked rows in order: back-links, checkpoints, close, the domain's rules."""
        for entry in result.checked:
            seq = self.tree.size
            if entry.prev != self.last_hash:
                if self.last is None:
                    return Finding(
                        seq, entry.kind, entry.actor, "bad back-link in the genesis entry"
                    )
                reason = f"does not match the back-link signed in entry {seq}: altered"
                return Finding(seq - 1, self.last.kind, self.last.actor, reason)
            if self.on_entry is not None and self.last is not None:
                self.on_entry(self.last)  # its leaf hash is confirmed by this entry's back-link
            if self.closed_at is not None:
                reason = f"an entry after the log was closed at seq {self.closed_at}"
                return Finding(seq, entry.kind, entry.actor, reason)
            problem = self._log_rules(entry)
            if problem is None and self.domain is not None:
                problem = self.domain.feed(
                    entry.seq, entry.time, entry.kind, entry.actor, entry.body, entry.signers
                )
            if problem is not None:
                return Finding(seq, entry.kind, entry.actor, problem)
            self.tree.append_leaf_hash(entry.digest)
            tiles = self.tiles
            tiles.append(entry.digest)
            if tiles.full:
                for level, index, data in tiles.full:
                    self.tile_digests[(level, index)] = hashlib.sha256(data).digest()
                tiles.full = []
            self.digest.add(
                entry.seq, entry.time, entry.kind, entry.actor, entry.body, entry.statement
            )
            self.last_hash, self.last = entry.digest, entry
            if self.vouched is not None and self.tree.size == self.vouched.size:
                if self.tree.root() != self.vouched.root:
                    reason = "the stored leaves are not those whose signatures were verified"
                    return Finding(seq, entry.kind, entry.actor, reason)
                self.vouch_kept = True
            while self.pending and self.pending[0][0] <= self.tree.size:
                size, expected_root, problem = self.pending.popleft()
                if not problem and self.tree.root() != expected_root:
                    problem = f"root differs from checkpoint {size}"
                if problem:
                    return Finding(size - 1, entry.kind, entry.actor, problem)
                self.verified_checkpoints += 1
        return result.first_bad

    def _log_rules(self, entry: Checked) -> str | None:
        if entry.kind == IDENTITY_KIND:
            identity_id = str(entry.body["id"])
            if identity_id in self.announced or identity_id == self.log_id:
                return f"identity {identity_id!r} is registered twice"
            self.announced[identity_id] = entry.seq
        elif entry.kind == CLOSE_KIND:
            if entry.body["entries"] != entry.seq + 1:
                stated = entry.body["entries"]
                return f"the close entry states {stated} entries but is entry {entry.seq + 1}"
            self.closed_at = entry.seq
        return None

    # -- the whole log ----------------------------------------------------------------------
    def _whole_log(self, genesis: _Genesis) -> Finding | None:
        size = self.tree.size
        if self.pending:
            extra = self.pending[0][0]
            return Finding(
                size,
                None,
                None,
                f"log truncated: checkpoint {extra} covers {extra} entries but {size} are stored",
            )
        sizes = {s for s, _note in self._checkpoints}
        every = genesis.checkpoint_every
        missing = [m for m in range(every, size + 1, every) if m not in sizes]
        if missing:
            at = missing[0]
            return Finding(at - 1, None, None, f"the checkpoint at size {at} is missing (removed)")
        if self.closed_at is not None and size not in sizes:
            return Finding(
                self.closed_at, CLOSE_KIND, genesis.log.id, "the final checkpoint is missing"
            )
        return self._identities_table(genesis) or self._metadata(genesis) or self._tiles()

    def _tiles(self) -> Finding | None:
        """Stored tile rows equal those the entries make, and none is missing (a ledger from
        before tiles has none, and its proofs recompute them)."""
        if not self.store.has_tiles:
            return None
        expected = self.tile_digests
        for level, index, data in self.store.iter_tiles():
            first = (index * TILE_WIDTH) << level
            digest = expected.pop((level, index), None)
            if digest is None:
                reason = f"Merkle tile row (level {level}, index {index}) is not of this log"
                return Finding(None, None, None, reason)
            if hashlib.sha256(data).digest() != digest:
                reason = (
                    f"Merkle tile row (level {level}, index {index}) does not match the "
                    f"entries {first}..{first + (TILE_WIDTH << level) - 1} (altered)"
                )
                return Finding(first, None, None, reason)
        if expected:
            level, index = min(expected)
            first = (index * TILE_WIDTH) << level
            reason = f"Merkle tile row (level {level}, index {index}) is missing (removed)"
            return Finding(first, None, None, reason)
        return None

    def _identities_table(self, genesis: _Genesis) -> Finding | None:
        expected = {genesis.log.id: (LOG_ROLE, genesis.log.public_key, 0)}
        for identity_id, seq in self.announced.items():
            public = self.ctx.registered[identity_id][1]
            expected[identity_id] = (public.role, public.public_key, seq)
        stored = {i: (r, p, s) for i, r, p, s in self.store.identities()}
        for identity_id in sorted(set(stored) | set(expected)):
            if stored.get(identity_id) != expected.get(identity_id):
                if identity_id not in expected:
                    where = "has no signed registration"
                elif identity_id not in stored:
                    where = "is missing"
                else:
                    where = "differs from its signed registration"
                at = expected[identity_id][2] if identity_id in expected else None
                return Finding(
                    at, IDENTITY_KIND, identity_id, f"identities table: {identity_id!r} {where}"
                )
        return None

    def _metadata(self, genesis: _Genesis) -> Finding | None:
        meta = self.store.meta()
        unexpected = sorted(set(meta) - _META_KEYS)
        if unexpected:
            return Finding(None, None, None, f"metadata: unexpected key {unexpected[0]!r}")
        if meta.get("origin") != genesis.origin:
            return Finding(
                None, None, None, "metadata: the stored origin is not the genesis origin"
            )
        if meta.get("verifier_key") != genesis.log.verifier_key:
            return Finding(
                None, None, None, "metadata: the stored verifier key is not the genesis log key"
            )
        return None
