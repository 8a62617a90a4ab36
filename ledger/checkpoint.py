"""Signed checkpoints: C2SP tlog-checkpoint bodies inside C2SP signed notes.

A checkpoint commits a log to its Merkle tree head (see https://c2sp.org/tlog-checkpoint). Its note
text is the origin line, the tree size in decimal and the base64 RFC 6962 root hash, then optional
extension lines, each ending in ``"\\n"``. It travels as a signed note
(https://c2sp.org/signed-note)::

    <origin>\\n
    <tree size>\\n
    <base64(root hash)>\\n
    [<extension line>\\n ...]
    \\n
    — <key name> <base64(4-byte key hash ‖ 64-byte Ed25519 signature)>\\n

The Ed25519 signature (RFC 8032) covers the note text up to and including its final ``"\\n"``, not
the blank line. Parsing is as strict as ``golang.org/x/mod/sumdb/note`` (Go's reference verifier):
valid UTF-8, no control character other than ``"\\n"``, every line ending in exactly one ``"\\n"``,
nothing after the last signature line, base64 decoded strictly and canonically. Signature lines by
other keys (witness cosignatures, rotated log keys) are parsed and ignored; every line by the given
key must verify, and at least one must be present.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import CheckpointError
from ledger.identity import Identity, key_hash

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "checkpoint_body",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint_body",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
]

#: Signature type byte of Ed25519 in C2SP signed-note key ids and verifier keys.
ALG_ED25519 = 0x01
#: At most this many signature lines are read (Go's ``note.Open`` limit; C2SP asks for >= 16).
MAX_SIGNATURES = 100
#: Largest tree size: sizes are unsigned 64-bit integers for Go verifiers.
MAX_TREE_SIZE = 2**64 - 1

_SIG_PREFIX = "\u2014 "  # EM DASH, SPACE
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")
_HASH_RE = re.compile(r"[0-9a-f]{8}")
_ROOT_SIZE = 32
_SIG_SIZE = 64


@dataclass(frozen=True)
class Checkpoint:
    """An opened checkpoint: who (origin), how many leaves (size), which tree (root), extensions."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


# -- helpers ----------------------------------------------------------------------------------


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 with padding: no stray characters, canonical padding bits."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what} is not valid base64: {text!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64: {text!r}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not a signed-note key name, or ``None`` if it is one."""
    if not name:
        return "is empty"
    for ch in name:
        if ch == "+":
            return "contains '+'"
        if ch.isspace():
            return "contains a space"
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            return "contains a control character"
    if not _is_utf8(name):
        return "is not valid UTF-8"
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_problem(text: str) -> str | None:
    """Why ``text`` cannot appear in a note (bad UTF-8 or a control character), or ``None``."""
    if not _is_utf8(text):
        return "is not valid UTF-8 (lone surrogate)"
    for index, ch in enumerate(text):
        if ord(ch) < 0x20 and ch != "\n":
            return f"contains control character U+{ord(ch):04X} at offset {index}"
    return None


def _check_line(value: object, what: str) -> str:
    """A single note text line (origin or extension): a non-empty str, no newline or control."""
    if not isinstance(value, str):
        raise CheckpointError(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise CheckpointError(f"{what} is empty")
    if "\n" in value:
        raise CheckpointError(f"{what} contains a newline")
    problem = _text_problem(value)
    if problem is not None:
        raise CheckpointError(f"{what} {problem}")
    return value


# -- verifier keys ----------------------------------------------------------------------------


def parse_verifier_key(vkey: str) -> tuple[str, bytes, bytes]:
    """Parse ``<name>+<hex key hash>+<base64(0x01 ‖ public key)>``.

    Returns ``(name, 4-byte key hash, 32-byte Ed25519 public key)``. Raises
    :class:`CheckpointError` if any part is malformed or the key hash does not match.
    """
    if not isinstance(vkey, str):
        raise CheckpointError(f"verifier key must be a str, not {type(vkey).__name__}")
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("verifier key is not <name>+<hash>+<key>")
    name, hash_hex, key_b64 = parts
    problem = _name_problem(name)
    if problem is not None:
        raise CheckpointError(f"verifier key name {name!r} {problem}")
    if not _HASH_RE.fullmatch(hash_hex):
        raise CheckpointError(f"verifier key hash {hash_hex!r} is not 8 lowercase hex digits")
    key = _b64decode(key_b64, "verifier key")
    if not key or key[0] != ALG_ED25519:
        alg = f"0x{key[0]:02x}" if key else "missing"
        raise CheckpointError(f"verifier key algorithm {alg} is not Ed25519 (0x01)")
    public_key = key[1:]
    if len(public_key) != 32:
        raise CheckpointError(f"verifier key is {len(public_key)} bytes, not 32")
    expected = key_hash(name, public_key)
    if expected.hex() != hash_hex:
        raise CheckpointError(
            f"verifier key hash {hash_hex} does not match its name and key ({expected.hex()})"
        )
    return name, expected, public_key


# -- signed notes -----------------------------------------------------------------------------


def sign_note(text: str, signer: Identity) -> str:
    """Sign note ``text`` (which ends in ``"\\n"``) with ``signer``: text, blank line, signature."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("note text must be a str ending in a newline")
    problem = _text_problem(text)
    if problem is not None:
        raise CheckpointError(f"note text {problem}")
    name_problem = _name_problem(signer.id)
    if name_problem is not None:
        raise CheckpointError(f"signer key name {signer.id!r} {name_problem}")
    signature = signer.sign(text.encode("utf-8"))
    if len(signature) != _SIG_SIZE:
        raise CheckpointError("signer did not return a 64-byte Ed25519 signature")
    blob = key_hash(signer.id, signer.public_key) + signature
    return f"{text}\n{_SIG_PREFIX}{signer.id} {_b64encode(blob)}\n"


def open_note(note: str | bytes, verifier_key: str) -> str:
    """Check a signed note against ``verifier_key`` and return its text (ending in ``"\\n"``).

    Signature lines by other keys are ignored. Raises :class:`CheckpointError` if the note is
    malformed, has no signature by the key, or a signature by the key does not verify.
    """
    name, hash4, public_key = parse_verifier_key(verifier_key)
    if isinstance(note, bytes | bytearray | memoryview):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError(f"note is not valid UTF-8 (byte offset {exc.start})") from exc
    elif not isinstance(note, str):
        raise CheckpointError(f"note must be str or bytes, not {type(note).__name__}")
    problem = _text_problem(note)
    if problem is not None:
        raise CheckpointError(f"note {problem}")

    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise CheckpointError("note ends with a blank line: no signature lines (extra newline?)")
    if not block.endswith("\n"):
        raise CheckpointError("note does not end in a newline after its last signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signature lines")

    try:
        verifier = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as exc:  # pragma: no cover - depends on the backend's point checks
        raise CheckpointError("verifier key is not a valid Ed25519 public key") from exc
    message = text.encode("utf-8")
    verified = 0
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_SIG_PREFIX):
            raise CheckpointError(f"signature line {number} does not start with '— '")
        sig_name, space, sig_b64 = line[len(_SIG_PREFIX) :].partition(" ")
        if not space or not sig_b64:
            raise CheckpointError(f"signature line {number} has no signature after the key name")
        name_problem = _name_problem(sig_name)
        if name_problem is not None:
            raise CheckpointError(f"signature line {number}: key name {sig_name!r} {name_problem}")
        blob = _b64decode(sig_b64, f"signature line {number}")
        if len(blob) < 5:
            raise CheckpointError(f"signature line {number} is too short ({len(blob)} bytes)")
        if sig_name != name or blob[:4] != hash4:
            continue  # another key (a cosigner, a rotated key): ignored, as C2SP requires
        try:
            verifier.verify(blob[4:], message)
        except InvalidSignature as exc:
            raise CheckpointError(
                f"signature line {number} by {name}+{hash4.hex()} does not verify"
            ) from exc
        verified += 1
    if not verified:
        raise CheckpointError(f"note has no signature by key {name}+{hash4.hex()}")
    return text


# -- checkpoints ------------------------------------------------------------------------------


def checkpoint_body(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """The tlog-checkpoint note text: origin, size, base64 root, extension lines, each + ``\\n``."""
    _check_line(origin, "origin")
    if isinstance(size, bool) or not isinstance(size, int):
        raise CheckpointError(f"tree size must be an int, not {type(size).__name__}")
    if not 0 <= size <= MAX_TREE_SIZE:
        raise CheckpointError(f"tree size {size} is out of range 0..2^64-1")
    if not isinstance(root, bytes | bytearray) or len(root) != _ROOT_SIZE:
        raise CheckpointError("root hash must be exactly 32 bytes")
    if isinstance(extensions, str):
        raise CheckpointError("extensions must be a sequence of lines, not a str")
    lines = [origin, str(size), _b64encode(bytes(root))]
    lines.extend(_check_line(line, "extension line") for line in extensions)
    return "".join(line + "\n" for line in lines)


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse a tlog-checkpoint note text (as returned by :func:`open_note`) strictly."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint has fewer than 3 lines (origin, size, root)")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("checkpoint origin line is empty")
    if not _SIZE_RE.fullmatch(size_text):
        raise CheckpointError(
            f"checkpoint size {size_text!r} is not decimal without sign or leading zero"
        )
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise CheckpointError(f"checkpoint size {size_text} does not fit in 64 bits")
    root = _b64decode(root_text, "checkpoint root hash")
    if len(root) != _ROOT_SIZE:
        raise CheckpointError(f"checkpoint root hash is {len(root)} bytes, not 32")
    for number, line in enumerate(extensions, start=1):
        if not line:
            raise CheckpointError(f"checkpoint extension line {number} is empty")
    return Checkpoint(origin, size, root, tuple(extensions))


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    signer: Identity,
    extensions: Sequence[str] = (),
) -> str:
    """Sign the checkpoint ``(origin, size, root, extensions)`` as a C2SP note by ``signer``.

    The result is the full note text, ending in exactly one ``"\\n"``: write it as is (for example
    with ``sys.stdout.write``), never with ``print``.
    """
    return sign_note(checkpoint_body(origin, size, root, extensions), signer)


def open_checkpoint(note: str | bytes, verifier_key: str) -> Checkpoint:
    """Verify a signed checkpoint note with ``verifier_key`` and return the checkpoint.

    Raises :class:`CheckpointError` with a one-line reason on any mismatch.
    """
    return parse_checkpoint_body(open_note(note, verifier_key))
