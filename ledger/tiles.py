"""Every full-subtree hash of the log, kept as it grows, in the C2SP tlog-tiles layout.

A Merkle inclusion or consistency proof (RFC 9162 §2.1.3, §2.1.4) is a list of O(log n)
subtree hashes, but computing them from leaf hashes costs O(n) hashing. A transparency log
therefore stores the hash of every complete, aligned subtree (Russ Cox, "Transparent Logs for
Skeptical Clients", 2019, the "stored hashes" of Go's ``golang.org/x/mod/sumdb/tlog``): the
node at tree level ``k``, index ``i`` covers leaves ``[i·2^k, (i+1)·2^k)``. They are grouped in
rows of 256 consecutive nodes of one level; the rows of levels ``0, 8, 16, ...`` are exactly
the tiles of the C2SP tlog-tiles specification (https://c2sp.org/tlog-tiles, tile height 8:
tile ``L/N`` holds the level-``8L`` nodes ``[256N, 256N+256)``, partial tiles ``L/N.p/W`` the
first ``W``). The rows of the other levels are the hashes a tile client recomputes; keeping
them too lets a proof *read* each hash it needs instead of hashing up to 128 of them.

* :class:`TileWriter` follows a growing log and hands out each row as it completes (the ledger
  stores them with the batch that completed them, in the same transaction);
* :class:`TileHashes` answers ``node(level, index)`` from stored rows and the open right edge,
  and builds proofs from them: a proof reads O(log n) hashes.

A missing row (a ledger written before tiles existed) is recomputed from the level below, so
proofs stay correct on any ledger and are fast on those that have tiles.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from ledger.merkle import _consistency_ranges, _inclusion_ranges

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileHashes",
    "TileRow",
    "TileWriter",
    "tile_path",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
TileRow = tuple[int, int, bytes]
"""(tree level, row index, concatenated 32-byte hashes): nodes ``[256·row, 256·row + n)``."""

_sha256 = hashlib.sha256
_EMPTY_ROOT = _sha256(b"").digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def tile_path(tile_level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """The C2SP tlog-tiles path of a tile: ``tile/L/x001/x234/067`` (``.p/W`` when partial).

    ``tile_level`` is a tile level (tree level ``8L``) or ``"entries"`` for an entry bundle.
    The index is written in groups of three digits, every group but the last prefixed ``x``.
    """
    groups = []
    n = index
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    encoded = "/".join([*("x" + g for g in groups[:-1]), groups[-1]])
    path = f"tile/{tile_level}/{encoded}"
    return path if width == TILE_WIDTH else f"{path}.p/{width}"


class TileWriter:
    """The stored hashes of a growing tree: each appended leaf hash completes one node at level
    0 and, for every trailing 1-bit of its index, one more above (two per leaf on average).

    :attr:`full` collects every row of 256 as it completes, for the store to persist.
    """

    __slots__ = ("_done", "_rows", "full", "size")

    def __init__(self) -> None:
        self._rows: list[list[bytes]] = []  # per level: the open (partial) row's hashes
        self._done: list[int] = []  # per level: how many full rows were completed
        self.full: list[TileRow] = []
        self.size = 0

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf's RFC 9162 leaf hash."""
        rows, done = self._rows, self._done
        h = leaf_hash
        level = 0
        while True:
            if level == len(rows):
                rows.append([])
                done.append(0)
            row = rows[level]
            row.append(h)
            pair = len(row) % 2 == 0  # this node completes its parent at level + 1
            parent = _node(row[-2], h) if pair else b""
            if len(row) == TILE_WIDTH:
                self.full.append((level, done[level], b"".join(row)))
                done[level] += 1
                rows[level] = []
            if not pair:
                break
            h = parent
            level += 1
        self.size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for h in leaf_hashes:
            self.append(h)

    def open_rows(self) -> dict[int, tuple[int, list[bytes]]]:
        """The partial right edge: per level, (row index, the hashes it has so far)."""
        return {
            level: (self._done[level], list(row)) for level, row in enumerate(self._rows) if row
        }

    def rows(self) -> list[TileRow]:
        """Every row so far, full ones first: what a tree rebuilt in memory serves from."""
        partial = [(k, index, b"".join(hs)) for k, (index, hs) in self.open_rows().items()]
        return [*self.full, *partial]


StoredRows = Callable[[Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]]
"""[(tree level, row index), ...] → the full rows of those that are stored (one read)."""
LeafHashes = Callable[[int, int], Sequence[bytes]]
"""(start, end) → the leaf hashes of ``[start, end)``."""


class TileHashes:
    """A tree of ``size`` leaves served from stored rows: hashes of any node, and proofs.

    Args:
        size: the number of leaves.
        stored_rows: reads full rows of the store in one go (those it has).
        leaf_hashes: reads leaf hashes (for the open right edge and any missing row).
        cache_rows: how many rows to keep in memory (8 KiB each).
    """

    def __init__(
        self, size: int, stored_rows: StoredRows, leaf_hashes: LeafHashes, cache_rows: int = 4096
    ) -> None:
        self.size = size
        self._stored_rows = stored_rows
        self._leaf_hashes = leaf_hashes
        self._cache: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._cache_rows = cache_rows
        self._open: dict[int, bytes] = {}
        self._fetched: dict[tuple[int, int], bytes] = {}  # read ahead for the proof being built
        self._build_right_edge()

    @classmethod
    def in_memory(cls, leaf_hashes: Sequence[bytes]) -> TileHashes:
        """A tree of the given leaf hashes with every row in memory."""
        writer = TileWriter()
        writer.extend(leaf_hashes)
        rows = {(k, i): data for k, i, data in writer.full}
        hashes = list(leaf_hashes)

        def stored(keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
            return {key: rows[key] for key in keys if key in rows}

        return cls(len(hashes), stored, lambda a, b: hashes[a:b], 0)

    # -- nodes --------------------------------------------------------------------------------
    def _build_right_edge(self) -> None:
        """The partial rows (at most 255 nodes per level), bottom up from the leaves."""
        level = 0
        while self.size >> level:
            count = self.size >> level
            start = count - count % TILE_WIDTH
            if start < count:
                if level == 0:
                    hashes = list(self._leaf_hashes(start, count))
                    if len(hashes) != count - start:
                        raise ValueError(
                            f"entries {start}..{count - 1} are not all stored: the log has gaps"
                        )
                else:
                    hashes = self._parents(level, start, count)
                self._open[level] = b"".join(hashes)
            level += 1

    def _parents(self, level: int, start: int, end: int) -> list[bytes]:
        """Nodes ``[start, end)`` of ``level``, hashed from their children one level down."""
        below = level - 1
        return [
            _node(self.node(below, 2 * j), self.node(below, 2 * j + 1)) for j in range(start, end)
        ]

    def _row(self, level: int, row: int) -> bytes:
        key = (level, row)
        cache = self._cache
        data = cache.get(key)
        if data is not None:
            cache.move_to_end(key)
            return data
        data = self._fetched.pop(key, None)
        if data is None:
            data = self._stored_rows([key]).get(key)
        if data is None:  # not stored: recompute from the level below
            first = row * TILE_WIDTH
            if level == 0:
                data = b"".join(self._leaf_hashes(first, first + TILE_WIDTH))
            else:
                data = b"".join(self._parents(level, first, first + TILE_WIDTH))
        if self._cache_rows and level:  # leaf rows are many and rarely asked twice
            self._cache[key] = data
            if len(self._cache) > self._cache_rows:
                self._cache.popitem(last=False)
        return data

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree of leaves ``[index·2^level, (index+1)·2^level)``."""
        if (index + 1) << level > self.size:
            raise ValueError(f"node ({level}, {index}) is not complete in a tree of {self.size}")
        row, offset = index >> TILE_HEIGHT, index & (TILE_WIDTH - 1)
        if row == self.size >> (level + TILE_HEIGHT):
            data = self._open[level]
        else:
            data = self._row(level, row)
        return data[32 * offset : 32 * offset + 32]

    def range_hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves ``[lo, hi)`` where ``lo`` is aligned to a power of two ≥ ``hi - lo``
        (every subtree a proof names is): complete aligned nodes, folded right to left."""
        width = hi - lo
        if width & (width - 1) == 0:  # one complete node: what almost every proof step is
            level = width.bit_length() - 1
            return self.node(level, lo >> level)
        parts: list[bytes] = []
        at = lo
        for level in range(width.bit_length() - 1, -1, -1):
            if width >> level & 1:
                parts.append(self.node(level, at >> level))
                at += 1 << level
        h = parts.pop()
        while parts:
            h = _node(parts.pop(), h)
        return h

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return _EMPTY_ROOT if size == 0 else self.range_hash(0, size)

    # -- proofs -------------------------------------------------------------------------------
    def _prove(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        """The hashes of a proof's subtrees: split each into its complete aligned nodes, read
        the stored rows they lie in that are not cached with one query, then hash."""
        size = self.size
        split: list[list[tuple[int, int]]] = []
        wanted: set[tuple[int, int]] = set()
        for lo, hi in ranges:
            width, at = hi - lo, lo
            nodes = []
            for level in range(width.bit_length() - 1, -1, -1):
                if width >> level & 1:
                    nodes.append((level, at >> level))
                    row = at >> (level + TILE_HEIGHT)
                    if row != size >> (level + TILE_HEIGHT):  # not the open right edge
                        wanted.add((level, row))
                    at += 1 << level
            split.append(nodes)
        cache = self._cache
        missing = sorted(key for key in wanted if key not in cache)
        if missing:
            self._fetched = self._stored_rows(missing)
        node = self.node
        proof = []
        try:
            for nodes in split:
                h = node(*nodes.pop())
                while nodes:  # a subtree on the right edge: fold its nodes right to left
                    h = _node(node(*nodes.pop()), h)
                proof.append(h)
        finally:
            self._fetched = {}
        return proof

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 audit path of leaf ``index`` in the tree at ``size``: one read of
        the O(log n) rows holding its hashes."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"need 0 <= index < size <= {self.size}, got {index}, {size}")
        return self._prove(_inclusion_ranges(index, size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof that the tree at ``new_size`` extends the one at
        ``old_size``."""
        new_size = self.size if new_size is None else new_size
        if not 0 < old_size <= new_size <= self.size:
            raise ValueError(f"need 0 < old_size <= new_size <= {self.size}")
        return self._prove(_consistency_ranges(old_size, new_size))
