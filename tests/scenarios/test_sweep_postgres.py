"""``dxsim sweep --ledger-url``: every replication keeps its ledger in its own schema of a real
PostgreSQL server; the tables are those of the same study on SQLite, each ledger verifies, and
a rerun after the rows were lost writes new schemas instead of rewriting a ledger."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from scenarios.sweeps import load_study, run_study
from tests.conftest import PG_URL
from tests.scenarios.runs import cli

pytestmark = pytest.mark.postgres

STUDY = """\
[study]
name = "pg"
scenario = "baseline"
replications = 2
seed = {seed}
metrics = ["trades", "volume_fen"]

[set]
"run.days" = 5
"population.0.count" = 10
"population.1.count" = 40
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    if PG_URL is None:
        pytest.skip("DXSIM_TEST_PG_URL is not set")
    yield PG_URL
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        names = conn.execute(
            text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
            {"p": "dxsim_sweep_%"},
        ).scalars()
        for name in [n for n in names if n in _made]:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()


_made: set[str] = set()


def ledgers(out: Path) -> list[str]:
    urls = [json.loads(p.read_text())["ledger"] for p in sorted((out / "rows").glob("*.json"))]
    _made.update(url.rsplit("schema=", 1)[1] for url in urls)
    return urls


def test_each_replication_keeps_its_ledger_in_its_own_schema(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "pg.toml"
    path.write_text(STUDY.format(seed=secrets.randbelow(2**40)), encoding="utf-8")
    study = load_study(path)
    run_study(study, tmp_path / "sqlite", backend="serial")
    run_study(study, tmp_path / "pg", backend="serial", ledger_url=pg_url)
    urls = ledgers(tmp_path / "pg")
    assert len(set(urls)) == 2 and all("schema=dxsim_sweep_" in url for url in urls)
    for url in urls:
        verified = cli("verify", url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    # the same statements, whichever database held them: the tables are identical
    for table in ("results.csv", "summary.csv"):
        assert (tmp_path / "pg" / table).read_bytes() == (tmp_path / "sqlite" / table).read_bytes()

    for row in (tmp_path / "pg" / "rows").glob("*.json"):
        row.unlink()  # the rows are lost; the ledgers are not
    outcome = run_study(study, tmp_path / "pg", backend="serial", ledger_url=pg_url)
    assert outcome.ran == 2
    again = ledgers(tmp_path / "pg")
    assert not set(again) & set(urls) and all(url.endswith("_a2") for url in again)
    assert all(cli("verify", url).returncode == 0 for url in urls)  # the first ones untouched
