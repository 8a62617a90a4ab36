"""`dxsim run --ledger-url postgresql+psycopg://...`: the ledger in a real PostgreSQL server, the
rest in the run directory, and every reading command following the manifest to it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL
from tests.scenarios.test_cli_run import dxsim

pytestmark = pytest.mark.postgres
SHORT = ("--days", "3", "--no-rerun")


@pytest.fixture
def schema_url() -> Iterator[str]:
    if PG_URL is None:
        pytest.skip("DXSIM_TEST_PG_URL is not set")
    schema = f"dxsim_test_{secrets.token_hex(4)}"
    yield f"{PG_URL}?schema={schema}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def test_a_run_writes_its_ledger_to_postgres_and_every_command_follows(
    schema_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    done = dxsim("run", "baseline", "--out", str(out), "--ledger-url", schema_url, *SHORT)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["ledger"] == schema_url and manifest["status"] == "complete"
    assert not (out / "ledger.db").exists()
    verified = dxsim("verify", str(out))
    assert verified.returncode == 0 and verified.stdout.startswith("OK  "), verified
    assert dxsim("check", str(out)).returncode == 0
    assert dxsim("verify", schema_url).stdout == verified.stdout  # the URL itself, too
    assert dxsim("checkpoint", str(out)).stdout.startswith("dxsim-log\n")
    assert dxsim("prove", str(out), "5").returncode == 0


def test_a_database_that_holds_a_ledger_is_never_written_again(
    schema_url: str, tmp_path: Path
) -> None:
    first = tmp_path / "a"
    assert (
        dxsim("run", "baseline", "--out", str(first), "--ledger-url", schema_url, *SHORT).returncode
        == 0
    )
    second = dxsim(
        "run", "baseline", "--out", str(tmp_path / "b"), "--ledger-url", schema_url, *SHORT
    )
    assert second.returncode == 2 and "already holds a ledger" in second.stderr
    assert dxsim("verify", str(first)).returncode == 0  # untouched
    # --force replaces the run's own ledger (dxsim made those tables) and writes it anew
    again = dxsim(
        "run", "baseline", "--out", str(first), "--ledger-url", schema_url, "--force", *SHORT
    )
    assert again.returncode == 0, again.stderr
    assert dxsim("verify", str(first)).returncode == 0


def test_tampering_with_a_postgres_ledger_is_caught(schema_url: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        dxsim("run", "baseline", "--out", str(out), "--ledger-url", schema_url, *SHORT).returncode
        == 0
    )
    schema = schema_url.rsplit("=", 1)[1]
    engine = create_engine(PG_URL or "")
    with engine.begin() as conn:
        conn.execute(text(f'DELETE FROM "{schema}".entries WHERE seq = 40'))
    engine.dispose()
    done = dxsim("verify", str(out))
    assert done.returncode == 1 and done.stdout.startswith("BAD  seq 40  "), done.stdout


def test_a_url_without_a_scheme_is_refused(tmp_path: Path) -> None:
    done = dxsim("run", "baseline", "--out", str(tmp_path / "r"), "--ledger-url", "ledger.db")
    assert done.returncode == 2 and "not a URL" in done.stderr
