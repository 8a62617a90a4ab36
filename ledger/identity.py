"""Ed25519 identities: who signs ledger entries and checkpoints.

Simulation identities are derived deterministically so that a run is reproducible byte for byte,
but never from anything a run directory holds: the scenario and its seed are stored beside the
ledger, so keys derived from the seed alone would let anyone holding the files re-sign the log.
They derive from a :class:`KeySecret` kept elsewhere (HKDF-SHA256, RFC 5869): the secret and a
scope (``"run/seed=7"``) give the key material of one run, and that material with an identity id
gives the 32-byte Ed25519 private seed. The same secret, scope and id always give the same key.
For runs where non-repudiation matters, :class:`Keystore` holds random keys stored as encrypted
PKCS#8 (RFC 5958) files.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.errors import LedgerError, SignatureError

__all__ = [
    "IDENTITY_ID_PATTERN",
    "MIN_SECRET_BYTES",
    "Identity",
    "KeySecret",
    "Keystore",
    "PublicIdentity",
    "derive_identity",
    "key_hash",
]

#: Identity ids double as C2SP note key names, so they exclude spaces, ``+`` and control characters.
#: ``\Z``, not ``$``: ``$`` also matches before a trailing newline, which would let "id\n" through.
IDENTITY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}\Z")

_IDENTITY_SALT = b"dxsim/identity-salt/v2"
_SCOPE_SALT = b"dxsim/key-secret-salt/v2"
PASSPHRASE_ENV = "DXSIM_KEYSTORE_PASSPHRASE"
#: Key material shorter than this is refused: a secret must not be guessable (256 bits).
MIN_SECRET_BYTES = 32


def _check_id(identity_id: str) -> None:
    if not IDENTITY_ID_PATTERN.match(identity_id):
        raise LedgerError(
            f"identity id {identity_id!r} is not allowed: use 1-128 characters from "
            "A-Z a-z 0-9 . _ : / @ - starting with a letter or digit"
        )


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte C2SP signed-note key hash: ``SHA-256(name ‖ "\\n" ‖ 0x01 ‖ pubkey)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class PublicIdentity:
    """What a verifier knows about a signer: id, role and the raw 32-byte Ed25519 public key."""

    id: str
    role: str
    public_key: bytes
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_id(self.id)
        if len(self.public_key) != 32:
            raise SignatureError(f"identity {self.id!r}: an Ed25519 public key is 32 bytes")
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Return whether ``signature`` is this identity's Ed25519 signature of ``message``."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key).decode()

    @property
    def verifier_key(self) -> str:
        """The C2SP verifier key line: ``<name>+<hex key hash>+<base64(0x01 ‖ pubkey)>``."""
        encoded = base64.b64encode(b"\x01" + self.public_key).decode()
        return f"{self.id}+{key_hash(self.id, self.public_key).hex()}+{encoded}"


@dataclass(frozen=True, slots=True)
class Identity:
    """A signer: an id, a role and an Ed25519 private key. Never persisted in clear."""

    id: str
    role: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    public: PublicIdentity = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        object.__setattr__(self, "public", PublicIdentity(self.id, self.role, raw))

    @property
    def public_key(self) -> bytes:
        return self.public.public_key

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature (RFC 8032 §5.1.6) of ``message``: 64 bytes."""
        return self.private_key.sign(message)


def _hkdf(material: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(material)


def derive_identity(key_material: bytes, identity_id: str, role: str) -> Identity:
    """Derive the identity ``identity_id`` from secret key material with HKDF-SHA256.

    The private seed is ``HKDF(IKM = key_material, salt = "dxsim/identity-salt/v2",
    info = "dxsim/identity/v2\n" + id)``. The same material and id always give the same key, so
    the same run gives the same ledger bytes. The role does not enter the key.

    Raises:
        LedgerError: the material is not bytes of at least :data:`MIN_SECRET_BYTES` (an integer
            seed is refused on purpose: seeds are stored with runs), or the id is not allowed.
    """
    _check_id(identity_id)
    if not isinstance(key_material, bytes | bytearray):
        raise LedgerError(
            "identity keys derive from secret key material (bytes), never from a run seed"
        )
    if len(key_material) < MIN_SECRET_BYTES:
        raise LedgerError(f"key material must be at least {MIN_SECRET_BYTES} bytes")
    private_seed = _hkdf(
        bytes(key_material), _IDENTITY_SALT, b"dxsim/identity/v2\n" + identity_id.encode()
    )
    return Identity(identity_id, role, Ed25519PrivateKey.from_private_bytes(private_seed))


class KeySecret:
    """The secret that simulation keys derive from. Kept outside every run directory.

    A researcher who keeps the secret reproduces a run's ledger byte for byte; anyone else can
    reproduce only its statements (see the statement digest of :mod:`ledger.audit`), and cannot
    re-sign the log.
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise LedgerError(f"a key secret is at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return f"KeySecret(fingerprint={self.fingerprint})"

    @classmethod
    def generate(cls) -> KeySecret:
        return cls(os.urandom(MIN_SECRET_BYTES))

    @classmethod
    def from_hex(cls, text: str, where: str = "key secret") -> KeySecret:
        """Parse the text form: hexadecimal, at least 64 digits, surrounding space ignored."""
        digits = text.strip()
        if not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) % 2:
            raise LedgerError(f"{where}: not a hexadecimal key secret")
        if len(digits) < 2 * MIN_SECRET_BYTES:
            raise LedgerError(
                f"{where}: a key secret has at least {2 * MIN_SECRET_BYTES} hex digits"
            )
        return cls(bytes.fromhex(digits))

    def to_hex(self) -> str:
        return self._secret.hex()

    @property
    def fingerprint(self) -> str:
        """A short public name for the secret (safe to print: it reveals nothing of it)."""
        return _hkdf(self._secret, _SCOPE_SALT, b"dxsim/fingerprint/v2").hex()[:16]

    def material(self, scope: str) -> bytes:
        """The key material of one scope (a run: ``"run/seed=7"``)."""
        return _hkdf(self._secret, _SCOPE_SALT, b"dxsim/scope/v2\n" + scope.encode())

    def identity(self, scope: str, identity_id: str, role: str) -> Identity:
        return derive_identity(self.material(scope), identity_id, role)


class Keystore:
    """Random Ed25519 keys kept as encrypted PKCS#8 PEM files, one per identity, in a directory.

    The passphrase comes from the caller, or the ``DXSIM_KEYSTORE_PASSPHRASE`` environment variable.
    """

    def __init__(self, directory: Path, passphrase: bytes | None = None) -> None:
        if passphrase is None:
            env = os.environ.get(PASSPHRASE_ENV)
            if not env:
                raise LedgerError(
                    f"keystore {directory}: no passphrase given and {PASSPHRASE_ENV} is not set"
                )
            passphrase = env.encode()
        if not passphrase:
            raise LedgerError("keystore passphrase must not be empty")
        self.directory = directory
        self._passphrase = passphrase

    def _path(self, identity_id: str) -> Path:
        _check_id(identity_id)
        return self.directory / (identity_id.replace("/", "%2F") + ".pem")

    def identity(self, identity_id: str, role: str) -> Identity:
        """Load ``identity_id``'s key, creating and storing a fresh random one the first time."""
        path = self._path(identity_id)
        if path.exists():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), self._passphrase)
            except (ValueError, TypeError) as exc:
                raise LedgerError(f"keystore {path}: cannot decrypt (wrong passphrase?)") from exc
            if not isinstance(key, Ed25519PrivateKey):
                raise LedgerError(f"keystore {path}: not an Ed25519 key")
            return Identity(identity_id, role, key)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return Identity(identity_id, role, key)
