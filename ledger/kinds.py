"""The log's own entry kinds (everything under ``ledger.``), signed by the log's key only."""

from __future__ import annotations

__all__ = [
    "CLOSE_KIND",
    "GENESIS_KIND",
    "IDENTITY_KIND",
    "LEDGER_KINDS",
    "LOG_ROLE",
    "REFUSAL_KIND",
]

GENESIS_KIND = "ledger.genesis"
IDENTITY_KIND = "ledger.identity"
REFUSAL_KIND = "ledger.refusal"
CLOSE_KIND = "ledger.close"
LOG_ROLE = "log"
LEDGER_KINDS = frozenset({GENESIS_KIND, IDENTITY_KIND, REFUSAL_KIND, CLOSE_KIND})
