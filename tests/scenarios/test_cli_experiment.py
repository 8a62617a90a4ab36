"""``dxsim experiment``: the table and the PNG, --set, the same JSON for the same seed, one
clear line for every mistake, and no file overwritten that dxsim did not write."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from scenarios import experiments as registry
from scenarios.experiments import Shortcut
from scenarios.experiments.agarwal_copy import EXPERIMENT, AgarwalCopy
from tests.scenarios.runs import Done, cli
from tests.scenarios.test_cli_run import dxsim

SMALL = ("--reps", "3", "--set", "copies.max=2", "--set", "task.train_rows=100")


def _run(*args: str) -> Done:
    return cli("experiment", "agarwal-copy", *SMALL, *args)


def _one_line(done: Done) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_listing() -> None:
    for args in (("experiments",), ("experiment", "--list")):
        done = cli(*args)
        assert done.returncode == 0 and done.stdout.startswith("smith1962 ")
        assert all(name in done.stdout for name in ("gode-sunder", "agarwal-copy"))


def test_table_and_png(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _run("--out", str(out))
    assert done.returncode == 0, done.stderr
    for text in ("B, Shapley, k=2", "B, Robust, k=2", "published", "2/3 = 0.667", "agrees"):
        assert text in done.stdout
    assert "NO" not in done.stdout  # the paper is borne out, even on 3 replications
    image = imread(out / "agarwal-copy.png")
    assert image.shape[0] > 300 and image.shape[1] > 500
    assert float(np.std(image[..., :3])) > 0.05  # drawn, not blank
    manifest = json.loads((out / "dxsim-experiment.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["files"] == ["agarwal-copy.json", "agarwal-copy.png"]
    stored = json.loads((out / "agarwal-copy.json").read_text())
    assert stored["replications"] == 3 and stored["config"]["copies"]["max"] == 2


def _json(tmp_path: Path, name: str, *args: str) -> dict[str, object]:
    done = _run("--format", "json", "--no-plot", "--out", str(tmp_path / name), *args)
    assert done.returncode == 0, done.stderr
    parsed: dict[str, object] = json.loads(done.stdout)
    return parsed


def test_same_seed_same_json(tmp_path: Path) -> None:
    first = _json(tmp_path, "a", "--seed", "4")
    again = _json(tmp_path, "b", "--seed", "4", "--workers", "2")  # in two processes
    other = _json(tmp_path, "c", "--seed", "5")
    assert first == again != other
    assert not (tmp_path / "a" / "agarwal-copy.png").exists()


def test_set_changes_a_field(tmp_path: Path) -> None:
    data = _json(tmp_path, "a", "--set", "task.view_noise=0.25", "--set", "copies.max=1")
    config = data["config"]
    assert isinstance(config, dict)
    assert config["task"]["view_noise"] == 0.25 and config["task"]["train_rows"] == 100
    labels = [f["label"] for f in data["figures"]]  # type: ignore[attr-defined]
    assert "B, Shapley, k=1" in labels and "B, Shapley, k=2" not in labels


def test_scenario_file(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        EXPERIMENT.builtin.read_text().replace('seller = "B"', 'seller = "A"'), encoding="utf-8"
    )
    done = _run("--scenario", str(mine), "--out", str(tmp_path / "o"))
    assert done.returncode == 0 and "A, Shapley, k=1" in done.stdout


def test_show_prints_the_builtin_configuration() -> None:
    done = cli("experiment", "agarwal-copy", "--show")
    assert AgarwalCopy.model_validate(tomllib.loads(done.stdout)) == AgarwalCopy()


def test_mistakes_are_one_line(tmp_path: Path) -> None:
    line = _one_line(_run("--set", "task.rowz=3", "--out", str(tmp_path / "x")))
    assert line.startswith("dxsim: error: --set task.rowz=3: task.rowz: unknown field; allowed: ")
    assert "train_rows" in line
    assert _one_line(cli("experiment", "nope")) == (
        "dxsim: error: unknown experiment 'nope'; allowed: smith1962, gode-sunder, agarwal-copy"
    )
    assert _one_line(cli("experiment")).endswith(
        "give an experiment; allowed: smith1962, gode-sunder, agarwal-copy"
    )
    assert "allowed: table, json" in _one_line(_run("--format", "csv"))
    line = _one_line(_run("--market", "3"))
    assert line.startswith("dxsim: error: --market: no such option of dxsim experiment")
    assert line.endswith("its own: none")
    bad = tmp_path / "bad.toml"
    bad.write_text("[task]\ntrain_rows = -1\n", encoding="utf-8")
    line = _one_line(_run("--scenario", str(bad)))
    assert line.startswith(f"dxsim: error: {bad}:2: task.train_rows: -1 is not allowed")
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_an_experiments_own_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shortcut = Shortcut("--copies", "copies.max", "how many copies")
    monkeypatch.setattr(registry, "BUILTIN", (replace(EXPERIMENT, shortcuts=(shortcut,)),))
    for args in (("--copies", "1"), ("--copies=1",)):
        data = _json(tmp_path, f"o{len(args)}", *args)
        assert data["config"]["copies"]["max"] == 1  # type: ignore[index]
    assert _one_line(_run("--copies")) == "dxsim: error: --copies needs a value"
    assert _one_line(_run("--copies", "99")).startswith(
        "dxsim: error: --copies 99: copies.max: 99 is not allowed: Input should be less than"
    )
    assert "--copies (--set copies.max=...): how many copies" in cli("experiments").stdout


def test_output_directory_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "runs" / "experiments" / "agarwal-copy"
    assert _run().returncode == 0 and (default / "agarwal-copy.png").is_file()
    assert _run().returncode == 0  # the default directory: a previous experiment is replaced
    (default / "notes.txt").write_text("mine")
    assert "already exists" in _one_line(_run())  # ... but nothing of anyone else's
    assert (default / "notes.txt").read_text() == "mine"
    chosen = tmp_path / "chosen"
    assert _run("--out", str(chosen)).returncode == 0
    assert "pass --force" in _one_line(_run("--out", str(chosen)))
    assert _run("--out", str(chosen), "--force").returncode == 0
    (chosen / "dxsim-experiment.json").unlink()
    (chosen / "agarwal-copy.json").unlink()
    (chosen / "agarwal-copy.png").write_bytes(b"someone else's picture")
    assert "did not write it" in _one_line(_run("--out", str(chosen), "--force"))
    assert (chosen / "agarwal-copy.png").read_bytes() == b"someone else's picture"


def test_the_entry_point_exits_2_in_one_line(tmp_path: Path) -> None:
    """Through ``dxsim`` itself (a subprocess), not only the in-process runner."""
    done = dxsim("experiment", "agarwal-copy", "--set", "copies.maxx=1", "--out", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "dxsim: error: --set copies.maxx=1: copies.maxx: unknown field; did you mean 'max'? "
        "allowed: max, noise, seller"
    ]
