"""Continue a ledger that a killed writer left behind, by regenerating it and checking the prefix.

A dxsim run is deterministic (DESIGN.md §2: same scenario, seed and keys give a byte-identical
ledger) and Ed25519 signatures are deterministic too (RFC 8032 §5.1.6), so a run that was killed
can be resumed by simulating it again from the start: every entry the new run makes while it is
still inside the stored prefix must equal, byte for byte, the entry stored at that seq; from the
first seq past the prefix the entries are appended to the same store. Nothing stored is ever
rewritten, and a regenerated entry that differs (other code, scenario or keys; or a stored entry
that was changed) stops the resume with an error naming the seq, before anything is appended.

:class:`ResumingStore` is the :class:`~ledger.log.LedgerSink` that does this; the writing
:class:`~ledger.log.Ledger` is unaware of it.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path

from ledger.errors import LedgerError
from ledger.store import EntryRow, Store
from ledger.tiles import TileRow

__all__ = ["ResumeMismatch", "ResumingStore"]


class ResumeMismatch(LedgerError):
    """The regenerated run disagrees with the stored prefix (at :attr:`seq`).

    Both live in ``args``: SimPy re-raises a process's exception as ``type(exc)(*exc.args)``.
    """

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(seq, message)
        self.seq = seq

    def __str__(self) -> str:
        return str(self.args[1])


class ResumingStore:
    """A writable :class:`Store` holding a prefix that the writer must reproduce before it
    appends.

    Args:
        target: the ledger a killed run left (a path or an SQLAlchemy URL).

    Raises:
        StoreError: the target is not a dxsim ledger.
        LedgerError: it holds no entries (nothing to resume: start a new run), or it was closed
            (a complete log takes nothing more).
    """

    def __init__(self, target: str | Path) -> None:
        self._store = Store(target, create=True)
        try:
            top = self._store.max_seq()
            if top is None:
                raise LedgerError(f"{target}: holds no entries; there is nothing to resume")
            self.stored = top + 1
            if self._store.count() != self.stored or self._store.entry_row(0) is None:
                raise LedgerError(
                    f"{target}: its seqs are not 0..{top} without gaps; it cannot be resumed "
                    "(dxsim verify names the first bad entry)"
                )
            self._checkpoints = dict(self._store.checkpoints())
            self._known_ids = {row[0] for row in self._store.identities()}
            self._meta = self._store.meta()
            self._tile_keys = self._store.tile_keys()
        except BaseException:
            self._store.close()
            raise
        self._rows: Generator[list[EntryRow], None, None] = self._store.iter_rows(start=0)
        self._pending: list[EntryRow] = []
        self.matched = 0
        #: The first disagreement; once set, nothing more is written (the stored log stays as
        #: it was, and the writer's abandon after the error appends nothing).
        self.mismatch: ResumeMismatch | None = None

    # -- the LedgerSink protocol ----------------------------------------------------------------
    def max_seq(self) -> int | None:
        """None: to the writer this is a new log, which it rebuilds from seq 0."""
        return None

    def write_batch(
        self,
        rows: Sequence[EntryRow],
        identities: Sequence[tuple[str, str, bytes, int]] = (),
        checkpoint: tuple[int, str] | None = None,
        tiles: Sequence[TileRow] = (),
    ) -> None:
        """Check the rows inside the stored prefix; append the rest (with what they bring)."""
        if self.mismatch is not None:
            return
        try:
            self._write_batch(rows, identities, checkpoint, tiles)
        except ResumeMismatch as exc:
            self.mismatch = exc
            raise

    def _write_batch(
        self,
        rows: Sequence[EntryRow],
        identities: Sequence[tuple[str, str, bytes, int]],
        checkpoint: tuple[int, str] | None,
        tiles: Sequence[TileRow],
    ) -> None:
        fresh = [row for row in rows if row[0] >= self.stored]
        # A tile row is stored with the batch that completed it, so the prefix's are there
        # (a ledger from before tiles gets them all now).
        new_tiles = [tile for tile in tiles if (tile[0], tile[1]) not in self._tile_keys]
        for row in rows[: len(rows) - len(fresh)]:
            self._check(row)
        new_ids = [ident for ident in identities if ident[0] not in self._known_ids]
        if checkpoint is not None and checkpoint[0] in self._checkpoints:
            if self._checkpoints[checkpoint[0]] != checkpoint[1]:
                raise ResumeMismatch(
                    checkpoint[0] - 1,
                    f"the regenerated checkpoint at size {checkpoint[0]} differs from the "
                    "stored one",
                )
            checkpoint = None
        if fresh and self.matched < self.stored:
            raise ResumeMismatch(self.matched, f"entry {self.matched}: missing from the rerun")
        if fresh or new_ids or checkpoint is not None or new_tiles:
            self._store.write_batch(fresh, new_ids, checkpoint, new_tiles)
            self._tile_keys.update((tile[0], tile[1]) for tile in new_tiles)
            self._known_ids.update(ident[0] for ident in new_ids)
            if checkpoint is not None:
                self._checkpoints[checkpoint[0]] = checkpoint[1]

    def set_meta(self, key: str, value: str) -> None:
        """The log's metadata (origin, verifier key) must be what the stored log says."""
        stored = self._meta.get(key)
        if stored is not None and stored != value:
            raise ResumeMismatch(
                0,
                f"the rerun's {key} is {value!r} but the stored ledger's is {stored!r}: "
                "resume with the keys the run was made with",
            )
        if stored is None:
            self._store.set_meta(key, value)
            self._meta[key] = value

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        return self._store.leaf_hashes(start, end)

    def seal(self) -> None:
        try:
            self.require_prefix_matched()
        except ResumeMismatch as exc:
            self.mismatch = exc
            raise
        self._store.seal()

    def close(self) -> None:
        self._rows.close()
        self._store.close()

    # -- checking ---------------------------------------------------------------------------
    def require_prefix_matched(self) -> None:
        """Raise unless the writer has reproduced every stored entry."""
        if self.matched < self.stored:
            raise ResumeMismatch(
                self.matched,
                f"the rerun ended after {self.matched} entries but the stored ledger holds "
                f"{self.stored}: entry {self.matched} was never regenerated",
            )

    def _next_stored(self) -> EntryRow:
        while not self._pending:
            self._pending = list(reversed(next(self._rows)))
        return self._pending.pop()

    def _check(self, row: EntryRow) -> None:
        seq = row[0]
        if seq != self.matched:
            raise ResumeMismatch(seq, f"entry {seq}: regenerated out of order")
        stored = self._next_stored()
        if stored[0] != seq or stored != row:
            what = (
                f"stored {stored[2]!r} by {stored[3]!r} at t={stored[1]}, "
                f"regenerated {row[2]!r} by {row[3]!r} at t={row[1]}"
            )
            raise ResumeMismatch(
                seq,
                f"entry {seq}: the rerun differs from the stored ledger ({what}); the scenario, "
                "seed, keys or dxsim version changed since the run, or the stored entry was "
                "altered",
            )
        self.matched += 1
        if self.matched == self.stored:
            self._rows.close()  # the whole prefix is reproduced: release the read cursor
