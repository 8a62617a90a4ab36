"""The statement digest: what a log says, without any key material.

A run's Merkle root depends on its keys (every leaf holds signatures, every statement the hash of
the leaf before), so only someone holding the key secret can reproduce it. The statement digest
lets anyone else check that they reproduced a run: re-run the scenario with their own secret and
compare digests. It is SHA-256 over ``"dxsim-statements-v1\\n"`` and then, for every entry in seq
order, an 8-byte big-endian length and the canonical JSON of ``{actor, body, kind, seq, time}`` —
the statement without its ``prev`` back-link — where the log's own entries drop the fields that
carry keys or key-dependent hashes (the genesis log key, a registration's public key, a refusal's
statement hash).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ledger.entry import canonical_json
from ledger.kinds import GENESIS_KIND, IDENTITY_KIND, REFUSAL_KIND

__all__ = ["STATEMENT_DOMAIN", "StatementDigest", "keyless_statement"]

STATEMENT_DOMAIN = b"dxsim-statements-v1\n"
_PREV = b',"prev":"'


def _keyless_body(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    if kind == GENESIS_KIND:
        log = body.get("log")
        stripped = dict(body)
        if isinstance(log, dict):
            stripped["log"] = {k: v for k, v in log.items() if k != "public_key"}
        return stripped
    if kind == IDENTITY_KIND:
        return {k: v for k, v in body.items() if k != "public_key"}
    return {k: v for k, v in body.items() if k != "statement_sha256"}


def keyless_statement(
    seq: int, time: int, kind: str, actor: str, body: dict[str, Any], statement: bytes
) -> bytes:
    """The canonical statement of an entry without ``prev`` and without key material.

    For market entries this is a byte slice of the signed statement (keys are sorted, so
    ``"prev"`` is the last field before ``"seq"``; the kind cannot contain a quote), so the audit
    never re-encodes a body; the log's own entries are re-encoded without their key fields.
    """
    if kind in (GENESIS_KIND, IDENTITY_KIND, REFUSAL_KIND):
        return canonical_json(
            {
                "actor": actor,
                "body": _keyless_body(kind, body),
                "kind": kind,
                "seq": seq,
                "time": time,
            }
        )
    cut = statement.rfind(_PREV)
    end = statement.index(b'"', cut + len(_PREV)) + 1
    return statement[:cut] + statement[end:]


class StatementDigest:
    """Fold entries in seq order; ``hexdigest()`` at any point."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256(STATEMENT_DOMAIN)

    def add(
        self, seq: int, time: int, kind: str, actor: str, body: dict[str, Any], statement: bytes
    ) -> None:
        keyless = keyless_statement(seq, time, kind, actor, body, statement)
        self._hash.update(len(keyless).to_bytes(8, "big"))
        self._hash.update(keyless)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
