"""`dxsim run / validate / scenarios` as a user meets them, bad input included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.catalog import resolve

BASELINE = resolve("baseline").read_text(encoding="utf-8")


def dxsim(*args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from scenarios.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
        stdin=subprocess.DEVNULL,
    )


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    assert old in BASELINE
    text = BASELINE.replace(old, new, 1)
    path = tmp_path / "broken.toml"
    path.write_text(text)
    return path, line_of(text, new)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("supplier_fee_bp = 250", "suplier_fee_bp = 250", "did you mean 'supplier_fee_bp'"),
        ("count = 200", 'count = "many"', "population[1].count"),
        ('strategy = "best-surplus"', 'strategy = "best-surplu"', "'best-surplus'"),
        ("count = 4", "count = -4", "population[2].count"),
        ('pricing = "posted"', 'pricing = "auction"', "'cost-plus'"),
    ],
)
def test_scenario_mistakes_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path, line = broken(tmp_path, old, new)
    for command in ("validate", "run"):
        done = (
            dxsim(command, str(path), "--out", str(tmp_path / "out"))
            if command == "run"
            else dxsim(command, str(path))
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        message = done.stderr.strip().splitlines()[0]
        assert message.startswith(f"dxsim: error: {path}:{line}: "), message
        assert expected in message, message
    assert not (tmp_path / "out" / "ledger.db").exists()


def test_missing_and_unknown_scenarios(tmp_path: Path) -> None:
    for args in (("run", str(tmp_path / "nope.toml")), ("validate", "no-such-builtin")):
        done = dxsim(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_validate_and_list(tmp_path: Path) -> None:
    done = dxsim("validate", "baseline")
    assert done.returncode == 0 and done.stdout.startswith("OK  baseline: 50 providers, 200 buyers")
    assert "baseline" in dxsim("scenarios").stdout


def test_run_writes_a_run_directory_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "short"
    done = dxsim("run", "baseline", "--days", "15", "--seed", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "all invariants hold" in done.stdout
    assert (out / "summary.txt").read_text().count("invariant") >= 5
    again = dxsim("run", "baseline", "--days", "15", "--out", str(out))
    assert (
        again.returncode == 2
        and "already holds a run" in again.stderr
        and "--force" in again.stderr
    )
    verify = dxsim("verify", str(out))
    assert verify.returncode == 0 and verify.stdout.startswith("OK  ")


def test_keystore_runs_sign_with_stored_random_keys(tmp_path: Path) -> None:
    env = {**os.environ, "DXSIM_KEYSTORE_PASSPHRASE": "correct horse"}

    def run(out: str, keys: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
        args = ["run", "baseline", "--days", "5", "--out", str(tmp_path / out)]
        # a small cast: each identity's key is encrypted and decrypted (PKCS#8, slow on purpose)
        small = ["--set", "population.0.count=5", "--set", "population.1.count=10"]
        return dxsim(*args, *small, "--keystore", str(tmp_path / keys), environ=environ)

    first, again, other = run("a", "keys", env), run("b", "keys", env), run("c", "other", env)
    assert first.returncode == again.returncode == other.returncode == 0, first.stderr
    roots = [
        dxsim("verify", str(tmp_path / name)).stdout.split("root ")[1].split()[0] for name in "abc"
    ]
    assert roots[0] == roots[1] != roots[2]  # same stored keys, same ledger; new keys differ
    assert (
        (tmp_path / "keys" / "dxsim-log.pem")
        .read_bytes()
        .startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    )
    wrong = run("d", "keys", {**os.environ, "DXSIM_KEYSTORE_PASSPHRASE": "wrong"})
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'pricing = "posted"',
            'pricing = "cost-plus"\npricing_params = { markup_bp = -1 }',
            "markup_bp",
        ),
        (
            "cross_border_share = 0.0",
            "cross_border_share = 0.5\nforeign_destinations = []",
            "foreign_destinations",
        ),
        ("cross_border_share = 0.0", 'home = "cn"', "home"),
        (
            "strategy_params = { start_markup_bp = 8000,",
            "strategy_params = { start_markup_bp = 1.5,",
            "start_markup_bp = 1.5",
        ),
        (
            'strategy = "quality-logistic"',
            'strategy = "quality-logistic"\nstrategy_params = { scale_pct = 0 }',
            "scale_pct = 0: Input should be greater than 0",
        ),
    ],
)
def test_inputs_that_would_crash_mid_run_are_refused_up_front(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in BASELINE
    path = tmp_path / "odd.toml"
    path.write_text(BASELINE.replace(old, new, 1))
    done = dxsim("validate", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"dxsim: error: {path}:") and expected in done.stderr


def test_out_of_range_overrides_are_usage_errors(tmp_path: Path) -> None:
    for flag, value in (("--days", "40000"), ("--seed", str(2**63))):
        done = dxsim("run", "baseline", flag, value, "--out", str(tmp_path / "x"))
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert not (tmp_path / "x").exists()


def test_a_typo_in_a_required_field_is_one_line(tmp_path: Path) -> None:
    """The misspelt key and the now-missing field are one mistake: reported once."""
    path, line = broken(tmp_path, "count = 200", "cuont = 200")
    done = dxsim("validate", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"dxsim: error: {path}:{line}: population[1].cuont: unknown")
    assert "did you mean 'count'" in done.stderr and "more problem" not in done.stderr
