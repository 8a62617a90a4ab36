"""A run killed at any point leaves a directory marked incomplete whose ledger prefix verifies,
which `dxsim verify` reports as not closed / incomplete (exit 4, never OK), which a rerun with
`--force` replaces, and nothing outside it (the same-seed rerun writes nowhere)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.scenarios.test_cli_run import dxsim

ROOT = Path(__file__).resolve().parents[2]


def rows(db: Path) -> int:
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return int(connection.execute("select count(*) from entries").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error:
        return 0


def closed(db: Path) -> bool:
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            found = connection.execute("select 1 from entries where kind = 'ledger.close'")
            return found.fetchone() is not None
        finally:
            connection.close()
    except sqlite3.Error:
        return False


def scratch() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("dxsim-rerun")}


def kill_when(out: Path, ready: Callable[[Path], bool], sig: int = signal.SIGKILL) -> int:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from scenarios.cli import main; main()",
            "run",
            "baseline",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready(out) and time.monotonic() < deadline:
            assert child.poll() is None, "the run ended before the moment to kill it"
            time.sleep(0.01)
        os.kill(child.pid, sig)
        return child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()


def check_incomplete(out: Path) -> dict[str, object]:
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] in ("incomplete", "failed"), manifest
    done = dxsim("verify", str(out), "--json")
    assert done.returncode == 4, (done.stdout, done.stderr)  # verifies, but is not complete
    report = json.loads(done.stdout)
    assert report["verified"] is True and report["ok"] is False
    assert report["outcome"] in ("not-closed", "run-incomplete")
    text = dxsim("verify", str(out)).stdout
    assert not text.startswith("OK") and (
        text.startswith("NOT CLOSED") or text.startswith("INCOMPLETE RUN")
    ), text
    return report


MOMENTS: dict[str, Callable[[Path], bool]] = {
    "as soon as it marks its directory": lambda out: (out / "run.json").is_file(),
    "with the first rows committed": lambda out: rows(out / "ledger.db") > 0,
    "mid-run": lambda out: rows(out / "ledger.db") > 3000,
    "during the same-seed rerun": lambda out: closed(out / "ledger.db"),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_sigkill_leaves_an_incomplete_run_that_verifies_and_can_be_replaced(
    tmp_path: Path, moment: str
) -> None:
    before = scratch()
    out = tmp_path / "run"
    assert kill_when(out, MOMENTS[moment]) == -signal.SIGKILL
    if (out / "ledger.db").is_file() and rows(out / "ledger.db"):
        report = check_incomplete(out)
        if moment == "during the same-seed rerun":
            assert report["closed"] is True and report["outcome"] == "run-incomplete"
    assert scratch() == before  # the rerun wrote nowhere, so it leaves nothing behind
    refused = dxsim("run", "baseline", "--out", str(out), "--days", "2", "--no-rerun")
    assert refused.returncode == 2 and "--force" in refused.stderr
    redo = dxsim("run", "baseline", "--out", str(out), "--days", "2", "--no-rerun", "--force")
    assert redo.returncode == 0, redo.stderr
    assert dxsim("verify", str(out)).returncode == 0


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    chooser = random.Random(20261201)
    for attempt in range(2):
        out = tmp_path / f"run{attempt}"
        delay = chooser.uniform(0.3, 2.5)
        started = time.monotonic()
        kill_when(out, lambda _out, s=started, d=delay: time.monotonic() - s > d)
        if (out / "ledger.db").is_file() and rows(out / "ledger.db"):
            check_incomplete(out)


def test_sigterm_marks_the_run_failed_and_keeps_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = kill_when(out, lambda o: rows(o / "ledger.db") > 2000, signal.SIGTERM)
    assert code == 130
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"] == "interrupted"
    report = check_incomplete(out)
    assert report["entries_past_last_checkpoint"] == 0  # what it had was checkpointed
