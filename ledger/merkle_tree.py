"""Incremental RFC 9162 Merkle tree (a frontier of perfect-subtree roots), split from
:mod:`ledger.merkle`, which re-exports :class:`MerkleTree` as part of the fixed public API."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ledger.merkle import (
    _BYTES_LIKE,
    _EMPTY_ROOT,
    _READ_CHUNK,
    LeafHashSource,
    _consistency_path,
    _inclusion_path,
    _index_arg,
    _mth,
    _RangeHash,
)

__all__ = ["MerkleTree"]

_sha256 = hashlib.sha256


class MerkleTree:
    """Append-only RFC 9162 Merkle tree with an O(log n) frontier.

    The frontier (``_frontier``) holds the roots of the perfect subtrees the tree decomposes
    into, largest (leftmost) first, one per set bit of ``size``. Appending a leaf is a binary
    increment: the new leaf merges with equal-sized subtrees at the end of the frontier, so the
    frontier and the root are always available without reading any leaf back.

    Two storage modes:

    * ``MerkleTree()`` keeps every leaf hash in a list (32 bytes + list slot each); proofs read it.
    * ``MerkleTree(leaf_hashes=source)`` keeps only the frontier; proofs read leaf hashes from
      ``source(start, end)`` (the ledger passes a reader over its SQL store). The source must
      return exactly ``end - start`` 32-byte hashes for any ``0 <= start < end <= size``.

    Proofs over ``n`` leaves cost O(n) hashing, reusing frontier hashes for the perfect
    subtrees they cover. Not thread-safe: serialize appends and proofs.
    """

    __slots__ = ("_frontier", "_leaves", "_size", "_source")

    def __init__(self, leaf_hashes: LeafHashSource | None = None) -> None:
        """Create an empty tree.

        Args:
            leaf_hashes: where to read leaf hashes back from when building proofs; ``None``
                keeps them in memory instead.
        """
        self._frontier: list[bytes] = []
        self._size = 0
        self._source = leaf_hashes
        self._leaves: list[bytes] | None = [] if leaf_hashes is None else None

    @classmethod
    def from_leaf_hashes(
        cls, hashes: Iterable[bytes], leaf_hashes: LeafHashSource | None = None
    ) -> MerkleTree:
        """Rebuild a tree from stored leaf hashes (e.g. on reopening a ledger).

        Args:
            hashes: every leaf hash, in order; consumed once.
            leaf_hashes: the source proofs will read from (see the class docstring); ``None``
                keeps ``hashes`` in memory.

        Returns:
            A tree of ``len(hashes)`` leaves.

        Raises:
            ValueError: a hash is not 32 bytes.
        """
        tree = cls(leaf_hashes)
        append = tree.append_leaf_hash
        for h in hashes:
            append(h)
        return tree

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        mode = "memory" if self._leaves is not None else "source"
        return f"MerkleTree(size={self._size}, {mode})"

    def append(self, data: bytes) -> int:
        """Append a leaf given its raw bytes.

        Args:
            data: the raw leaf bytes; hashed as ``SHA-256(0x00 ‖ data)``.

        Returns:
            The new leaf's 0-based index.

        Raises:
            ValueError: ``data`` is not bytes-like.
        """
        try:
            h = _sha256(b"\x00" + data).digest()
        except TypeError:
            raise ValueError(f"leaf data must be bytes, not {type(data).__name__}") from None
        leaves = self._leaves
        if leaves is not None:
            leaves.append(h)
        index = self._size
        self._size = index + 1
        frontier = self._frontier
        n = index
        while n & 1:
            h = _sha256(b"\x01" + frontier.pop() + h).digest()
            n >>= 1
        frontier.append(h)
        return index

    def append_leaf_hash(self, h: bytes) -> int:
        """Append a leaf given its already-computed 32-byte leaf hash.

        Args:
            h: ``SHA-256(0x00 ‖ data)`` of the leaf.

        Returns:
            The new leaf's 0-based index.

        Raises:
            ValueError: ``h`` is not 32 bytes.
        """
        if type(h) is not bytes:
            if not isinstance(h, _BYTES_LIKE):
                raise ValueError(f"a leaf hash must be bytes, not {type(h).__name__}")
            h = bytes(h)
        if len(h) != 32:
            raise ValueError(f"a leaf hash must be 32 bytes, got {len(h)}")
        leaves = self._leaves
        if leaves is not None:
            leaves.append(h)
        index = self._size
        self._size = index + 1
        frontier = self._frontier
        n = index
        while n & 1:
            h = _sha256(b"\x01" + frontier.pop() + h).digest()
            n >>= 1
        frontier.append(h)
        return index

    def root(self) -> bytes:
        """Current root, folded from the frontier right to left: O(log n), no leaf reads."""
        frontier = self._frontier
        i = len(frontier) - 1
        if i < 0:
            return _EMPTY_ROOT
        r = frontier[i]
        while i:
            i -= 1
            r = _sha256(b"\x01" + frontier[i] + r).digest()
        return r

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path for leaf ``index`` in the tree as it was at ``size`` (RFC 9162 §2.1.3.1).

        Args:
            index: 0-based leaf index.
            size: tree size to prove against; defaults to the current size.

        Returns:
            Sibling subtree hashes, leaf to root.

        Raises:
            ValueError: unless ``0 <= index < size <= self.size``.
        """
        index = _index_arg(index, "index")
        size = self._size if size is None else _index_arg(size, "size")
        if not 0 <= index < size <= self._size:
            raise ValueError(
                f"need 0 <= index < size <= {self._size}, got index={index}, size={size}"
            )
        return _inclusion_path(index, size, self._range_hasher())

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree at ``new_size`` extends the tree at ``old_size`` (§2.1.4.1).

        Args:
            old_size: older size, ``> 0`` (no proof from the empty tree exists).
            new_size: newer size; defaults to the current size.

        Returns:
            The consistency proof (empty when the sizes are equal).

        Raises:
            ValueError: unless ``0 < old_size <= new_size <= self.size``.
        """
        old_size = _index_arg(old_size, "old_size")
        new_size = self._size if new_size is None else _index_arg(new_size, "new_size")
        if not 0 < old_size <= new_size <= self._size:
            raise ValueError(
                f"need 0 < old_size <= new_size <= {self._size}, got {old_size}, {new_size}"
            )
        return _consistency_path(old_size, new_size, self._range_hasher())

    # -- proof helpers ---------------------------------------------------------------------

    def _frontier_ranges(self) -> dict[tuple[int, int], bytes]:
        """Map each frontier subtree ``[lo, hi)`` to its hash, so proofs skip re-reading it."""
        out: dict[tuple[int, int], bytes] = {}
        n = self._size
        lo = 0
        i = 0
        for bit in range(n.bit_length() - 1, -1, -1):
            if n >> bit & 1:
                hi = lo + (1 << bit)
                out[(lo, hi)] = self._frontier[i]
                i += 1
                lo = hi
        return out

    def _read(self, start: int, end: int) -> Sequence[bytes]:
        if self._leaves is not None:
            return self._leaves[start:end]
        assert self._source is not None
        got = self._source(start, end)
        if len(got) != end - start:
            raise ValueError(f"leaf hash source returned {len(got)} hashes for [{start}, {end})")
        return got

    def _range_hasher(self) -> _RangeHash:
        """Hash of subtree ``[lo, hi)``: from the frontier if it is one, else from leaf hashes.

        Leaf hashes are read in aligned blocks of ``_READ_CHUNK``: every subtree in a proof
        starts at a multiple of a power of two ``>= hi - lo``, so when it spans several blocks
        each full block is itself a perfect subtree and the block roots hash together as an
        RFC tree of their own.
        """
        cached = self._frontier_ranges()
        read = self._read
        chunk = _READ_CHUNK

        def range_hash(lo: int, hi: int) -> bytes:
            h = cached.get((lo, hi))
            if h is not None:
                return h
            if hi - lo <= chunk:
                return _mth(read(lo, hi))
            return _mth([_mth(read(s, min(s + chunk, hi))) for s in range(lo, hi, chunk)])

        return range_hash
