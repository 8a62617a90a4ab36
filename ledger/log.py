"""The append-only log: signature checks, authorization, hash chain, Merkle tree, checkpoints.

Seq 0 is always a ``ledger.genesis`` entry, signed by the log's own key, that records the origin,
the log's public key, the checkpoint cadence and the authorization table (role → kinds it may
sign). Identities enter the log as ``ledger.identity`` entries signed by the log. Closing the log
appends a ``ledger.close`` entry, signed by the log, and the final checkpoint covers it: a log
without one was not closed (its writer crashed, or someone cut it back), and the audit says so.
So the ledger alone, plus the log's verifier key, is enough to audit it: nothing that matters
lives outside the signed entries.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ledger.checkpoint import sign_checkpoint
from ledger.digest import StatementDigest
from ledger.entry import (
    Entry,
    check_json_value,
    signing_input,
    statement_bytes,
)
from ledger.errors import AuthorizationError, LedgerError, SignatureError, StoreError
from ledger.identity import Identity, PublicIdentity
from ledger.interrupts import CONSISTENT
from ledger.kinds import (
    CLOSE_KIND,
    GENESIS_KIND,
    IDENTITY_KIND,
    LEDGER_KINDS,
    LOG_ROLE,
    REFUSAL_KIND,
)
from ledger.merkle import MerkleTree, leaf_hash
from ledger.store import EntryRow, Store
from ledger.tiles import TileRow, TileWriter
from ledger.verifier import BackgroundVerifier

__all__ = [
    "CLOSE_KIND",
    "GENESIS_KIND",
    "IDENTITY_KIND",
    "LOG_ROLE",
    "REFUSAL_KIND",
    "AuthorizationTable",
    "DiscardStore",
    "Ledger",
    "LedgerSink",
]

NO_PREV = b""


@dataclass(frozen=True)
class AuthorizationTable:
    """Which role may sign which entry kinds. Supplied by the domain, recorded in the genesis entry.

    Kinds under ``ledger.`` belong to the log itself and may be signed by the ``log`` role only.
    """

    kinds_by_role: Mapping[str, frozenset[str]]

    @classmethod
    def from_mapping(cls, table: Mapping[str, Iterable[str]]) -> AuthorizationTable:
        kinds_by_role: dict[str, frozenset[str]] = {}
        for role, kinds in table.items():
            kind_set = frozenset(kinds)
            stolen = {k for k in kind_set if k.startswith("ledger.")}
            if stolen:
                raise LedgerError(
                    f"role {role!r} cannot be authorized for log kinds {sorted(stolen)}"
                )
            kinds_by_role[role] = kind_set
        kinds_by_role[LOG_ROLE] = kinds_by_role.get(LOG_ROLE, frozenset()) | LEDGER_KINDS
        return cls(kinds_by_role)

    def allows(self, role: str, kind: str) -> bool:
        kinds = self.kinds_by_role.get(role)
        return kinds is not None and kind in kinds

    def to_json(self) -> dict[str, list[str]]:
        return {role: sorted(kinds) for role, kinds in sorted(self.kinds_by_role.items())}


class LedgerSink(Protocol):
    """Where a writing ledger persists its batches: a :class:`Store`, or a :class:`DiscardStore`."""

    def max_seq(self) -> int | None: ...

    def write_batch(
        self,
        rows: Sequence[EntryRow],
        identities: Sequence[tuple[str, str, bytes, int]] = (),
        checkpoint: tuple[int, str] | None = None,
        tiles: Sequence[TileRow] = (),
    ) -> None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def leaf_hashes(self, start: int, end: int) -> list[bytes]: ...

    def seal(self) -> None: ...

    def close(self) -> None: ...


class DiscardStore:
    """A sink that keeps nothing, for a run whose only products are its root and digest.

    The same-seed rerun of invariant 5 needs the final Merkle root of a second run and nothing
    else; writing nowhere means it leaves no scratch files behind, even when it is killed.
    Every entry is still signed, verified and hashed into the tree exactly as in a stored run.
    """

    def max_seq(self) -> int | None:
        return None

    def write_batch(
        self,
        rows: Sequence[EntryRow],
        identities: Sequence[tuple[str, str, bytes, int]] = (),
        checkpoint: tuple[int, str] | None = None,
        tiles: Sequence[TileRow] = (),
    ) -> None:
        return None

    def set_meta(self, key: str, value: str) -> None:
        return None

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        raise StoreError("a discarded ledger keeps no leaves: it cannot give proofs")

    def seal(self) -> None:
        return None

    def close(self) -> None:
        return None


class Ledger:
    """A signed, append-only, Merkle-logged ledger being written. Single writer.

    Use :meth:`create`, then :meth:`register` every signer, then :meth:`record` (or :meth:`sign`
    and :meth:`append`), and :meth:`close` to write the final checkpoint.
    """

    def __init__(
        self,
        store: LedgerSink,
        log_identity: Identity,
        authorization: AuthorizationTable,
        *,
        batch_size: int,
        checkpoint_every: int,
        record_refusals: bool,
        verify_in_background: bool = False,
    ) -> None:
        if batch_size < 1 or checkpoint_every < 1:
            raise LedgerError("batch_size and checkpoint_every must be positive")
        self.store = store
        self.log_identity = log_identity
        self.origin = log_identity.id
        self._origin_bytes = self.origin.encode()
        self.authorization = authorization
        self.batch_size = batch_size
        self.checkpoint_every = checkpoint_every
        self.record_refusals = record_refusals
        self.tree = MerkleTree(leaf_hashes=self._stored_leaf_hashes)
        #: Every full-subtree hash, stored as tile rows with the batch that completes them.
        self.tiles = TileWriter()
        self._identities: dict[str, PublicIdentity] = {log_identity.id: log_identity.public}
        self._prev = NO_PREV
        self._rows: list[EntryRow] = []
        self._new_identities: list[tuple[str, str, bytes, int]] = []
        self._closed = False
        self._verifier = BackgroundVerifier() if verify_in_background else None
        self.last_checkpoint: str | None = None
        self._checkpoint_size = -1
        self._last_time = 0
        #: The digest of what the log says, without key material (see :mod:`ledger.digest`).
        self.statements = StatementDigest()

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        target: str | Path | LedgerSink,
        log_identity: Identity,
        authorization: Mapping[str, Iterable[str]],
        *,
        batch_size: int = 1024,
        checkpoint_every: int = 16384,
        record_refusals: bool = True,
        verify_in_background: bool = False,
        time: int = 0,
    ) -> Ledger:
        """Create a new ledger at ``target`` (a path, run directory, SQLAlchemy URL or a sink).

        Refuses to write into a store that already holds entries: a log is never rewritten.
        With ``verify_in_background``, signatures are verified on a second thread and checked
        before each batch is persisted (see :mod:`ledger.verifier`); a bad signature then
        surfaces at the next write, aborts that batch and closes the ledger.
        """
        if log_identity.role != LOG_ROLE:
            raise LedgerError(f"the log identity must have role {LOG_ROLE!r}")
        store: LedgerSink = Store(target, create=True) if isinstance(target, str | Path) else target
        if store.max_seq() is not None:
            store.close()
            raise LedgerError(f"{target}: already holds a ledger; choose a new location")
        table = AuthorizationTable.from_mapping(authorization)
        ledger = cls(
            store,
            log_identity,
            table,
            batch_size=batch_size,
            checkpoint_every=checkpoint_every,
            record_refusals=record_refusals,
            verify_in_background=verify_in_background,
        )
        genesis = {
            "authorization": table.to_json(),
            "checkpoint_every": checkpoint_every,
            "log": {"id": log_identity.id, "public_key": log_identity.public.public_key_b64},
            "origin": ledger.origin,
        }
        ledger._new_identities.append((log_identity.id, LOG_ROLE, log_identity.public_key, 0))
        ledger.record(GENESIS_KIND, genesis, time, [log_identity])
        store.set_meta("origin", ledger.origin)
        store.set_meta("verifier_key", log_identity.public.verifier_key)
        return ledger

    # -- state ------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of entries appended (the next seq)."""
        return self.tree.size

    def root(self) -> bytes:
        return self.tree.root()

    # -- writing ----------------------------------------------------------------------------
    def register(self, identity: Identity | PublicIdentity, time: int = 0) -> Entry:
        """Admit a signer: a ``ledger.identity`` entry signed by the log."""
        public = identity.public if isinstance(identity, Identity) else identity
        if public.id in self._identities:
            raise LedgerError(f"identity {public.id!r} is already registered")
        body = {"id": public.id, "public_key": public.public_key_b64, "role": public.role}
        return self.record(IDENTITY_KIND, body, time, [self.log_identity])

    def sign(
        self, kind: str, body: dict[str, Any], time: int, signers: Sequence[Identity]
    ) -> Entry:
        """Build and sign the next entry (seq = :attr:`size`); the first signer is the actor."""
        if not signers:
            raise SignatureError(f"{kind}: an entry needs at least one signer")
        check_json_value(body)
        actor = signers[0].id
        statement = statement_bytes(self.size, time, kind, actor, self._prev, body)
        message = signing_input(self._origin_bytes, statement)
        sigs = [(signer.id, signer.sign(message)) for signer in signers]
        return Entry.build(self.size, time, kind, actor, self._prev, body, sigs, statement)

    def record(
        self, kind: str, body: dict[str, Any], time: int, signers: Sequence[Identity]
    ) -> Entry:
        """Sign and append in one step; returns the appended entry."""
        return self.append(self.sign(kind, body, time, signers))

    def append(self, entry: Entry) -> Entry:
        """Check ``entry`` completely, then add it to the log.

        Raises:
            LedgerError: wrong seq or back-link, or the ledger is closed.
            SignatureError: a signature is missing, by an unknown identity, or does not verify.
            AuthorizationError: a signer's role may not sign this kind. When ``record_refusals``
                is on, the refusal is itself recorded as a ``ledger.refusal`` entry first.
        """
        if self._closed:
            raise LedgerError("the ledger is closed")
        if entry.seq != self.size:
            raise LedgerError(f"entry seq {entry.seq} but the log expects {self.size}")
        if entry.prev != self._prev:
            raise LedgerError(f"entry {entry.seq}: back-link does not match the previous entry")
        signers = self._check_signatures(entry)
        for signer in signers:
            if not self.authorization.allows(signer.role, entry.kind):
                reason = f"role {signer.role!r} ({signer.id}) may not sign {entry.kind!r}"
                if self.record_refusals and entry.kind != REFUSAL_KIND:
                    self._record_refusal(entry, reason)
                raise AuthorizationError(reason)
        with CONSISTENT:  # an identity is admitted with the entry that admits it
            if entry.kind == IDENTITY_KIND:
                self._admit(entry)
            self._commit(entry)
        return entry

    def _check_signatures(self, entry: Entry) -> list[PublicIdentity]:
        if not entry.sigs or entry.sigs[0].signer != entry.actor:
            raise SignatureError(f"entry {entry.seq}: the actor {entry.actor!r} must sign first")
        message = signing_input(self._origin_bytes, entry.statement)
        signers: list[PublicIdentity] = []
        for signature in entry.sigs:
            signer = self._identities.get(signature.signer)
            if signer is None:
                raise SignatureError(f"entry {entry.seq}: unknown signer {signature.signer!r}")
            if signer in signers:
                raise SignatureError(f"entry {entry.seq}: {signer.id!r} signed twice")
            if self._verifier is not None:
                self._verifier.add(entry.seq, signer, signature.sig, message)
            elif not signer.verify(signature.sig, message):
                raise SignatureError(f"entry {entry.seq}: bad signature by {signer.id!r}")
            signers.append(signer)
        return signers

    def _admit(self, entry: Entry) -> None:
        body = entry.body
        try:
            public = PublicIdentity(
                body["id"], body["role"], base64.b64decode(body["public_key"], validate=True)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LedgerError(f"entry {entry.seq}: malformed identity registration") from exc
        if public.id in self._identities:
            raise LedgerError(f"identity {public.id!r} is already registered")
        self._identities[public.id] = public
        self._new_identities.append((public.id, public.role, public.public_key, entry.seq))

    def _record_refusal(self, entry: Entry, reason: str) -> None:
        body = {
            "actor": entry.actor,
            "kind": entry.kind,
            "reason": reason,
            "statement_sha256": hashlib.sha256(entry.statement).hexdigest(),
        }
        self.record(REFUSAL_KIND, body, entry.time, [self.log_identity])

    def _commit(self, entry: Entry) -> None:
        with CONSISTENT:  # the tree, the batch and the chain take the entry together
            self._commit_now(entry)

    def _commit_now(self, entry: Entry) -> None:
        leaf = entry.leaf
        digest = leaf_hash(leaf)
        self.tree.append_leaf_hash(digest)
        self.tiles.append(digest)
        self._prev = digest
        self._rows.append((entry.seq, entry.time, entry.kind, entry.actor, leaf))
        self._last_time = entry.time
        self.statements.add(
            entry.seq, entry.time, entry.kind, entry.actor, entry.body, entry.statement
        )
        size = self.tree.size
        if size % self.checkpoint_every == 0:
            self._flush(with_checkpoint=True)
        elif len(self._rows) >= self.batch_size:
            self._flush(with_checkpoint=False)

    def _flush(self, *, with_checkpoint: bool) -> None:
        with CONSISTENT:  # a checkpoint is signed and stored with its rows, or not at all
            self._flush_now(with_checkpoint=with_checkpoint)

    def _flush_now(self, *, with_checkpoint: bool) -> None:
        if self._verifier is not None:
            try:
                self._verifier.drain()
            except SignatureError:
                # Nothing unverified is ever persisted: drop the batch and stop the log here.
                self._rows = []
                self._new_identities = []
                self._closed = True
                self._verifier.close()
                raise
        checkpoint = None
        if with_checkpoint:
            note = sign_checkpoint(self.origin, self.size, self.tree.root(), self.log_identity)
            checkpoint = (self.size, note)
        self.store.write_batch(self._rows, self._new_identities, checkpoint, self.tiles.full)
        self.tiles.full = []
        if checkpoint is not None:  # only once stored: a failed write leaves it still to do
            self.last_checkpoint = checkpoint[1]
            self._checkpoint_size = checkpoint[0]
        self._rows = []
        self._new_identities = []

    def flush(self) -> None:
        """Persist buffered entries now (one transaction)."""
        self._flush(with_checkpoint=False)

    def checkpoint(self) -> str:
        """Persist buffered entries with a signed checkpoint of the tree; return the note."""
        if self.last_checkpoint is None or self._checkpoint_size != self.size:
            self._flush(with_checkpoint=True)
        assert self.last_checkpoint is not None
        return self.last_checkpoint

    def close(self, time: int | None = None) -> str:
        """Append the ``ledger.close`` entry, write the final checkpoint over it, release the
        store. Returns the final checkpoint note.

        The close entry is what tells a complete log from one cut back to an earlier checkpoint:
        it is signed by the log and states the final size, and nothing may follow it.
        """
        if self._closed:
            raise LedgerError("the ledger is already closed")
        try:
            at = self._last_time if time is None else time
            self.record(CLOSE_KIND, {"entries": self.size + 1}, at, [self.log_identity])
            note = self.checkpoint()
            self.store.seal()
        finally:
            self._closed = True
            if self._verifier is not None:
                self._verifier.close()
            self.store.close()
        return note

    def abandon(self) -> None:
        """Stop writing without closing: persist what was appended (with a checkpoint over it)
        and release the store. The log stays "not closed"; use it when a run fails."""
        if self._closed:
            return
        try:
            if self._rows or self._checkpoint_size != self.size:
                self.checkpoint()
        finally:
            self._closed = True
            if self._verifier is not None:
                self._verifier.close()
            self.store.close()

    # -- proofs -----------------------------------------------------------------------------
    def _stored_leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes for ``[start, end)``: persisted rows first, then the open batch."""
        self.flush()
        return self.store.leaf_hashes(start, end)
