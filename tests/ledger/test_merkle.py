"""Tests for ``ledger.merkle``: published RFC 6962 vectors, properties, and spec edge cases.

The known-answer vectors are copied (data only) from independent Certificate Transparency test
suites, so agreement with them means agreement with every other RFC 6962 implementation; the
property tests then check the same invariants on random trees of every small size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import (
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)


def _h(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr)


# -- known-answer vectors ---------------------------------------------------------------------
#
# Leaf inputs, node hashes, roots for sizes 0..8 and the empty-tree hash: from
#   transparency-dev/merkle, testonly/constants.go (LeafInputs, NodeHashes, RootHashes,
#   EmptyRootHash), commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1.
# The same inputs and roots appear in google/certificate-transparency,
#   cpp/merkletree/merkle_tree_test.cc (kInputs, kSHA256Roots, kSHA256EmptyTreeHash).

LEAF_INPUTS = [
    _h(""),
    _h("00"),
    _h("10"),
    _h("2021"),
    _h("3031"),
    _h("40414243"),
    _h("5051525354555657"),
    _h("606162636465666768696a6b6c6d6e6f"),
]

EMPTY_ROOT = _h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

# NODE_HASHES[level][index]: hash of the perfect subtree of 2**level leaves at that position.
NODE_HASHES = [
    [
        _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        _h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        _h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        _h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        _h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        _h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        _h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        _h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        _h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# ROOTS[n] is the root of the tree of the first n LEAF_INPUTS.
ROOTS = [
    EMPTY_ROOT,
    _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    _h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    _h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    _h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    _h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    _h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# (index, size, proof), 0-based index. From transparency-dev/merkle, testonly/reference_test.go
# (TestRefInclusionProof), commit 141d627eab770a7e9a2514f46a8b6338e6d90874; the 1-based
# {leaf, size} entries of proof/verify_test.go (inclusionProofs) and of google/certificate-
# transparency cpp/merkletree/merkle_tree_test.cc (kSHA256Paths) are the same proofs.
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (0, 2, [_h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")]),
    (1, 2, [_h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]),
    (2, 3, [_h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            _h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        0,
        8,
        [
            _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            _h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# (old_size, new_size, proof). From transparency-dev/merkle, testonly/reference_test.go
# (TestRefConsistencyProof), commit 141d627eab770a7e9a2514f46a8b6338e6d90874, plus the (6, 7)
# entry of proof/verify_test.go (consistencyProofs), commit
# 02194e9afb6c1d95b5381350007963aa70fff472. google/certificate-transparency
# cpp/merkletree/merkle_tree_test.cc (kSHA256Proofs) has the same first four.
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            _h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        2,
        5,
        [
            _h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            _h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        8,
        [
            _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            _h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        6,
        7,
        [
            _h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            _h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            _h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# Proof *structures* from transparency-dev/merkle, proof/proof_test.go (TestInclusion,
# TestConsistency), commit 02a3e2029520f515596d5238c54fb0ac9e19bff4, which name proof nodes as
# compact.NewNodeID(level, index) over the same 8-leaf tree; here each (level, index) is looked
# up in NODE_HASHES above. "L7" is that file's "l=hash(i,j)": the right half of the size-7 tree,
# HashChildren(id(1, 2), id(0, 6)), which is not a perfect subtree and so not in NODE_HASHES.
_Node = tuple[int, int] | str

INCLUSION_STRUCTURES: list[tuple[int, int, list[_Node]]] = [
    (0, 2, [(0, 1)]),
    (1, 2, [(0, 0)]),
    (1, 3, [(0, 0), (0, 2)]),
    (0, 7, [(0, 1), (1, 1), "L7"]),
    (1, 7, [(0, 0), (1, 1), "L7"]),
    (2, 7, [(0, 3), (1, 0), "L7"]),
    (3, 7, [(0, 2), (1, 0), "L7"]),
    (4, 7, [(0, 5), (0, 6), (2, 0)]),
    (5, 7, [(0, 4), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (2, 0)]),
    (2, 4, [(0, 3), (1, 0)]),
    (3, 5, [(0, 2), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (1, 0), (1, 2)]),
    (4, 6, [(0, 5), (2, 0)]),
]

CONSISTENCY_STRUCTURES: list[tuple[int, int, list[_Node]]] = [
    (1, 2, [(0, 1)]),
    (1, 4, [(0, 1), (1, 1)]),
    (1, 6, [(0, 1), (1, 1), (1, 2)]),
    (2, 3, [(0, 2)]),
    (2, 8, [(1, 1), (2, 1)]),
    (3, 7, [(0, 2), (0, 3), (1, 0), "L7"]),
    (4, 7, ["L7"]),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (0, 6), (2, 0)]),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)]),
    (2, 4, [(1, 1)]),
    (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)]),
    (4, 6, [(1, 2)]),
    (1, 7, [(0, 1), (1, 1), "L7"]),
    *[(n, n, []) for n in range(1, 9)],
]


def _resolve(nodes: list[_Node]) -> list[bytes]:
    out = []
    for node in nodes:
        if node == "L7":
            out.append(node_hash(NODE_HASHES[1][2], NODE_HASHES[0][6]))
        else:
            assert isinstance(node, tuple)
            out.append(NODE_HASHES[node[0]][node[1]])
    return out


def _trees(leaves: Sequence[bytes]) -> list[MerkleTree]:
    """The same leaves in both MerkleTree modes: in-memory and frontier + leaf-hash source."""
    memory = MerkleTree()
    hashes: list[bytes] = []
    sourced = MerkleTree(leaf_hashes=lambda a, b: hashes[a:b])
    for data in leaves:
        memory.append(data)
        hashes.append(leaf_hash(data))
        sourced.append(data)
    return [memory, sourced]


def test_empty_tree_root() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert subtree_root([]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT
    assert MerkleTree(leaf_hashes=lambda a, b: []).root() == EMPTY_ROOT


def test_leaf_and_node_hashes_match_vectors() -> None:
    level0 = [leaf_hash(d) for d in LEAF_INPUTS]
    assert level0 == NODE_HASHES[0]
    for level in range(1, 4):
        below = NODE_HASHES[level - 1]
        for i, want in enumerate(NODE_HASHES[level]):
            assert node_hash(below[2 * i], below[2 * i + 1]) == want


@pytest.mark.parametrize("size", range(9))
def test_roots_match_vectors(size: int) -> None:
    assert root(LEAF_INPUTS[:size]) == ROOTS[size]
    assert subtree_root(NODE_HASHES[0][:size]) == ROOTS[size]
    for tree in _trees(LEAF_INPUTS[:size]):
        assert tree.size == size
        assert tree.root() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(LEAF_INPUTS[:size], index) == proof
    for tree in _trees(LEAF_INPUTS):
        assert tree.inclusion_proof(index, size) == proof
    assert verify_inclusion(NODE_HASHES[0][index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("index", "size", "nodes"), INCLUSION_STRUCTURES)
def test_inclusion_structures(index: int, size: int, nodes: list[_Node]) -> None:
    proof = _resolve(nodes)
    assert inclusion_proof(LEAF_INPUTS[:size], index) == proof
    for tree in _trees(LEAF_INPUTS):
        assert tree.inclusion_proof(index, size) == proof
    assert verify_inclusion(NODE_HASHES[0][index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(LEAF_INPUTS, old, new) == proof
    for tree in _trees(LEAF_INPUTS):
        assert tree.consistency_proof(old, new) == proof
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("old", "new", "nodes"), CONSISTENCY_STRUCTURES)
def test_consistency_structures(old: int, new: int, nodes: list[_Node]) -> None:
    proof = _resolve(nodes)
    assert consistency_proof(LEAF_INPUTS, old, new) == proof
    for tree in _trees(LEAF_INPUTS):
        assert tree.consistency_proof(old, new) == proof
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def test_vector_proofs_reject_upstream_corruptions() -> None:
    """The corruption probes of transparency-dev/merkle proof/verify_test.go, on its vectors."""
    some_hash = _h("abacaba000000000000000000000000000000000000000000060061e00123456")
    for index, size, proof in INCLUSION_VECTORS[1:]:
        lh, rt = NODE_HASHES[0][index], ROOTS[size]
        probes: list[tuple[bytes, int, int, list[bytes], bytes]] = [
            (lh, index - 1, size, proof, rt),
            (lh, index + 1, size, proof, rt),
            (lh, index ^ 2, size, proof, rt),
            (lh, index, size * 2, proof, rt),
            (lh, index, size // 2, proof, rt),
            (b"WrongLeaf", index, size, proof, rt),
            (lh, index, size, proof, EMPTY_ROOT),
            (lh, index, size, proof, some_hash),
            (lh, index, size, [*proof, b""], rt),
            (lh, index, size, [*proof, rt], rt),
            (lh, index, size, [b"", *proof], rt),
            (lh, index, size, [rt, *proof], rt),
        ]
        if proof:
            probes.append((lh, index, size, proof[:-1], rt))
        if len(proof) > 1:
            probes.append((lh, index, size, [proof[0], some_hash, *proof[1:]], rt))
        for i in range(len(proof)):
            bad = list(proof)
            bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
            probes.append((lh, index, size, bad, rt))
        for probe in probes:
            assert not verify_inclusion(*probe), (index, size, probe)

    for old, new, proof in CONSISTENCY_VECTORS[1:]:
        r1, r2 = ROOTS[old], ROOTS[new]
        cprobes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
            (old - 1, new, r1, r2, proof),
            (old + 1, new, r1, r2, proof),
            (old ^ 2, new, r1, r2, proof),
            (old, new * 2, r1, r2, proof),
            (old, new // 2, r1, r2, proof),
            (old, new, b"WrongRoot", r2, proof),
            (old, new, r1, b"WrongRoot", proof),
            (old, new, r2, r1, proof),
            (old, new, r1, r2, []),
            (old, new, r1, r2, [*proof, b""]),
            (old, new, r1, r2, [*proof, r1]),
            (old, new, r1, r2, [*proof, r2]),
            (old, new, r1, r2, [b"", *proof]),
            (old, new, r1, r2, [r1, *proof]),
            (old, new, r1, r2, [r2, *proof]),
            (old, new, r1, r2, [proof[0], *proof]),
            (old, new, r1, r2, proof[:-1]),
        ]
        for i in range(len(proof)):
            bad = list(proof)
            bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
            cprobes.append((old, new, r1, r2, bad))
        for cprobe in cprobes:
            assert not verify_consistency(*cprobe), (old, new, cprobe)


# -- spec edge cases ----------------------------------------------------------------------------

R = ROOTS[5]


def test_consistency_from_zero() -> None:
    with pytest.raises(ValueError):
        consistency_proof(LEAF_INPUTS, 0, 3)
    for tree in _trees(LEAF_INPUTS):
        with pytest.raises(ValueError):
            tree.consistency_proof(0)
    # Any tree extends the empty one: true with an empty proof, whatever the roots.
    assert verify_consistency(0, 5, EMPTY_ROOT, R, [])
    assert verify_consistency(0, 5, b"", b"", [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, R, [R])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, R, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])


def test_consistency_equal_sizes() -> None:
    assert consistency_proof(LEAF_INPUTS, 5, 5) == []
    assert verify_consistency(5, 5, R, R, [])
    assert not verify_consistency(5, 5, R, ROOTS[4], [])
    assert not verify_consistency(5, 5, R, R, [R])
    assert not verify_consistency(5, 5, b"short", b"short", [])


def test_consistency_bad_sizes() -> None:
    for old, new in [(3, 2), (1, 9), (-1, 3), (2, -1)]:
        with pytest.raises(ValueError):
            consistency_proof(LEAF_INPUTS, old, new)
    tree = _trees(LEAF_INPUTS)[1]
    for old_size, new_size in [(3, 2), (1, 9), (-1, None), (9, None)]:
        with pytest.raises(ValueError):
            tree.consistency_proof(old_size, new_size)
    assert tree.consistency_proof(3) == consistency_proof(LEAF_INPUTS, 3, 8)
    proof = consistency_proof(LEAF_INPUTS, 2, 5)
    assert not verify_consistency(5, 2, ROOTS[5], ROOTS[2], proof)  # time travel
    assert not verify_consistency(2, 1, ROOTS[2], ROOTS[1], [])
    assert not verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])  # empty proof, sizes differ
    assert not verify_consistency(-2, 5, ROOTS[2], ROOTS[5], proof)
    assert not verify_consistency(2, -5, ROOTS[2], ROOTS[5], proof)
    assert not verify_consistency(2, 2**80, ROOTS[2], ROOTS[5], proof)


def test_inclusion_bad_arguments() -> None:
    with pytest.raises(ValueError):
        inclusion_proof([], 0)
    for index in (-1, 8):
        with pytest.raises(ValueError):
            inclusion_proof(LEAF_INPUTS, index)
    for tree in _trees(LEAF_INPUTS):
        assert tree.inclusion_proof(3) == inclusion_proof(LEAF_INPUTS, 3)
        for index, size in [(-1, None), (8, None), (3, 3), (0, 9), (0, 0)]:
            with pytest.raises(ValueError):
                tree.inclusion_proof(index, size)
    lh = NODE_HASHES[0][0]
    # Single-entry tree: the leaf hash is the root; the empty proof only verifies at (0, 1).
    assert verify_inclusion(lh, 0, 1, [], lh)
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1), (0, -1), (2**70, 2**70)]:
        assert not verify_inclusion(lh, index, size, [], lh)
    assert not verify_inclusion(b"", 0, 1, [], b"")


def test_verifiers_raise_only_for_wrong_types() -> None:
    lh = NODE_HASHES[0][1]
    proof = INCLUSION_VECTORS[5][2]
    # Bytes-likes and any int-like sequence/size types are accepted.
    assert verify_inclusion(
        bytearray(NODE_HASHES[0][0]),  # type: ignore[arg-type]
        0,
        8,
        tuple(memoryview(p) for p in proof),  # type: ignore[misc]
        ROOTS[8],
    )
    assert verify_inclusion(NODE_HASHES[0][0], 0, 8, proof, bytearray(ROOTS[8]))  # type: ignore[arg-type]
    bad_inclusion = [
        ("x" * 32, 0, 8, proof, ROOTS[8]),
        (lh, 0.0, 8, proof, ROOTS[8]),
        (lh, 0, 8.0, proof, ROOTS[8]),
        (lh, True, 8, proof, ROOTS[8]),
        (lh, "0", 8, proof, ROOTS[8]),
        (lh, 0, 8, [*proof[:2], "x" * 32], ROOTS[8]),
        (lh, 0, 8, b"".join(proof), ROOTS[8]),
        (lh, 0, 8, None, ROOTS[8]),
        (lh, 0, 8, proof, ROOTS[8].hex()),
        (lh, 0, 8, proof, None),
    ]
    for args in bad_inclusion:
        with pytest.raises(ValueError):
            verify_inclusion(*args)  # type: ignore[arg-type]
    cproof = CONSISTENCY_VECTORS[2][2]
    bad_consistency = [
        (2.0, 5, ROOTS[2], ROOTS[5], cproof),
        (2, 5.5, ROOTS[2], ROOTS[5], cproof),
        (2, 5, "root", ROOTS[5], cproof),
        (2, 5, ROOTS[2], None, cproof),
        (2, 5, ROOTS[2], ROOTS[5], [cproof[0], 7]),
        (2, 5, ROOTS[2], ROOTS[5], cproof[0]),
        (0, 5, ROOTS[2], ROOTS[5], "abc"),
    ]
    for cargs in bad_consistency:
        with pytest.raises(ValueError):
            verify_consistency(*cargs)  # type: ignore[arg-type]


def test_generators_and_tree_reject_wrong_types() -> None:
    for call in (
        lambda: root(["a"]),  # type: ignore[list-item]
        lambda: root(b"abc"),  # type: ignore[arg-type]
        lambda: leaf_hash("abc"),  # type: ignore[arg-type]
        lambda: node_hash(b"a", None),  # type: ignore[arg-type]
        lambda: inclusion_proof(LEAF_INPUTS, 1.0),  # type: ignore[arg-type]
        lambda: consistency_proof(LEAF_INPUTS, 1, "2"),  # type: ignore[arg-type]
        lambda: subtree_root([b"short"]),
        lambda: MerkleTree().append("text"),  # type: ignore[arg-type]
        lambda: MerkleTree().append_leaf_hash(b"\x00" * 31),
        lambda: MerkleTree().append_leaf_hash("x" * 32),  # type: ignore[arg-type]
        lambda: MerkleTree.from_leaf_hashes([b"\x00" * 33]),
    ):
        with pytest.raises(ValueError):
            call()


def test_tree_basics() -> None:
    tree = MerkleTree()
    assert tree.size == 0
    assert [tree.append(d) for d in LEAF_INPUTS[:3]] == [0, 1, 2]
    assert tree.append_leaf_hash(bytearray(NODE_HASHES[0][3])) == 3  # type: ignore[arg-type]
    assert tree.size == 4
    assert tree.root() == ROOTS[4]
    rebuilt = MerkleTree.from_leaf_hashes(iter(NODE_HASHES[0]))
    assert rebuilt.size == 8
    assert rebuilt.root() == ROOTS[8]
    assert rebuilt.inclusion_proof(5) == INCLUSION_VECTORS[6][2]


def test_sourced_tree_reads_only_for_proofs() -> None:
    """With a source, root() and appends never read leaves; proofs read what they need."""
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(100)]
    calls: list[tuple[int, int]] = []

    def source(start: int, end: int) -> list[bytes]:
        calls.append((start, end))
        return hashes[start:end]

    tree = MerkleTree.from_leaf_hashes(hashes, leaf_hashes=source)
    assert tree.root() == subtree_root(hashes)
    assert calls == []
    # 100 = 64 + 32 + 4: the frontier holds those three subtrees' hashes.
    assert len(tree._frontier) == bin(100).count("1")
    # Leaf 99 only needs leaf 98's hash and frontier subtrees [0, 64) and [64, 96).
    assert tree.inclusion_proof(99) == inclusion_proof(
        [i.to_bytes(4, "big") for i in range(100)], 99
    )
    assert sum(end - start for start, end in calls) == 3


def test_sourced_tree_checks_source_length() -> None:
    tree = MerkleTree.from_leaf_hashes(NODE_HASHES[0], leaf_hashes=lambda a, b: [])
    assert tree.root() == ROOTS[8]
    with pytest.raises(ValueError):
        tree.inclusion_proof(0)


def test_chunked_reads_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proofs over ranges bigger than one read block hash the blocks as subtrees."""
    monkeypatch.setattr(merkle, "_READ_CHUNK", 4)
    leaves = [i.to_bytes(2, "big") for i in range(45)]
    for tree in _trees(leaves):
        for index in (0, 17, 44):
            for size in (index + 1, 33, 45):
                if index < size:
                    assert tree.inclusion_proof(index, size) == inclusion_proof(
                        leaves[:size], index
                    )
        for old in (1, 5, 16, 31):
            assert tree.consistency_proof(old, 45) == consistency_proof(leaves, old, 45)


# -- property tests ------------------------------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=6), min_size=1, max_size=33)
# Distinct leaves for the rejection tests: a repeated leaf legitimately verifies at each of its
# positions, which would make "another index is rejected" false for reasons unrelated to proofs.
unique_leaf_lists = st.lists(st.binary(max_size=6), min_size=1, max_size=33, unique=True)


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _inclusion_shape(index: int, size: int) -> tuple[str, ...]:
    """Sides of the audit path per the recursive RFC 9162 §2.1.3.1 definition (leaf first)."""
    if size <= 1:
        return ()
    k = _split(size)
    if index < k:
        return (*_inclusion_shape(index, k), "R")
    return (*_inclusion_shape(index - k, size - k), "L")


def _consistency_shape(m: int, n: int, whole: bool = True) -> tuple[object, ...]:
    """Structure of SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1, oldest-level first."""
    if m == n:
        return ("known",) if whole else ("given",)
    k = _split(n)
    if m <= k:
        return (*_consistency_shape(m, k, whole), "R")
    return (*_consistency_shape(m - k, n - k, False), "L")


def _flip(b: bytes, bit: int) -> bytes:
    i, j = divmod(bit % (len(b) * 8), 8)
    return b[:i] + bytes([b[i] ^ (1 << j)]) + b[i + 1 :]


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists)
def test_every_inclusion_proof_verifies(leaves: list[bytes]) -> None:
    n = len(leaves)
    rt = root(leaves)
    for index in range(n):
        proof = inclusion_proof(leaves, index)
        assert len(proof) == len(_inclusion_shape(index, n))
        assert verify_inclusion(leaf_hash(leaves[index]), index, n, proof, rt)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists)
def test_every_consistency_proof_verifies(leaves: list[bytes]) -> None:
    n = len(leaves)
    new_root = root(leaves)
    for m in range(1, n + 1):
        proof = consistency_proof(leaves, m, n)
        assert verify_consistency(m, n, root(leaves[:m]), new_root, proof)


@settings(max_examples=25, deadline=None)
@given(leaves=st.lists(st.binary(max_size=4), min_size=1, max_size=20))
def test_incremental_tree_matches_list_functions(leaves: list[bytes]) -> None:
    memory = MerkleTree()
    hashes: list[bytes] = []
    sourced = MerkleTree(leaf_hashes=lambda a, b: hashes[a:b])
    for k, data in enumerate(leaves, start=1):
        assert memory.append(data) == k - 1
        hashes.append(leaf_hash(data))
        assert sourced.append_leaf_hash(hashes[-1]) == k - 1
        want = root(leaves[:k])
        assert memory.root() == sourced.root() == want
        assert memory.size == sourced.size == k
        assert len(sourced._frontier) == bin(k).count("1")
    n = len(leaves)
    rebuilt = MerkleTree.from_leaf_hashes(hashes)
    assert rebuilt.root() == memory.root()
    for size in range(1, n + 1):
        prefix = leaves[:size]
        for index in range(size):
            want_p = inclusion_proof(prefix, index)
            assert memory.inclusion_proof(index, size) == want_p
            assert sourced.inclusion_proof(index, size) == want_p
        want_c = consistency_proof(leaves, size, n)
        assert memory.consistency_proof(size) == want_c
        assert sourced.consistency_proof(size, n) == want_c


@settings(max_examples=80, deadline=None)
@given(leaves=unique_leaf_lists, data=st.data())
def test_inclusion_mutations_are_rejected(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(leaves, index)
    rt = root(leaves)
    lh = leaf_hash(leaves[index])
    assert verify_inclusion(lh, index, n, proof, rt)
    bit = data.draw(st.integers(0, 255), label="bit")
    # Any single-bit change to the leaf hash, the root or one proof element.
    assert not verify_inclusion(_flip(lh, bit), index, n, proof, rt)
    assert not verify_inclusion(lh, index, n, proof, _flip(rt, bit))
    for i in range(len(proof)):
        bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
        assert not verify_inclusion(lh, index, n, bad, rt)
    # Missing or extra elements.
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    if proof:
        assert not verify_inclusion(lh, index, n, proof[:-1], rt)
        assert not verify_inclusion(lh, index, n, proof[1:], rt)
    assert not verify_inclusion(lh, index, n, [*proof, extra], rt)
    assert not verify_inclusion(lh, index, n, [extra, *proof], rt)
    # Any other index of the same tree, and out-of-range ones.
    for other in (*range(n), -1, n, 2**64):
        if other != index:
            assert not verify_inclusion(lh, other, n, proof, rt)
    # Another size: an RFC 9162 audit path only fixes the size as far as its shape does (the
    # signed checkpoint binds root to size), so it verifies exactly when the shape is the same.
    for size in (n - 1, n + 1, 2 * n, n // 2, n + 2**40):
        if size != n and size > index:
            same = _inclusion_shape(index, size) == _inclusion_shape(index, n)
            assert verify_inclusion(lh, index, size, proof, rt) == same
    # Garbage never raises.
    assert not verify_inclusion(lh, index, -n, proof, rt)
    if proof:
        assert not verify_inclusion(lh, index, n, [p[:31] for p in proof], rt)
    assert not verify_inclusion(lh, index, n, [*proof, b""], rt)
    assert not verify_inclusion(lh[:31], index, n, proof, rt)
    assert not verify_inclusion(lh, index, n, proof, rt + b"\x00")


@settings(max_examples=80, deadline=None)
@given(leaves=st.lists(st.binary(max_size=6), min_size=2, max_size=33, unique=True), data=st.data())
def test_consistency_mutations_are_rejected(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    m = data.draw(st.integers(1, n - 1), label="old_size")
    proof = consistency_proof(leaves, m, n)
    r1, r2 = root(leaves[:m]), root(leaves)
    assert proof
    assert verify_consistency(m, n, r1, r2, proof)
    bit = data.draw(st.integers(0, 255), label="bit")
    assert not verify_consistency(m, n, _flip(r1, bit), r2, proof)
    assert not verify_consistency(m, n, r1, _flip(r2, bit), proof)
    assert not verify_consistency(m, n, r2, r1, proof)
    for i in range(len(proof)):
        bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
        assert not verify_consistency(m, n, r1, r2, bad)
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    assert not verify_consistency(m, n, r1, r2, proof[:-1])
    assert not verify_consistency(m, n, r1, r2, proof[1:])
    assert not verify_consistency(m, n, r1, r2, [*proof, extra])
    assert not verify_consistency(m, n, r1, r2, [extra, *proof])
    assert not verify_consistency(m, n, r1, r2, [*proof, proof[-1]])
    assert not verify_consistency(m, n, r1, r2, [])
    # Other sizes: like inclusion, the proof binds the sizes only through its shape.
    for m2, n2 in [(m - 1, n), (m + 1, n), (m ^ 2, n), (m, n + 1), (m, n - 1), (m, 2 * n)]:
        if (m2, n2) != (m, n) and 0 < m2 < n2:
            same = _consistency_shape(m2, n2) == _consistency_shape(m, n)
            assert verify_consistency(m2, n2, r1, r2, proof) == same
    assert not verify_consistency(0, n, r1, r2, proof)
    assert not verify_consistency(m, m, r1, r2, proof)
    assert not verify_consistency(n, m, r2, r1, proof)
    assert not verify_consistency(-m, n, r1, r2, proof)
    assert not verify_consistency(m, -n, r1, r2, proof)
    assert not verify_consistency(m, n, r1, r2, [p[:31] for p in proof])
    assert not verify_consistency(m, n, r1[:31], r2, proof)
    assert not verify_consistency(m, n, r1, r2 + b"\x00", proof)


@settings(max_examples=100, deadline=None)
@given(
    leaf=st.binary(max_size=40),
    index=st.integers(-(2**70), 2**70),
    size=st.integers(-(2**70), 2**70),
    proof=st.lists(st.binary(max_size=40), max_size=6),
    rt=st.binary(max_size=40),
)
def test_inclusion_verifier_never_raises_on_garbage(
    leaf: bytes, index: int, size: int, proof: list[bytes], rt: bytes
) -> None:
    assert verify_inclusion(leaf, index, size, proof, rt) in (True, False)


@settings(max_examples=100, deadline=None)
@given(
    old=st.integers(-(2**70), 2**70),
    new=st.integers(-(2**70), 2**70),
    r1=st.binary(max_size=40),
    r2=st.binary(max_size=40),
    proof=st.lists(st.binary(max_size=40), max_size=6),
)
def test_consistency_verifier_never_raises_on_garbage(
    old: int, new: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> None:
    result = verify_consistency(old, new, r1, r2, proof)
    if old == 0 and new >= 0 and not proof and (new > 0 or (r1 == r2 and len(r1) == 32)):
        assert result is True
    elif old < 0 or new < old or (proof and old == 0) or (old == new and proof):
        assert result is False
