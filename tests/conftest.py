"""Shared fixtures: ledger backends. PostgreSQL runs whenever DXSIM_TEST_PG_URL is set (CI)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.store import Store
from tests.keys import TEST_SECRET

PG_URL = os.environ.get("DXSIM_TEST_PG_URL")

# Every run and CLI call of the suite (subprocesses included) signs with the suite's own key
# secret, and none may touch the user's own ~/.config/dxsim: tests that need the default
# location unset DXSIM_KEY_SECRET themselves.
os.environ["DXSIM_KEY_SECRET"] = TEST_SECRET.to_hex()
os.environ.pop("DXSIM_KEY_SECRET_FILE", None)
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="dxsim-test-config-")

if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must set DXSIM_TEST_PG_URL: the PostgreSQL tests may not be skipped")


def _fresh_pg() -> str:
    """An emptied ledger in PostgreSQL, in a schema of this test worker's own (so parallel
    workers of ``pytest -n`` never reset each other's tables)."""
    assert PG_URL is not None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = f"{PG_URL}?schema=dxsim_suite_{worker}"
    store = Store(url, create=True)
    store.drop_all()
    store.close()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for a new, empty ledger on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    if PG_URL is None:
        pytest.skip("DXSIM_TEST_PG_URL is not set")
    yield _fresh_pg()
