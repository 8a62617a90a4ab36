"""`dxsim run --resume RUN`: a killed or failed run continues to the ledger an uninterrupted
run would have written, byte for byte; a stored prefix the rerun does not reproduce (an altered
entry, other keys) is refused naming the seq, and nothing is appended to it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import KeySecret, ResumeMismatch, Store, audit
from marketplace.authorship import market_rules
from scenarios.build import World
from scenarios.catalog import resolve
from scenarios.cli_errors import UserError
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.run import RunResult, resume_run, run_scenario
from scenarios.schema import Scenario
from tests.conftest import PG_URL
from tests.keys import TEST_SECRET
from tests.scenarios.test_cli_run import dxsim

ROOT = Path(__file__).resolve().parents[2]
DAYS = 40
LABEL = f"key secret {TEST_SECRET.fingerprint}"


def scenario() -> Scenario:
    return load(resolve("baseline"), Scenario).with_overrides(days=DAYS)


def keys(secret: KeySecret = TEST_SECRET):  # type: ignore[no-untyped-def]
    return run_keys(secret, scenario().run.seed)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run_scenario(
        scenario(),
        tmp_path_factory.mktemp("whole") / "run",
        keys=keys(),
        keys_label=LABEL,
        check_determinism=False,
    )


def interrupted_at(out: Path, day: float) -> None:
    """A run stopped by Ctrl-C on ``day``: marked failed, its ledger abandoned, not closed."""

    def stop(world: World, now: float) -> None:
        if now >= day:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scenario(scenario(), out, keys=keys(), keys_label=LABEL, progress=stop)


def stored_rows(db: Path) -> int:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(connection.execute("select count(*) from entries").fetchone()[0])
    finally:
        connection.close()


def cut_back(complete: Path, out: Path, entries: int) -> None:
    """A copy of a complete run as a writer killed after ``entries`` entries would leave it:
    the manifest still ``incomplete``, the ledger only those rows (no final checkpoint)."""
    out.mkdir()
    manifest = json.loads((complete / "run.json").read_text())
    manifest.update(status="incomplete", entries=None, root=None, statements=None)
    (out / "run.json").write_text(json.dumps(manifest))
    (out / "scenario.json").write_text((complete / "scenario.json").read_text())
    source = Store(complete / "ledger.db")
    target = Store(out / "ledger.db", create=True)
    try:
        rows = [row for chunk in source.iter_rows() for row in chunk if row[0] < entries]
        identities = [i for i in source.identities() if i[3] < entries]
        target.write_batch(rows, identities)
        for key in ("origin", "verifier_key"):
            value = source.get_meta(key)
            assert value is not None
            target.set_meta(key, value)
    finally:
        source.close()
        target.close()


def test_a_run_stopped_mid_way_resumes_to_the_uninterrupted_ledger(
    tmp_path: Path, uninterrupted: RunResult
) -> None:
    out = tmp_path / "run"
    interrupted_at(out, day=DAYS / 2)
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    partial = stored_rows(out / "ledger.db")
    assert 0 < partial < uninterrupted.entries
    resumed = resume_run(out, keys=keys(), keys_label=LABEL)
    assert resumed.root == uninterrupted.root
    assert resumed.entries == uninterrupted.entries
    assert resumed.ok, [r for r in resumed.invariants if not r.ok]
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["error"] is None
    report = audit(out / "ledger.db", domain=market_rules)
    assert report.ok, report.summary()


def test_a_crash_between_batches_resumes_byte_for_byte(
    tmp_path: Path, uninterrupted: RunResult
) -> None:
    out = tmp_path / "crashed"
    cut_back(uninterrupted.out, out, 3 * 1024)
    resumed = resume_run(out, keys=keys(), keys_label=LABEL, check_determinism=False)
    assert resumed.root == uninterrupted.root
    assert stored_rows(out / "ledger.db") == uninterrupted.entries


def test_an_altered_stored_entry_is_named_and_nothing_is_appended(
    tmp_path: Path, uninterrupted: RunResult
) -> None:
    out = tmp_path / "tampered"
    cut_back(uninterrupted.out, out, 2048)
    connection = sqlite3.connect(out / "ledger.db")
    leaf = connection.execute("select leaf from entries where seq = 1500").fetchone()[0]
    forged = leaf.replace(b'"time":', b'"time": ', 1) if b'"time":' in leaf else leaf + b" "
    connection.execute("update entries set leaf = ? where seq = 1500", (forged,))
    connection.commit()
    connection.close()
    with pytest.raises(ResumeMismatch, match="entry 1500") as caught:
        resume_run(out, keys=keys(), keys_label=LABEL, check_determinism=False)
    assert caught.value.seq == 1500
    assert stored_rows(out / "ledger.db") == 2048
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "failed" and "entry 1500" in manifest["error"]


def test_other_keys_are_refused_before_anything_is_simulated(
    tmp_path: Path, uninterrupted: RunResult
) -> None:
    out = tmp_path / "crashed"
    cut_back(uninterrupted.out, out, 1024)
    other = KeySecret(bytes(range(1, 33)))
    with pytest.raises(UserError, match="signed with key secret"):
        resume_run(out, keys=keys(other), keys_label=f"key secret {other.fingerprint}")
    # A label that lies about the keys still cannot pass: the regenerated log identity differs.
    with pytest.raises(ResumeMismatch):
        resume_run(out, keys=keys(other), keys_label=LABEL, check_determinism=False)
    assert stored_rows(out / "ledger.db") == 1024


def test_a_complete_run_or_a_plain_directory_is_refused(
    tmp_path: Path, uninterrupted: RunResult
) -> None:
    with pytest.raises(UserError, match="complete; there is nothing to resume"):
        resume_run(uninterrupted.out, keys=keys(), keys_label=LABEL)
    with pytest.raises(UserError, match="not a dxsim run directory"):
        resume_run(tmp_path, keys=keys(), keys_label=LABEL)


@pytest.mark.postgres
def test_a_run_in_postgresql_resumes_in_its_schema(tmp_path: Path) -> None:
    if PG_URL is None:
        pytest.skip("DXSIM_TEST_PG_URL is not set")
    url = f"{PG_URL}?schema=dxsim_resume_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    store = Store(url, create=True)
    store.drop_all()
    store.close()
    out = tmp_path / "run"

    def stop(world: World, now: float) -> None:
        if now >= 10:
            raise KeyboardInterrupt

    small = scenario().with_overrides(days=20)
    with pytest.raises(KeyboardInterrupt):
        run_scenario(small, out, keys=keys(), keys_label=LABEL, ledger_url=url, progress=stop)
    with pytest.raises(UserError, match="pass that URL"):
        resume_run(out, keys=keys(), keys_label=LABEL)
    resumed = resume_run(out, keys=keys(), keys_label=LABEL, ledger_url=url)
    whole = run_scenario(
        small, tmp_path / "whole", keys=keys(), keys_label=LABEL, check_determinism=False
    )
    assert resumed.root == whole.root and resumed.ok


def test_dxsim_run_resume_after_sigkill(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-c", "from scenarios.cli import main; main()"]
    child = subprocess.Popen(
        [*command, "run", "baseline", "--days", "60", "--out", str(out), "--no-rerun"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert child.poll() is None, "the run ended before it could be killed"
            db = out / "ledger.db"
            if db.is_file() and _rows_or_zero(db) >= 2048:
                break
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    mixed = dxsim("run", "baseline", "--resume", str(out))
    assert mixed.returncode == 2 and "drop SCENARIO" in mixed.stderr, mixed.stderr
    done = dxsim("run", "--resume", str(out), "--no-rerun")
    assert done.returncode == 0, done.stderr
    whole = dxsim("run", "baseline", "--days", "60", "--out", str(tmp_path / "whole"), "--no-rerun")
    assert whole.returncode == 0, whole.stderr
    resumed = json.loads((out / "run.json").read_text())
    reference = json.loads((tmp_path / "whole" / "run.json").read_text())
    assert resumed["status"] == "complete"
    assert (resumed["root"], resumed["entries"]) == (reference["root"], reference["entries"])
    assert dxsim("verify", str(out)).returncode == 0
    again = dxsim("run", "--resume", str(out))
    assert again.returncode == 2 and "nothing to resume" in again.stderr


def _rows_or_zero(db: Path) -> int:
    try:
        return stored_rows(db)
    except sqlite3.Error:
        return 0
