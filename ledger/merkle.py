"""RFC 6962 / RFC 9162 Merkle tree over SHA-256: hashing, proofs, verification, incremental tree.

The ledger commits to its entries with the Merkle Tree Hash (MTH) of RFC 6962 §2.1, restated
with the verification algorithms in RFC 9162 §2.1, so that any Certificate-Transparency-style
tooling (and any independent auditor) can check our checkpoints and proofs:

* RFC 9162 §2.1.1 (RFC 6962 §2.1): the tree hash. A leaf is hashed as
  ``SHA-256(0x00 ‖ data)`` and an interior node as ``SHA-256(0x01 ‖ left ‖ right)``; the
  domain-separation prefixes make a leaf impossible to pass off as a node (second-preimage
  resistance). An ``n``-leaf tree splits at ``k``, the largest power of two ``< n``; the empty
  tree hashes to ``SHA-256("")``.
* RFC 9162 §2.1.3.1 / §2.1.3.2 (RFC 6962 §2.1.1): inclusion proofs (audit paths) and their
  verification.
* RFC 9162 §2.1.4.1 / §2.1.4.2 (RFC 6962 §2.1.2): consistency proofs between two tree sizes
  and their verification.

All hashes are 32 raw ``bytes``; leaves are raw entry bytes.

Verifiers are meant to be fed untrusted input (proofs fetched from a log we are auditing), so
they never raise on bad *values*: a wrong proof, root, index or size, a proof of the wrong
length or with elements that are not 32 bytes all give ``False``. They raise ``ValueError``
only when an argument has the wrong Python type, which is a bug in the caller, not an attack.

:class:`MerkleTree` keeps the tree incrementally. Appending merges a "frontier" (the roots of
the perfect subtrees that make up the tree, RFC 9162's compact range) like a binary counter,
so it costs O(log n) time, amortized two SHA-256 calls, and O(log n) memory when the leaf
hashes live elsewhere (the ledger's SQL store) and are only read back to build proofs.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "LeafHashSource",
    "MerkleTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

LeafHashSource = Callable[[int, int], Sequence[bytes]]
"""Reader of stored leaf *hashes*: ``source(start, end)`` returns those of ``[start, end)``."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_HASH_SIZE = 32
_EMPTY_ROOT = _sha256(b"").digest()
# Leaf hashes are read from a LeafHashSource in aligned blocks of this many (a power of two),
# so that building a proof over a huge tree holds only one block of hashes in memory at a time.
_READ_CHUNK = 1 << 14
_BYTES_LIKE = (bytes, bytearray, memoryview)


# -- hashing --------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Hash a leaf: ``SHA-256(0x00 ‖ data)`` (RFC 9162 §2.1.1).

    Args:
        data: the raw leaf bytes (a bytes-like object).

    Returns:
        The 32-byte leaf hash.

    Raises:
        ValueError: ``data`` is not bytes-like.
    """
    try:
        return _sha256(_LEAF_PREFIX + data).digest()
    except TypeError:
        raise ValueError(f"leaf data must be bytes, not {type(data).__name__}") from None


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: ``SHA-256(0x01 ‖ left ‖ right)`` (RFC 9162 §2.1.1).

    Args:
        left: hash of the left subtree.
        right: hash of the right subtree.

    Returns:
        The 32-byte node hash.

    Raises:
        ValueError: an argument is not bytes-like.
    """
    try:
        return _sha256(_NODE_PREFIX + left + right).digest()
    except TypeError:
        raise ValueError("node children must be bytes") from None


def _mth(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-validated leaf hashes, computed level by level.

    Pairing neighbours level by level and promoting an odd last node unchanged builds exactly
    the RFC tree (split at the largest power of two below ``n``), without recursion and with
    one C-level list comprehension per level.
    """
    n = len(hashes)
    if n == 0:
        return _EMPTY_ROOT
    sha = _sha256
    prefix = _NODE_PREFIX
    level = hashes
    while n > 1:
        it = iter(level)
        nxt = [sha(prefix + a + b).digest() for a, b in zip(it, it, strict=False)]
        if n & 1:
            nxt.append(level[n - 1])
        level = nxt
        n = len(nxt)
    return level[0]


def subtree_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a tree given its leaf *hashes* rather than its leaves.

    Useful when the leaf hashes are what is stored (as in the ledger), and as the hash of any
    subtree ``[lo, hi)`` of a bigger tree as long as ``lo`` is a multiple of a power of two
    ``>= hi - lo`` (true of every subtree that appears in the RFC tree or in its proofs).

    Args:
        leaf_hashes: 32-byte leaf hashes, in leaf order.

    Returns:
        The 32-byte tree hash; ``SHA-256("")`` for an empty sequence.

    Raises:
        ValueError: an element is not bytes-like or not 32 bytes long.
    """
    return _mth(_leaf_hash_list(leaf_hashes))


def _leaf_hash_list(leaf_hashes: Iterable[bytes]) -> list[bytes]:
    """Validate and copy leaf hashes; bytes-likes are frozen to ``bytes``."""
    if isinstance(leaf_hashes, (str, *_BYTES_LIKE)):
        raise ValueError("leaf hashes must be a sequence of bytes, not a single string")
    out: list[bytes] = []
    for h in leaf_hashes:
        if type(h) is not bytes:
            if not isinstance(h, _BYTES_LIKE):
                raise ValueError(f"a leaf hash must be bytes, not {type(h).__name__}")
            h = bytes(h)
        if len(h) != _HASH_SIZE:
            raise ValueError(f"a leaf hash must be {_HASH_SIZE} bytes, got {len(h)}")
        out.append(h)
    return out


def _leaf_hashes_of(leaves: Sequence[bytes]) -> list[bytes]:
    """Hash every leaf; ValueError (not TypeError) for non-bytes, as the API promises."""
    if isinstance(leaves, (str, *_BYTES_LIKE)):
        raise ValueError("leaves must be a sequence of bytes, not a single string")
    sha = _sha256
    prefix = _LEAF_PREFIX
    try:
        return [sha(prefix + d).digest() for d in leaves]
    except TypeError:
        raise ValueError("leaves must be a sequence of bytes") from None


# -- proof construction (shared by the list functions and MerkleTree) -------------------------

_RangeHash = Callable[[int, int], bytes]


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (``n >= 2``): the RFC's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees ``[lo, hi)`` whose hashes are PATH(index, D[0:size]) of RFC 9162
    §2.1.3.1, leaf to root, found iteratively.

    Walks down from the root: at each split, the sibling subtree not containing ``index``
    contributes its hash. The RFC lists the path leaf-to-root, hence the final reverse.
    """
    path: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            path.append((mid, hi))
            hi = mid
        else:
            path.append((lo, mid))
            lo = mid
    path.reverse()
    return path


def _inclusion_path(index: int, size: int, range_hash: _RangeHash) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: the hashes of :func:`_inclusion_ranges`."""
    return [range_hash(lo, hi) for lo, hi in _inclusion_ranges(index, size)]


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The subtrees ``[lo, hi)`` whose hashes are PROOF(old_size, D[0:new_size]) =
    SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1, found iteratively.

    ``m`` is the old size relative to the current subtree ``[lo, hi)``; ``whole`` is the RFC's
    ``b`` flag: true while the subtree being descended still starts at leaf 0, in which case the
    verifier already knows its hash (it is the old root) and it is left out of the proof.
    """
    path: list[tuple[int, int]] = []
    lo, hi, m = 0, new_size, old_size
    whole = True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    if not whole:
        path.append((lo, hi))
    path.reverse()
    return path


def _consistency_path(old_size: int, new_size: int, range_hash: _RangeHash) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1: the hashes of
    :func:`_consistency_ranges`."""
    return [range_hash(lo, hi) for lo, hi in _consistency_ranges(old_size, new_size)]


def _list_range_hash(hashes: list[bytes]) -> _RangeHash:
    return lambda lo, hi: _mth(hashes[lo:hi])


def _index_arg(value: object, name: str) -> int:
    """An integer argument of a proof *generator*: wrong type or value is a caller bug."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int, not bool")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be an int, not {type(value).__name__}") from None


def root(leaves: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash of a list of leaves (RFC 9162 §2.1.1).

    Args:
        leaves: raw leaf bytes, in order.

    Returns:
        The 32-byte root; ``SHA-256("")`` (e3b0c442…b855) for no leaves.

    Raises:
        ValueError: ``leaves`` is not a sequence of bytes.
    """
    return _mth(_leaf_hashes_of(leaves))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path proving leaf ``index`` is in the tree of ``leaves`` (RFC 9162 §2.1.3.1).

    Args:
        leaves: raw leaf bytes of the whole tree.
        index: 0-based index of the leaf to prove.

    Returns:
        Sibling subtree hashes, leaf to root (empty for a one-leaf tree).

    Raises:
        ValueError: ``index`` is not in ``[0, len(leaves))`` or an argument has the wrong type.
    """
    index = _index_arg(index, "index")
    hashes = _leaf_hashes_of(leaves)
    if not 0 <= index < len(hashes):
        raise ValueError(f"index {index} is outside a tree of {len(hashes)} leaves")
    return _inclusion_path(index, len(hashes), _list_range_hash(hashes))


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Proof that the first ``new_size`` leaves extend the first ``old_size`` (RFC 9162 §2.1.4.1).

    Args:
        leaves: raw leaf bytes, at least ``new_size`` of them.
        old_size: size of the older tree, ``0 < old_size``.
        new_size: size of the newer tree, ``old_size <= new_size <= len(leaves)``.

    Returns:
        The consistency proof (empty when ``old_size == new_size``).

    Raises:
        ValueError: the sizes are out of range (a proof from size 0 does not exist: every tree
            extends the empty one) or an argument has the wrong type.
    """
    old_size = _index_arg(old_size, "old_size")
    new_size = _index_arg(new_size, "new_size")
    hashes = _leaf_hashes_of(leaves)
    if not 0 < old_size <= new_size <= len(hashes):
        raise ValueError(
            f"need 0 < old_size <= new_size <= {len(hashes)}, got {old_size}, {new_size}"
        )
    return _consistency_path(old_size, new_size, _list_range_hash(hashes))


# -- verification ---------------------------------------------------------------------------


def _bytes_arg(value: object, name: str) -> bytes:
    """A hash argument of a verifier: wrong *type* raises, wrong *length* is the caller's check."""
    if type(value) is bytes:
        return value
    if isinstance(value, _BYTES_LIKE):
        return bytes(value)
    raise ValueError(f"{name} must be bytes, not {type(value).__name__}")


def _size_arg(value: object, name: str) -> int:
    """A size/index argument of a verifier: must be an int (any value; range checked later)."""
    if type(value) is int:
        return value
    return _index_arg(value, name)


def _proof_arg(proof: object) -> list[bytes]:
    """A proof argument of a verifier: a sequence of bytes-likes (lengths checked later)."""
    if isinstance(proof, (str, *_BYTES_LIKE)) or not isinstance(proof, Sequence):
        raise ValueError(f"proof must be a sequence of bytes, not {type(proof).__name__}")
    return [_bytes_arg(p, "a proof element") for p in proof]


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof (RFC 9162 §2.1.3.2).

    Every proof element must be consumed exactly: a proof with extra or missing elements is
    rejected, so a proof for one (index, size) cannot be replayed for another.

    Args:
        leaf_hash: the 32-byte hash of the leaf (see :func:`leaf_hash`), not the leaf itself.
        index: the leaf's 0-based index.
        size: the tree size the proof and ``root`` are for.
        proof: the audit path, leaf to root.
        root: the expected 32-byte tree root.

    Returns:
        ``True`` only if the proof is exactly right; ``False`` for any wrong or malformed value.

    Raises:
        ValueError: an argument has the wrong Python type (e.g. ``str`` for bytes, ``float``
            for an int).
    """
    r = _bytes_arg(leaf_hash, "leaf_hash")
    fn = _size_arg(index, "index")
    sn = _size_arg(size, "size")
    path = _proof_arg(proof)
    expected = _bytes_arg(root, "root")
    if not 0 <= fn < sn or len(r) != _HASH_SIZE or len(expected) != _HASH_SIZE:
        return False
    sha = _sha256
    prefix = _NODE_PREFIX
    sn -= 1
    for p in path:
        if sn == 0 or len(p) != _HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            r = sha(prefix + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(prefix + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof between two tree heads (RFC 9162 §2.1.4.2).

    Beyond the RFC algorithm: ``old_size == 0`` verifies (with an empty proof only) because
    every tree extends the empty one, whatever the roots; ``old_size == new_size`` verifies
    only with an empty proof and equal 32-byte roots.

    Args:
        old_size: size of the older tree.
        new_size: size of the newer tree.
        old_root: 32-byte root of the older tree.
        new_root: 32-byte root of the newer tree.
        proof: the consistency proof.

    Returns:
        ``True`` only if the proof is exactly right; ``False`` for any wrong or malformed value.

    Raises:
        ValueError: an argument has the wrong Python type.
    """
    first = _size_arg(old_size, "old_size")
    second = _size_arg(new_size, "new_size")
    first_hash = _bytes_arg(old_root, "old_root")
    second_hash = _bytes_arg(new_root, "new_root")
    path = _proof_arg(proof)
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_hash == second_hash and len(first_hash) == _HASH_SIZE
    if first == 0:
        return not path
    if (
        not path
        or len(first_hash) != _HASH_SIZE
        or len(second_hash) != _HASH_SIZE
        or any(len(c) != _HASH_SIZE for c in path)
    ):
        return False
    if first & (first - 1) == 0:
        # The old tree is a perfect subtree of the new one: its root is the proof's start.
        path.insert(0, first_hash)
    sha = _sha256
    prefix = _NODE_PREFIX
    fn = first - 1
    sn = second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for i in range(1, len(path)):
        c = path[i]
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = sha(prefix + c + fr).digest()
            sr = sha(prefix + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha(prefix + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash


# The incremental tree lives in its own module; it is part of this module's public API.
from ledger.merkle_tree import MerkleTree  # noqa: E402
