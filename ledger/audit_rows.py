"""The per-row half of the audit: everything one stored row can be checked for on its own.

Worker threads run :func:`check_chunk` while the main thread reads ahead; it checks, for each
row, the index columns against the leaf, seq continuity, canonical parsing, that every signer was
registered before the entry and signed it (Ed25519), and that every signer's role may sign the
kind. What needs the entries before it (back-links, checkpoints, the domain's rules) is left to
the main thread, which gets back the parsed parts so nothing is parsed twice.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ledger.entry import parse_leaf, signing_input
from ledger.errors import EncodingError, LedgerError
from ledger.identity import PublicIdentity
from ledger.kinds import CLOSE_KIND, GENESIS_KIND, IDENTITY_KIND
from ledger.log import AuthorizationTable
from ledger.merkle import leaf_hash
from ledger.store import EntryRow

__all__ = ["Checked", "ChunkResult", "Context", "Finding", "RowError", "check_chunk"]


@dataclass(frozen=True)
class Finding:
    """The first bad entry: where, and why."""

    seq: int | None
    kind: str | None
    actor: str | None
    reason: str


class RowError(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.reason)
        self.finding = finding


@dataclass
class Context:
    """What the workers read: the log's public facts, filled in by the main thread in seq order."""

    origin: bytes
    table: AuthorizationTable
    registered: dict[str, tuple[int, PublicIdentity]]
    #: Entries below this seq had their signatures verified by the writer as it appended them
    #: (see ``VerifiedAtAppend`` in :mod:`ledger.audit`): their Ed25519 checks are skipped, and
    #: the audit keeps that only if the stored leaves hash to the root the writer verified.
    verified_below: int = 0


@dataclass(frozen=True, slots=True)
class Checked:
    """One row that passed every per-row check, with the parts the main thread needs."""

    seq: int
    time: int
    kind: str
    actor: str
    body: dict[str, Any]
    signers: tuple[str, ...]
    statement: bytes
    digest: bytes
    prev: bytes


@dataclass
class ChunkResult:
    checked: list[Checked]
    first_bad: Finding | None


def registration(body: Any) -> PublicIdentity:
    """The identity a ``ledger.identity`` body announces.

    Raises:
        LedgerError: the body is not a well-formed registration.
    """
    try:
        if set(body) != {"id", "public_key", "role"}:
            raise LedgerError("unexpected fields")
        return PublicIdentity(
            body["id"], body["role"], base64.b64decode(body["public_key"], validate=True)
        )
    except (TypeError, ValueError, KeyError) as exc:
        raise LedgerError(str(exc)) from exc


def _log_body_problem(kind: str, body: dict[str, Any]) -> str | None:
    """Why a body of the log's own kinds is malformed, or None."""
    if kind == IDENTITY_KIND:
        try:
            registration(body)
        except LedgerError as exc:
            return f"malformed identity registration ({exc})"
    elif kind == CLOSE_KIND:
        entries = body.get("entries")
        if set(body) != {"entries"} or type(entries) is not int:
            return "malformed close entry"
    return None


def _check_row(row: EntryRow, expected: int, ctx: Context) -> Checked:
    seq, row_time, row_kind, row_actor, leaf = row
    if seq != expected:
        if seq < 0:
            reason = f"extra row: seq {seq} is negative (a log counts from 0)"
        elif seq > expected:
            reason = f"seq gap: expected {expected}, found {seq}"
        else:
            reason = "seq repeats"
        raise RowError(Finding(seq if seq < 0 else expected, row_kind, row_actor, reason))
    try:
        parsed = parse_leaf(leaf)
    except EncodingError as exc:
        raise RowError(Finding(seq, row_kind, row_actor, str(exc))) from exc
    kind, actor = parsed.kind, parsed.actor
    if (parsed.seq, parsed.time, kind, actor) != (seq, row_time, row_kind, row_actor):
        raise RowError(Finding(seq, kind, actor, "row columns differ from the signed entry"))
    sigs = parsed.sigs
    if not sigs or sigs[0][0] != actor:
        raise RowError(Finding(seq, kind, actor, "bad signature: the actor did not sign first"))
    message = signing_input(ctx.origin, parsed.statement)
    seen: list[str] = []
    for signer_id, sig in sigs:
        known = ctx.registered.get(signer_id)
        if known is None or known[0] >= seq or signer_id in seen:
            why = "signed twice" if signer_id in seen else "is not a registered identity"
            raise RowError(Finding(seq, kind, actor, f"bad signature: signer {signer_id!r} {why}"))
        seen.append(signer_id)
        identity = known[1]
        if len(sig) != 64 or (seq >= ctx.verified_below and not identity.verify(sig, message)):
            raise RowError(Finding(seq, kind, actor, f"bad signature by {signer_id!r}"))
        if not ctx.table.allows(identity.role, kind):
            reason = f"not authorized: role {identity.role!r} may not sign {kind!r}"
            raise RowError(Finding(seq, kind, actor, reason))
    if kind == GENESIS_KIND and seq != 0:
        raise RowError(Finding(seq, kind, actor, "a second genesis entry"))
    problem = _log_body_problem(kind, parsed.body)
    if problem is not None:
        raise RowError(Finding(seq, kind, actor, f"body does not parse: {problem}"))
    return Checked(
        seq,
        parsed.time,
        kind,
        actor,
        parsed.body,
        tuple(seen),
        parsed.statement,
        leaf_hash(leaf),
        parsed.prev,
    )


def check_chunk(rows: list[EntryRow], start: int, ctx: Context) -> ChunkResult:
    """Check consecutive rows expected to start at seq ``start``; stop at the first bad one."""
    checked: list[Checked] = []
    expected = start
    for row in rows:
        try:
            checked.append(_check_row(row, expected, ctx))
        except RowError as bad:
            return ChunkResult(checked, bad.finding)
        expected += 1
    return ChunkResult(checked, None)
