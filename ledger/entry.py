"""Ledger entries and their one canonical byte encoding.

An entry has two layers:

* the **statement** — ``{"actor", "body", "kind", "prev", "seq", "time"}`` as canonical JSON (keys
  sorted, no whitespace, UTF-8, integers only: floats are refused so money can never be a float).
  ``prev`` is the base64 leaf hash of the entry before (empty for seq 0): a back-link, so that an
  entry altered and re-signed with another valid key is caught at the entry that follows it;
* the **leaf** — ``{"entry": <statement>, "sigs": [[signer, base64 sig], ...]}``, again canonical.
  The leaf bytes are what the RFC 6962 Merkle tree hashes and what the store keeps.

Each signature is Ed25519 over ``b"dxsim-entry-v1\\n" + origin + b"\\n" + statement``: the prefix
separates entry signatures from checkpoint signatures, and the log origin binds an entry to one log.
Because ``"entry"`` sorts before ``"sigs"``, the statement is a byte slice of the leaf and verifying
never re-encodes it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ledger.errors import EncodingError

__all__ = [
    "KIND_PATTERN",
    "MAX_INT",
    "Entry",
    "ParsedLeaf",
    "Signature",
    "canonical_json",
    "check_json_value",
    "decode_leaf",
    "leaf_bytes",
    "parse_leaf",
    "signing_input",
    "statement_bytes",
]

ENTRY_DOMAIN = b"dxsim-entry-v1\n"
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
#: Integers in bodies fit a signed 64-bit column everywhere (SQLite, PostgreSQL BIGINT).
MAX_INT = 2**63 - 1

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_LEAF_HEAD = b'{"entry":'
_LEAF_SIGS = b',"sigs":'


_SCALARS = frozenset({str, bool, type(None)})


def check_json_value(value: object, path: str = "body") -> None:
    """Raise :class:`EncodingError` naming ``path`` unless ``value`` is float-free JSON.

    Allowed: ``str``, ``int`` within ±2**63, ``bool``, ``None``, lists and string-keyed dicts of
    those. Floats are refused outright: money and quantities are integers in minor units.
    This runs on every append, so the common case is an iterative walk by exact type; the
    path of a bad value is only worked out once one is found.
    """
    stack: list[Any] = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is int:
            if -MAX_INT - 1 <= item <= MAX_INT:
                continue
        elif kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    break
                push(child)
            else:
                continue
        elif kind is list or kind is tuple:
            stack.extend(item)
            continue
        _explain(value, path)
        raise EncodingError(f"{path}: not a JSON value")  # pragma: no cover - _explain raises


def _explain(value: object, path: str) -> None:
    """Find the first offending value and raise an error that names its path."""
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if -MAX_INT - 1 <= value <= MAX_INT:
            return
        raise EncodingError(f"{path}: integer {value} does not fit in 64 bits")
    if isinstance(value, float):
        raise EncodingError(f"{path}: floats are not allowed in ledger bodies (got {value!r})")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"{path}: keys must be strings (got {key!r})")
            _explain(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _explain(item, f"{path}[{index}]")
        return
    raise EncodingError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value: object) -> bytes:
    """Canonical encoding: sorted keys, no whitespace, UTF-8. The caller checks for floats."""
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:
        raise EncodingError(f"cannot encode canonically: {exc}") from exc


def statement_bytes(
    seq: int, time: int, kind: str, actor: str, prev: bytes, body: Mapping[str, Any]
) -> bytes:
    """The canonical statement: what every signer signs (after the domain prefix)."""
    return canonical_json(
        {
            "actor": actor,
            "body": body,
            "kind": kind,
            "prev": base64.b64encode(prev).decode(),
            "seq": seq,
            "time": time,
        }
    )


def signing_input(origin: bytes, statement: bytes) -> bytes:
    """Domain-separated bytes an Ed25519 signature covers. ``origin`` is the log's origin, UTF-8."""
    return ENTRY_DOMAIN + origin + b"\n" + statement


def leaf_bytes(statement: bytes, sigs: Sequence[tuple[str, bytes]]) -> bytes:
    """The canonical leaf: statement and signatures, byte-identical to ``canonical_json``."""
    encoded = canonical_json([[signer, base64.b64encode(sig).decode()] for signer, sig in sigs])
    return _LEAF_HEAD + statement + _LEAF_SIGS + encoded + b"}"


class Signature(BaseModel):
    """One Ed25519 signature on an entry's statement, by a registered identity."""

    model_config = ConfigDict(frozen=True)

    signer: str
    sig: bytes = Field(min_length=64, max_length=64)


class Entry(BaseModel):
    """One signed ledger entry. Immutable; ``leaf`` is the exact byte string the log hashes."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=0)
    time: int = Field(ge=0, le=MAX_INT)
    kind: str = Field(pattern=KIND_PATTERN.pattern)
    actor: str
    prev: bytes
    body: dict[str, Any]
    sigs: tuple[Signature, ...]

    _statement: bytes = PrivateAttr(default=b"")
    _leaf: bytes = PrivateAttr(default=b"")

    @classmethod
    def build(
        cls,
        seq: int,
        time: int,
        kind: str,
        actor: str,
        prev: bytes,
        body: dict[str, Any],
        sigs: Sequence[tuple[str, bytes]],
        statement: bytes,
    ) -> Entry:
        """Assemble an entry from parts the caller has already encoded and signed (hot path)."""
        # The parts were produced and checked by the log itself: skip re-validation, which
        # would cost as much as the rest of the append path together.
        signatures = tuple(_new_signature(signer, sig) for signer, sig in sigs)
        entry = cls.__new__(cls)
        _set = object.__setattr__
        _set(
            entry,
            "__dict__",
            {
                "seq": seq,
                "time": time,
                "kind": kind,
                "actor": actor,
                "prev": prev,
                "body": body,
                "sigs": signatures,
            },
        )
        _set(entry, "__pydantic_fields_set__", _ENTRY_FIELDS)
        _set(entry, "__pydantic_extra__", None)
        _set(
            entry,
            "__pydantic_private__",
            {"_statement": statement, "_leaf": leaf_bytes(statement, sigs)},
        )
        return entry

    # The two caches are read through ``__pydantic_private__`` directly: pydantic's attribute
    # hook for private names costs more than the rest of these properties (hot path).
    @property
    def statement(self) -> bytes:
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        statement: bytes = private["_statement"]
        if not statement:
            check_json_value(self.body)
            statement = statement_bytes(
                self.seq, self.time, self.kind, self.actor, self.prev, self.body
            )
            private["_statement"] = statement
        return statement

    @property
    def leaf(self) -> bytes:
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        leaf: bytes = private["_leaf"]
        if not leaf:
            leaf = leaf_bytes(self.statement, [(s.signer, s.sig) for s in self.sigs])
            private["_leaf"] = leaf
        return leaf


_ENTRY_FIELDS = frozenset(Entry.model_fields)
_SIGNATURE_FIELDS = frozenset(Signature.model_fields)


def _new_signature(signer: str, sig: bytes) -> Signature:
    signature = Signature.__new__(Signature)
    object.__setattr__(signature, "__dict__", {"signer": signer, "sig": sig})
    object.__setattr__(signature, "__pydantic_fields_set__", _SIGNATURE_FIELDS)
    object.__setattr__(signature, "__pydantic_extra__", None)
    object.__setattr__(signature, "__pydantic_private__", None)
    return signature


def _refuse_float(text: str) -> Any:
    raise EncodingError(f"floats are not allowed in ledger entries (got {text})")


def _refuse_constant(text: str) -> Any:
    raise EncodingError(f"{text} is not allowed in ledger entries")


_DECODER = json.JSONDecoder(parse_float=_refuse_float, parse_constant=_refuse_constant)
_STATEMENT_KEYS = frozenset({"actor", "body", "kind", "prev", "seq", "time"})


class ParsedLeaf(NamedTuple):
    """A stored leaf, parsed and checked for shape; signatures are not verified here."""

    statement: bytes
    seq: int
    time: int
    kind: str
    actor: str
    prev: bytes
    body: dict[str, Any]
    sigs: list[tuple[str, bytes]]


def parse_leaf(raw: bytes) -> ParsedLeaf:
    """Parse stored leaf bytes strictly and fast (the audit calls this once per entry).

    The statement needs no re-encoding check: every signature covers its exact bytes. The signature
    list is not signed, so it is re-encoded and compared, which keeps the leaf hash unambiguous.

    Raises:
        EncodingError: with the reason, when the bytes are not a canonical dxsim leaf.
    """
    if not raw.startswith(_LEAF_HEAD) or not raw.endswith(b"]}"):
        raise EncodingError("body does not parse: not a dxsim entry (bad framing)")
    cut = raw.rfind(_LEAF_SIGS)
    if cut < 0:
        raise EncodingError("body does not parse: no signature list")
    try:
        document = _DECODER.decode(raw.decode("utf-8"))
        inner = document["entry"]
        raw_sigs = document["sigs"]
        if len(document) != 2 or inner.keys() != _STATEMENT_KEYS:
            raise EncodingError("body does not parse: unexpected fields")
        seq, time, kind, actor = inner["seq"], inner["time"], inner["kind"], inner["actor"]
        body = inner["body"]
        if not (
            type(seq) is int
            and type(time) is int
            and 0 <= seq <= MAX_INT
            and 0 <= time <= MAX_INT
            and type(kind) is str
            and type(actor) is str
            and type(body) is dict
            and KIND_PATTERN.match(kind)
        ):
            raise EncodingError("body does not parse: a statement field has the wrong type")
        prev = base64.b64decode(inner["prev"], validate=True)
        sigs = [(signer, base64.b64decode(sig, validate=True)) for signer, sig in raw_sigs]
    except EncodingError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        raise EncodingError(f"body does not parse: {exc}") from exc
    if raw[cut + len(_LEAF_SIGS) : -1] != canonical_json(raw_sigs):
        raise EncodingError("body does not parse: signature list is not in canonical form")
    return ParsedLeaf(raw[len(_LEAF_HEAD) : cut], seq, time, kind, actor, prev, body, sigs)


def decode_leaf(raw: bytes) -> Entry:
    """Parse stored leaf bytes into a validated :class:`Entry` (for tools; the audit uses
    :func:`parse_leaf`)."""
    parsed = parse_leaf(raw)
    try:
        entry = Entry.model_validate(
            {
                "seq": parsed.seq,
                "time": parsed.time,
                "kind": parsed.kind,
                "actor": parsed.actor,
                "prev": parsed.prev,
                "body": parsed.body,
                "sigs": [{"signer": s, "sig": g} for s, g in parsed.sigs],
            }
        )
    except ValueError as exc:
        raise EncodingError(f"body does not parse: {exc}") from exc
    entry._statement = parsed.statement
    entry._leaf = raw
    return entry
