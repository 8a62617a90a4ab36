"""No command deletes, overwrites or changes what it did not create; paths are paths."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.scenarios.test_cli_run import dxsim

SHORT = ("--days", "3", "--no-rerun")


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and a hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def a_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("files") / "run"
    done = dxsim("run", "baseline", "--out", str(out), *SHORT)
    assert done.returncode == 0, done.stderr
    return out


def test_demo_and_run_refuse_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    before = snapshot(mine)
    for args in (
        ("demo", "--out", str(mine)),
        ("run", "baseline", "--out", str(mine), *SHORT),
        ("run", "baseline", "--out", str(mine), "--force", *SHORT),
    ):
        done = dxsim(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "not a dxsim run directory" in done.stderr, done.stderr
        assert snapshot(mine) == before


def test_force_replaces_a_run_but_never_a_file_dxsim_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert dxsim("run", "baseline", "--out", str(out), *SHORT).returncode == 0
    again = dxsim("run", "baseline", "--out", str(out), *SHORT)
    assert again.returncode == 2 and "--force" in again.stderr
    assert dxsim("run", "baseline", "--out", str(out), "--force", *SHORT).returncode == 0
    (out / "notes.md").write_text("my reading of the run")
    done = dxsim("run", "baseline", "--out", str(out), "--force", *SHORT)
    assert done.returncode == 2 and "notes.md" in done.stderr
    assert (out / "notes.md").read_text() == "my reading of the run"
    assert (out / "ledger.db").is_file()  # the previous run is still whole


def test_an_out_path_with_url_characters_keeps_the_ledger_inside(tmp_path: Path) -> None:
    out = tmp_path / "odd?name=1#frag%20x"
    done = dxsim("run", "baseline", "--out", str(out), *SHORT)
    assert done.returncode == 0, done.stderr
    assert (out / "ledger.db").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # nothing beside it
    assert dxsim("verify", str(out)).returncode == 0


def test_reading_commands_change_nothing(a_run: Path, tmp_path: Path) -> None:
    before = snapshot(a_run)
    key = dxsim("checkpoint", "--verifier-key", str(a_run)).stdout.strip()
    note = tmp_path / "kept.note"
    note.write_text(dxsim("checkpoint", str(a_run)).stdout)
    for args in (
        ("verify", str(a_run)),
        ("verify", str(a_run / "ledger.db"), "--json"),
        ("verify", str(a_run), "--key", key, "--checkpoint", str(note)),
        ("check", str(a_run)),
        ("prove", str(a_run), "3"),
        ("checkpoint", str(a_run), "--all", "--json"),
        ("checkpoint", "--verifier-key", str(a_run)),
    ):
        assert dxsim(*args).returncode == 0, args
        assert snapshot(a_run) == before, args
    mode = sqlite3.connect(f"file:{a_run / 'ledger.db'}?mode=ro", uri=True)
    assert mode.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # a sealed archive
    mode.close()


def test_verify_does_not_turn_an_empty_file_into_a_database(tmp_path: Path) -> None:
    empty = tmp_path / "ledger.db"
    empty.write_bytes(b"")
    done = dxsim("verify", str(empty))
    assert done.returncode == 2 and "not a dxsim ledger" in done.stderr
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db"]


def test_verify_leaves_a_delete_journal_ledger_as_it_is(a_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ledger.db"
    copy.write_bytes((a_run / "ledger.db").read_bytes())
    before = copy.read_bytes()
    assert dxsim("verify", str(copy)).returncode == 0
    assert copy.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db"]


def test_synthetic_refuses_an_existing_ledger(tmp_path: Path) -> None:
    (tmp_path / "ledger.db").write_bytes(b"precious")
    done = dxsim("synthetic", str(tmp_path), "--entries", "10")
    assert done.returncode == 2
    assert (tmp_path / "ledger.db").read_bytes() == b"precious"


def test_a_key_secret_inside_the_run_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    secret = out / "key-secret"
    secret.write_text("ab" * 32)
    done = dxsim("run", "baseline", "--out", str(out), "--key-secret", str(secret), *SHORT)
    assert done.returncode == 2 and "inside the run directory" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["key-secret"]


def test_keep_checkpoint_writes_a_new_file_outside_the_run(tmp_path: Path) -> None:
    out, kept = tmp_path / "run", tmp_path / "kept.note"
    done = dxsim("run", "baseline", "--out", str(out), "--keep-checkpoint", str(kept), *SHORT)
    assert done.returncode == 0, done.stderr
    assert dxsim("verify", str(out), "--checkpoint", str(kept)).returncode == 0
    again = dxsim("run", "baseline", "--out", str(tmp_path / "b"), "--keep-checkpoint", str(kept))
    assert again.returncode == 2 and "exists" in again.stderr
    assert not (tmp_path / "b").exists()
