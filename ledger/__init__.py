"""dxsim's ground floor: a generic signed, append-only, Merkle-logged store.

It knows nothing of markets and imports no simulation code: entries are signed JSON statements of
some ``kind`` by some ``actor``, appended under an authorization table the domain supplies.
"""

from ledger.audit import (
    AuditReport,
    DomainCheck,
    DomainFactory,
    Finding,
    LogState,
    audit,
)
from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.digest import StatementDigest
from ledger.entry import Entry, Signature, canonical_json, decode_leaf, parse_leaf
from ledger.errors import (
    AuthorizationError,
    CheckpointError,
    EncodingError,
    LedgerError,
    SignatureError,
    StoreError,
)
from ledger.identity import Identity, KeySecret, Keystore, PublicIdentity, derive_identity
from ledger.log import (
    CLOSE_KIND,
    GENESIS_KIND,
    IDENTITY_KIND,
    LOG_ROLE,
    REFUSAL_KIND,
    DiscardStore,
    Ledger,
    LedgerSink,
)
from ledger.merkle import MerkleTree
from ledger.resume import ResumeMismatch, ResumingStore
from ledger.store import Location, Store, describe, is_url, resolve_target, resolve_url

__all__ = [
    "CLOSE_KIND",
    "GENESIS_KIND",
    "IDENTITY_KIND",
    "LOG_ROLE",
    "REFUSAL_KIND",
    "AuditReport",
    "AuthorizationError",
    "Checkpoint",
    "CheckpointError",
    "DiscardStore",
    "DomainCheck",
    "DomainFactory",
    "EncodingError",
    "Entry",
    "Finding",
    "Identity",
    "KeySecret",
    "Keystore",
    "Ledger",
    "LedgerError",
    "LedgerSink",
    "Location",
    "LogState",
    "MerkleTree",
    "PublicIdentity",
    "ResumeMismatch",
    "ResumingStore",
    "Signature",
    "SignatureError",
    "StatementDigest",
    "Store",
    "StoreError",
    "audit",
    "canonical_json",
    "decode_leaf",
    "derive_identity",
    "describe",
    "is_url",
    "open_checkpoint",
    "parse_leaf",
    "resolve_target",
    "resolve_url",
    "sign_checkpoint",
]
