"""Exit codes mean one thing each: 0 ok, 1 does not verify, 2 bad input, 3 a bug in dxsim,
4 verifies but incomplete. A bug is one line saying where to report it, a traceback only with
``--debug``; a damaged ledger names where it is damaged."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import Ledger
from tests.keys import test_identity
from tests.scenarios.test_cli_run import dxsim

ROOT = Path(__file__).resolve().parents[2]
BOOM = (
    "import scenarios.run as r\n"
    "def boom(*a, **k):\n    raise RuntimeError('boom in the fold')\n"
    "r.check_and_fold = boom\n"
    "from scenarios.cli import main\nmain()\n"
)


@pytest.fixture(scope="module")
def a_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("codes") / "run"
    assert dxsim("run", "baseline", "--out", str(out), "--days", "5", "--no-rerun").returncode == 0
    return out


def test_a_bug_is_exit_3_in_one_line_and_the_run_is_marked_failed(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "baseline", "--out", str(out), "--days", "2", "--no-rerun"]
    done = subprocess.run(
        [sys.executable, "-c", BOOM, *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "dxsim: internal error: RuntimeError: boom in the fold", lines
    assert "report it" in done.stderr and "--debug" in done.stderr
    assert "Traceback" not in done.stderr
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"] == "boom in the fold"
    verified = dxsim("verify", str(out))
    assert verified.returncode == 4 and "run failed: boom in the fold" in verified.stdout
    debug = subprocess.run(
        [sys.executable, "-c", BOOM, *args, "--force", "--debug"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert debug.returncode == 3 and "Traceback" in debug.stderr


@pytest.mark.parametrize("offset", [300_000, 200_000])
def test_a_damaged_page_does_not_verify_and_says_where(
    a_run: Path, tmp_path: Path, offset: int
) -> None:
    damaged = tmp_path / "ledger.db"
    shutil.copyfile(a_run / "ledger.db", damaged)
    assert damaged.stat().st_size > offset + 4096
    with damaged.open("r+b") as handle:
        handle.seek(offset)
        handle.write(b"\xde\xad\xbe\xef" * 1024)
    done = dxsim("verify", str(damaged))
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout.startswith("BAD  seq ") and "damaged" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_damaged_header_is_not_a_ledger(a_run: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "ledger.db"
    shutil.copyfile(a_run / "ledger.db", damaged)
    with damaged.open("r+b") as handle:
        handle.write(b"\x00" * 100)
    done = dxsim("verify", str(damaged))
    assert done.returncode == 2 and done.stderr.startswith("dxsim: error: ")
    assert "not a dxsim ledger" in done.stderr and len(done.stderr.splitlines()) == 1


def test_a_ledger_with_no_entries_does_not_verify(tmp_path: Path) -> None:
    ledger = Ledger.create(tmp_path / "ledger.db", test_identity(1, "log", "log"), {})
    ledger.store.close()  # the writer died before its first batch: tables, no rows
    done = dxsim("verify", str(tmp_path))
    assert done.returncode == 1 and "no entries" in done.stdout


def test_a_checkpoint_file_that_is_not_utf8_is_bad_input(a_run: Path, tmp_path: Path) -> None:
    note = tmp_path / "bad.note"
    note.write_bytes(b"\xff\xfe not a note")
    done = dxsim("verify", str(a_run), "--checkpoint", str(note))
    assert done.returncode == 2 and "not UTF-8" in done.stderr and "Traceback" not in done.stderr


def test_usage_errors_are_exit_2(a_run: Path) -> None:
    for args in (("verify",), ("run",), ("nonsense",), ("prove", str(a_run), "-1")):
        done = dxsim(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
