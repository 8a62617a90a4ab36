"""Keys for tests: derived from one fixed test secret, never from a seed alone."""

from __future__ import annotations

from ledger import Identity, KeySecret

#: The suite's key secret (also exported as DXSIM_KEY_SECRET by conftest for CLI subprocesses).
TEST_SECRET = KeySecret(bytes(range(32)))


def test_identity(seed: int, identity_id: str, role: str) -> Identity:
    """The identity ``identity_id`` of test ledger ``seed``."""
    return TEST_SECRET.identity(f"test/seed={seed}", identity_id, role)


test_identity.__test__ = False  # type: ignore[attr-defined]  # a helper, not a pytest test
