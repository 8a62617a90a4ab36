"""Stored full-subtree hashes (C2SP tlog-tiles layout): proofs from them equal the RFC 9162
proofs from the leaves, the ledger stores them with its batches, the audit catches an altered,
removed or foreign row, and the static export is checked here by a client written from the
C2SP spec alone (no dxsim code but SHA-256 and the signed note)."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Store, audit, merkle, open_checkpoint
from ledger.audit import log_verifier_key
from ledger.errors import StoreError
from ledger.tile_export import export_tiles
from ledger.tiles import TILE_WIDTH, TileHashes, TileWriter, tile_path
from tests.ledger.helpers import small_ledger


def leaves(n: int) -> list[bytes]:
    return [b"entry %d" % i for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 1400), st.data())
def test_proofs_from_stored_hashes_equal_the_rfc_proofs(n: int, data: st.DataObject) -> None:
    raw = leaves(n)
    tree = TileHashes.in_memory([merkle.leaf_hash(leaf) for leaf in raw])
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    assert tree.root(size) == merkle.root(raw[:size])
    assert tree.inclusion_proof(index, size) == merkle.inclusion_proof(raw[:size], index)
    old = data.draw(st.integers(1, size), label="old")
    assert tree.consistency_proof(old, size) == merkle.consistency_proof(raw, old, size)


def test_rows_are_the_complete_aligned_subtrees() -> None:
    raw = leaves(3 * TILE_WIDTH * 2 + 17)
    writer = TileWriter()
    writer.extend(merkle.leaf_hash(leaf) for leaf in raw)
    rows = {(k, i): data for k, i, data in writer.full}
    # 1,553 leaves: 6 full rows of level 0, 776 nodes of level 1 (3 rows), 388 of level 2 (1)
    assert sorted(rows) == [*((0, i) for i in range(6)), (1, 0), (1, 1), (1, 2), (2, 0)]
    for (level, index), data in rows.items():
        for j in range(TILE_WIDTH):
            first = ((index * TILE_WIDTH) + j) << level
            expected = merkle.root(raw[first : first + (1 << level)])
            assert data[32 * j : 32 * j + 32] == expected


def test_tile_paths_follow_the_c2sp_encoding() -> None:
    assert tile_path(0, 0) == "tile/0/000"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(4, 1234067, 8) == "tile/4/x001/x234/067.p/8"
    assert tile_path("entries", 1234067, 8) == "tile/entries/x001/x234/067.p/8"
    assert tile_path(1, 1000) == "tile/1/x001/000"


def ledger_file(tmp_path: Path, entries: int = 1500) -> Path:
    path = tmp_path / "ledger.db"
    small_ledger(str(path), entries=entries, checkpoint_every=512)
    return path


def test_a_written_ledger_stores_its_rows_and_proves_from_them(tmp_path: Path) -> None:
    path = ledger_file(tmp_path)
    store = Store(path)
    try:
        raw = [row[4] for chunk in store.iter_rows() for row in chunk]
        tree = store.tile_hashes()
        assert tree.size == len(raw)
        writer = TileWriter()
        writer.extend(merkle.leaf_hash(leaf) for leaf in raw)
        assert list(store.iter_tiles()) == sorted(writer.full)
        assert tree.root() == merkle.root(raw)
        for index in (0, 255, 256, 1000, len(raw) - 1):
            assert tree.inclusion_proof(index) == merkle.inclusion_proof(raw, index)
    finally:
        store.close()


def alter(path: Path, sql: str) -> None:
    connection = sqlite3.connect(path)
    connection.execute(sql)
    connection.commit()
    connection.close()


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "update merkle_tiles set hashes = zeroblob(8192) where tree_level = 0 and idx = 2",
            "Merkle tile row (level 0, index 2) does not match the entries 512..767",
        ),
        ("delete from merkle_tiles where tree_level = 1", "(level 1, index 0) is missing"),
        (
            "insert into merkle_tiles values (5, 9, zeroblob(8192))",
            "(level 5, index 9) is not of this log",
        ),
    ],
)
def test_the_audit_catches_a_bad_row(tmp_path: Path, sql: str, reason: str) -> None:
    path = ledger_file(tmp_path)
    alter(path, sql)
    report = audit(path)
    assert not report.ok and report.first_bad is not None
    assert reason in report.first_bad.reason


def test_a_ledger_without_rows_still_proves_and_verifies(tmp_path: Path) -> None:
    path = ledger_file(tmp_path, entries=700)
    alter(path, "drop table merkle_tiles")  # as written before tiles existed
    store = Store(path)
    try:
        assert not store.has_tiles
        raw = [row[4] for chunk in store.iter_rows() for row in chunk]
        assert store.tile_hashes().inclusion_proof(300) == merkle.inclusion_proof(raw, 300)
    finally:
        store.close()
    assert audit(path).ok


@pytest.mark.parametrize("damage", ["'not hashes'", "NULL", "zeroblob(100)"])
def test_a_proof_over_a_damaged_row_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    path = ledger_file(tmp_path, entries=700)
    connection = sqlite3.connect(path)
    connection.executescript(  # a row whose hashes are not a blob at all
        "create table t as select * from merkle_tiles; drop table merkle_tiles;"
        " create table merkle_tiles (tree_level integer, idx integer, hashes,"
        " primary key (tree_level, idx)); insert into merkle_tiles select * from t;"
        f" drop table t; update merkle_tiles set hashes = {damage} where tree_level = 0;"
    )
    connection.close()
    store = Store(path)
    try:
        with pytest.raises(StoreError, match=r"Merkle tile.* (is damaged|the database is damaged)"):
            store.tile_hashes().inclusion_proof(300)
    finally:
        store.close()


# -- a tlog-tiles client, from the spec -----------------------------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return _sha(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:]))


def _index_path(n: int) -> str:
    groups = f"{n:03d}" if n < 1000 else None
    if groups is not None:
        return groups
    parts = []
    while n:
        parts.append(f"{n % 1000:03d}")
        n //= 1000
    parts.reverse()
    return "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])


def _fetch(root: Path, level: str, index: int, width: int) -> bytes:
    name = f"tile/{level}/{_index_path(index)}" + ("" if width == 256 else f".p/{width}")
    return (root / name).read_bytes()


def test_the_static_export_is_a_tlog_tiles_log_a_client_verifies(tmp_path: Path) -> None:
    path = ledger_file(tmp_path, entries=1500)
    store = Store(path)
    try:
        export_tiles(store, tmp_path / "log", log_verifier_key(store))
        key = log_verifier_key(store)
    finally:
        store.close()
    site = tmp_path / "log"
    note = (site / "checkpoint").read_text()
    signed = open_checkpoint(note, key)  # the signature; the body is parsed here by hand
    origin, size_line, root_line = note.split("\n")[:3]
    size, root = int(size_line), base64.b64decode(root_line)
    assert (origin, size, root) == (signed.origin, signed.size, signed.root)
    # Entry bundles: uint16 length-prefixed entries; their RFC 6962 leaf hashes are level 0.
    level_hashes: list[bytes] = []
    for n in range(0, size, 256):
        width = min(256, size - n)
        bundle = _fetch(site, "entries", n // 256, width)
        tile = _fetch(site, "0", n // 256, width)
        at, hashes = 0, []
        while at < len(bundle):
            length = int.from_bytes(bundle[at : at + 2], "big")
            hashes.append(_sha(b"\x00" + bundle[at + 2 : at + 2 + length]))
            at += 2 + length
        assert len(hashes) == width and b"".join(hashes) == tile
        level_hashes += hashes
    assert _mth(level_hashes) == root
    # Tile level 1 holds the roots of each 256-leaf subtree.
    count = size // 256
    upper = _fetch(site, "1", 0, count)
    for j in range(count):
        assert upper[32 * j : 32 * j + 32] == _mth(level_hashes[256 * j : 256 * j + 256])
