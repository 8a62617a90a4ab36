"""dxsim's ground floor: a generic signed, append-only, Merkle-logged store.

It knows nothing of markets and imports no simulation code: entries are signed JSON statements of
some ``kind`` by some ``actor``, appended under an authorization table the domain supplies.
"""

from ledger.audit import AuditReport, Finding, KeyMismatchError, audit
from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.entry import Entry, Signature, canonical_json, decode_leaf, parse_leaf
from ledger.errors import (
    AuthorizationError,
    CheckpointError,
    EncodingError,
    LedgerError,
    SignatureError,
    StoreError,
)
from ledger.identity import Identity, Keystore, PublicIdentity, derive_identity
from ledger.log import GENESIS_KIND, IDENTITY_KIND, LOG_ROLE, REFUSAL_KIND, Ledger
from ledger.merkle import MerkleTree
from ledger.store import Store, resolve_url

__all__ = [
    "GENESIS_KIND",
    "IDENTITY_KIND",
    "LOG_ROLE",
    "REFUSAL_KIND",
    "AuditReport",
    "AuthorizationError",
    "Checkpoint",
    "CheckpointError",
    "EncodingError",
    "Entry",
    "Finding",
    "Identity",
    "KeyMismatchError",
    "Keystore",
    "Ledger",
    "LedgerError",
    "MerkleTree",
    "PublicIdentity",
    "Signature",
    "SignatureError",
    "Store",
    "StoreError",
    "audit",
    "canonical_json",
    "decode_leaf",
    "derive_identity",
    "open_checkpoint",
    "parse_leaf",
    "resolve_url",
    "sign_checkpoint",
]
