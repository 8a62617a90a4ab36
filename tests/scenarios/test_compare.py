"""`dxsim compare`: common random numbers and paired differences with t intervals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy import stats

from scenarios.compare import paired_interval
from tests.scenarios.test_cli_run import dxsim

PRC = str(Path(__file__).resolve().parents[2] / "scenarios" / "policies" / "prc-2024.toml")
PERMISSIVE = str(Path(__file__).parent / "policies" / "permissive.toml")


def test_the_paired_interval_is_students_t() -> None:
    differences = [1.0, 3.0, 2.0, 6.0]
    mean, low, high = paired_interval(differences) or (0.0, 0.0, 0.0)
    sd = math.sqrt(sum((d - 3.0) ** 2 for d in differences) / 3)
    half = stats.t.ppf(0.975, 3) * sd / 2
    assert mean == 3.0 and low == pytest.approx(3.0 - half) and high == pytest.approx(3.0 + half)
    assert paired_interval([4.0]) is None


def test_one_policy_against_itself_differs_by_nothing_at_all() -> None:
    """Common random numbers: the same pack, by name and by path, gives the same figures in
    every replication, so every paired difference is exactly 0."""
    done = dxsim(
        "compare", "crossborder", "--policy", "prc-2024", "--policy", PRC,
        "--reps", "2", "--days", "40", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["seeds"] == [1, 2] and result["broken_invariants"] == []
    for headline in result["headlines"]:
        difference = headline["paired_difference"][PRC]
        assert difference is None or difference == {"mean": 0.0, "ci95": [0.0, 0.0]}, headline


def test_a_permissive_pack_refuses_less_than_the_law(tmp_path: Path) -> None:
    done = dxsim(
        "compare", "crossborder", "--policy", "prc-2024", "--policy", PERMISSIVE,
        "--reps", "2", "--days", "60", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    headlines = {h["label"]: h for h in json.loads(done.stdout)["headlines"]}
    approvals = headlines["security assessments approved"]
    assert approvals["means"][PERMISSIVE] == 0 < approvals["means"]["prc-2024"]
    assert headlines["delivered abroad"]["paired_difference"][PERMISSIVE]["mean"] > 0


def test_compare_refuses_bad_input() -> None:
    for args in (
        ("compare", "crossborder", "--policy", "prc-2024"),
        ("compare", "crossborder", "--policy", "prc-2024", "--policy", "no-such-pack"),
        ("compare", "crossborder", "--policy", "a", "--policy", "b", "--reps", "1"),
    ):
        done = dxsim(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (args, done.stderr)
