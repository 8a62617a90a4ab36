"""`dxsim verify / prove / consistency / checkpoint` as a user runs them: output and exit codes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import open_checkpoint
from tests.ledger.helpers import small_ledger


def dxsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from scenarios.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    small_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", entries=24, checkpoint_every=8)
    return tmp_path


def test_verify_intact_prints_the_one_line_summary(run_dir: Path) -> None:
    done = dxsim("verify", str(run_dir))
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("OK  30 entries  root ") and "  4 checkpoints  statements " in line
    assert len(done.stdout.splitlines()) == 1


def test_verify_json(run_dir: Path) -> None:
    done = dxsim("verify", str(run_dir / "ledger.db"), "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["ok"] is True and report["entries"] == 30


@pytest.mark.parametrize("offset", [0, 37, 120, -40, -3])
def test_verify_flipped_byte_exits_1_naming_the_seq(run_dir: Path, offset: int) -> None:
    db = sqlite3.connect(run_dir / "ledger.db")
    leaf = bytearray(db.execute("select leaf from entries where seq = 6").fetchone()[0])
    leaf[offset] ^= 0x04
    db.execute("update entries set leaf = ? where seq = 6", (bytes(leaf),))
    db.commit()
    db.close()
    done = dxsim("verify", str(run_dir))
    assert done.returncode == 1
    assert done.stdout.startswith("BAD  seq 6  kind market.contract  actor bob: ")
    assert json.loads(dxsim("verify", str(run_dir), "--json").stdout)["first_bad"]["seq"] == 6


def test_bad_inputs_are_one_line_exit_2(run_dir: Path, tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello, this is not a ledger\n" * 50)
    empty_db = tmp_path / "empty.db"
    sqlite3.connect(empty_db).execute("create table t (x)").connection.close()
    corrupt = tmp_path / "corrupt.note"
    corrupt.write_text(dxsim("checkpoint", str(run_dir)).stdout.replace("\n30\n", "\n29\n"))
    cases = [
        ("verify", str(tmp_path / "missing.db")),
        ("verify", str(not_a_db)),
        ("verify", str(empty_db)),
        ("verify", str(run_dir), "--key", "not-a-key"),
        ("verify", str(run_dir), "--checkpoint", str(corrupt)),
        ("verify", str(run_dir), "--checkpoint", str(tmp_path / "nope.note")),
        ("prove", str(run_dir), "999"),
        ("checkpoint", str(tmp_path / "missing")),
    ]
    for args in cases:
        done = dxsim(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dxsim: error: "), (args, done.stderr)


def test_a_pinned_key_of_another_log_does_not_verify(run_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    small_ledger(f"sqlite:///{other / 'ledger.db'}", entries=2, seed=9)
    other_key = dxsim("checkpoint", "--verifier-key", str(other)).stdout.strip()
    done = dxsim("verify", str(run_dir), "--key", other_key)
    assert done.returncode == 1, done
    assert done.stdout.startswith("BAD  seq 0  kind ledger.genesis") and "pinned" in done.stdout


def test_pinned_key_and_witness_checkpoint(run_dir: Path, tmp_path: Path) -> None:
    key = dxsim("checkpoint", "--verifier-key", str(run_dir)).stdout.strip()
    note = tmp_path / "witness.note"
    note.write_text(dxsim("checkpoint", str(run_dir)).stdout)
    done = dxsim("verify", str(run_dir), "--key", key, "--checkpoint", str(note))
    assert done.returncode == 0, done.stderr


def test_checkpoint_export_is_the_stored_note(run_dir: Path) -> None:
    note = dxsim("checkpoint", str(run_dir)).stdout
    key = dxsim("checkpoint", "--verifier-key", str(run_dir)).stdout.strip()
    assert note.endswith("\n") and not note.endswith("\n\n")
    assert open_checkpoint(note, key).size == 30
    every = json.loads(dxsim("checkpoint", "--all", "--json", str(run_dir)).stdout)
    assert [open_checkpoint(n, key).size for n in every] == [8, 16, 24, 30]


def test_prove_and_consistency(run_dir: Path) -> None:
    done = dxsim("prove", str(run_dir), "6", "--json")
    proof = json.loads(done.stdout)
    assert done.returncode == 0 and proof["verified"] and proof["size"] == 30
    assert proof["kind"] == "market.contract"
    done = dxsim("consistency", str(run_dir), "8", "24")
    assert done.returncode == 0 and done.stdout.startswith("OK  8 -> 24")


def test_verify_checks_market_bodies_against_their_models(tmp_path: Path) -> None:
    """A correctly signed entry whose body breaks the exchange's model is still a bad entry."""
    from ledger import Ledger
    from marketplace.entries import AUTHORIZATION
    from tests.keys import test_identity

    operator = test_identity(1, "exchange-operator", "operator")
    ledger = Ledger.create(
        tmp_path / "ledger.db", test_identity(1, "dxsim-log", "log"), AUTHORIZATION
    )
    ledger.register(operator)
    ledger.record(
        "account.open", {"account": "x", "role": "buyer", "endowment_fen": -5}, 0, [operator]
    )
    ledger.close()
    done = dxsim("verify", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout.startswith("BAD  seq 2  kind account.open  actor exchange-operator: body")
    assert "endowment_fen" in done.stdout


def test_a_replaced_stored_verifier_key_is_refused_not_printed(
    run_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "ledger.db"
    copy.write_bytes((run_dir / "ledger.db").read_bytes())
    other = dxsim("checkpoint", "--verifier-key", str(run_dir)).stdout.strip()[:-4] + "AAA="
    with sqlite3.connect(copy) as conn:
        conn.execute("update ledger_meta set value = ? where key = 'verifier_key'", (other,))
    done = dxsim("checkpoint", "--verifier-key", str(copy))
    assert done.returncode == 1 and done.stdout == "" and "tampered" in done.stderr
    assert dxsim("verify", str(copy)).returncode == 1


def test_statistics_of_nothing_read_n_a(tmp_path: Path) -> None:
    scenario = tmp_path / "none.toml"
    scenario.write_text(
        '[run]\nname = "nothing"\ndays = 5\n\n[[population]]\nkind = "buyer"\ncount = 3\n'
    )
    out = tmp_path / "run"
    done = dxsim("run", str(scenario), "--out", str(out), "--no-rerun")
    assert done.returncode == 0, done.stderr
    summary = (out / "summary.txt").read_text()
    assert "trading: mean price" in summary
    line = next(x for x in summary.splitlines() if "trading: mean price" in x)
    assert "n/a" in line and "¥0.00" not in line
    assert json.loads((out / "metrics.json").read_text())["price_mean_fen"] is None


def test_prove_over_an_altered_tile_row_says_what_to_do(tmp_path: Path) -> None:
    """A stored row rewritten with wrong hashes: the proof fails against the signed root and
    says so; a row cut short is named before any proof is built."""
    path = tmp_path / "ledger.db"
    small_ledger(str(path), entries=1100, checkpoint_every=512)
    connection = sqlite3.connect(path)
    connection.execute(
        "update merkle_tiles set hashes = zeroblob(8192) where tree_level = 0 and idx = 1"
    )
    connection.commit()
    done = dxsim("prove", str(path), "300", "--size", "1024")
    assert done.returncode == 1 and done.stdout.startswith("BAD  seq 300")
    assert "dxsim verify names the first bad entry" in done.stderr
    connection.execute("update merkle_tiles set hashes = zeroblob(100) where tree_level = 1")
    connection.commit()
    connection.close()
    done = dxsim("prove", str(path), "300", "--size", "1024")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Merkle tile row (level 1, index 0) is damaged: 100 bytes, not 8192" in done.stderr
