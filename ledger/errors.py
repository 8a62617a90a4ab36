"""The ledger's exceptions: one root, so callers can catch everything the ledger refuses."""

from __future__ import annotations

__all__ = [
    "AuthorizationError",
    "CheckpointError",
    "EncodingError",
    "LedgerError",
    "SignatureError",
    "StoreError",
]


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class EncodingError(LedgerError, ValueError):
    """A body or entry cannot be put in canonical form (a float, a non-string key, NaN...)."""


class SignatureError(LedgerError):
    """A signature is missing, malformed, by an unknown identity, or does not verify."""


class AuthorizationError(LedgerError):
    """The authorizer refused: this role may not sign this kind of entry."""


class CheckpointError(LedgerError):
    """A signed checkpoint note is malformed, or not signed by the expected key."""


class StoreError(LedgerError):
    """The store cannot be opened or is not a dxsim ledger (missing file, wrong schema...)."""
