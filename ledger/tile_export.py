"""Export a ledger as a static C2SP tlog-tiles log (https://c2sp.org/tlog-tiles).

The directory holds what a tlog-tiles client fetches: ``checkpoint`` (the log's signed note
for the exported size, byte for byte as stored: it is already a C2SP ``tlog-checkpoint``),
``tile/L/N`` (full tiles: the 256 hashes of tree level ``8L`` at index ``256N``...),
``tile/L/N.p/W`` (the partial right-edge tile of ``W`` hashes) and ``tile/entries/N[.p/W]``
(entry bundles: each leaf as a big-endian uint16 length then its bytes). A leaf's Merkle hash
is RFC 9162's ``SHA-256(0x00 ‖ leaf)``, so a client can check every entry it reads against the
signed root. Served as static files, the log needs no dxsim to be audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.checkpoint import open_checkpoint
from ledger.errors import LedgerError
from ledger.merkle import MerkleTree, leaf_hash
from ledger.store import Store
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, TileRow, TileWriter, tile_path

__all__ = ["TileExport", "export_tiles"]

_MAX_ENTRY = 0xFFFF  # an entry bundle prefixes each entry with a uint16 length


@dataclass(frozen=True)
class TileExport:
    size: int
    tiles: int
    bundles: int
    root: bytes


def export_tiles(store: Store, out: Path, verifier_key: str) -> TileExport:
    """Write the static log of ``store`` at its latest signed checkpoint into ``out`` (new).

    The checkpoint is opened with ``verifier_key`` first, and the tiles written must give its
    root: an export is never of a tree the log did not sign.

    Raises:
        LedgerError: no checkpoint, an entry too long for a bundle, or tiles that do not give
            the signed root (a damaged ledger: run ``dxsim verify``).
    """
    notes = store.checkpoints()
    if not notes:
        raise LedgerError("the ledger has no checkpoint to export")
    size, note = notes[-1]
    signed = open_checkpoint(note, verifier_key)
    if size > store.count():
        raise LedgerError(f"the checkpoint covers {size} entries but {store.count()} are stored")
    out.mkdir(parents=True, exist_ok=False)
    (out / "checkpoint").write_text(note, encoding="utf-8")
    # The tiles are recomputed from the entries as they are bundled, not copied from the
    # stored rows: what is published follows from the entries alone.
    writer = TileWriter()
    tree = MerkleTree(leaf_hashes=lambda _start, _end: [])  # the root only: O(log n)
    tiles = bundles = 0
    for start in range(0, size, TILE_WIDTH):
        end = min(size, start + TILE_WIDTH)
        parts = []
        for leaf in store.leaves(start, end):
            if len(leaf) > _MAX_ENTRY:
                raise LedgerError(f"an entry of {len(leaf)} bytes does not fit a bundle")
            parts.append(len(leaf).to_bytes(2, "big") + leaf)
            digest = leaf_hash(leaf)
            writer.append(digest)
            tree.append_leaf_hash(digest)
        _write(out / tile_path("entries", start // TILE_WIDTH, end - start), b"".join(parts))
        bundles += 1
        tiles += _write_tiles(out, writer.full)
        writer.full = []
    partial = [(k, i, b"".join(hs)) for k, (i, hs) in writer.open_rows().items()]
    tiles += _write_tiles(out, partial)
    if tree.root() != signed.root:
        raise LedgerError("the entries do not give the checkpoint's root: dxsim verify the ledger")
    return TileExport(size=size, tiles=tiles, bundles=bundles, root=signed.root)


def _write_tiles(out: Path, rows: list[TileRow]) -> int:
    """Write the rows of tree levels 0, 8, 16...: the C2SP tiles (the others are inner)."""
    written = 0
    for level, index, data in rows:
        if level % TILE_HEIGHT == 0:
            _write(out / tile_path(level // TILE_HEIGHT, index, len(data) // 32), data)
            written += 1
    return written


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:
        handle.write(data)
