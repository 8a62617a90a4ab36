"""``dxsim report``: every plot is written and readable, the HTML stands alone, two runs compare,
and nothing dxsim did not write is ever overwritten."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from scenarios.cli_errors import UserError
from scenarios.report_plots import PLOT_NAMES
from scenarios.run import RunResult
from scenarios.rundir import read_manifest, write_manifest
from tests.scenarios.runs import cli, short_run

EVERY_PLOT = list(PLOT_NAMES)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return short_run("baseline", tmp_path_factory.mktemp("report") / "base", days=20)


@pytest.fixture(scope="module")
def crossing(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return short_run("crossborder", tmp_path_factory.mktemp("report") / "cb", days=20)


@pytest.fixture(scope="module")
def base_report(base: RunResult) -> Path:
    done = cli("report", str(base.out))
    assert done.returncode == 0, done.stderr
    return base.out / "report"


def assert_readable(png: Path) -> None:
    """Loads as an image of a useful size with real content: many colours, real contrast."""
    image = imread(png)
    height, width = image.shape[:2]
    assert height >= 300 and width >= 600, (png.name, image.shape)
    pixels = (image[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    assert colours > 50, (png.name, colours)
    assert image[..., :3].std() > 0.05, png.name
    assert (pixels.min(axis=1) < 200).mean() > 0.01, png.name  # ink, not a white page


def test_the_baseline_report_writes_every_plot_readable(base_report: Path) -> None:
    # The baseline trades no data abroad: the flows plot is left out, and the report says so.
    expected = [p for p in EVERY_PLOT if p != "crossborder_flows.png"]
    assert sorted(p.name for p in base_report.glob("*.png")) == sorted(expected)
    for name in expected:
        assert_readable(base_report / name)
    text = (base_report / "report.md").read_text(encoding="utf-8")
    assert [m for m in re.findall(r"!\[[^]]+\]\(([^)]+)\)", text)] == expected
    assert "no cross-border contract was settled" in text.lower()
    assert "| trading: volume |" in text and "¥" in text and "days" in text
    manifest = json.loads((base_report / "dxsim-report.json").read_text())
    assert manifest["status"] == "complete"
    assert sorted(manifest["files"]) == sorted([*expected, "report.md", "report.html"])


def test_the_html_is_self_contained(base_report: Path) -> None:
    page = (base_report / "report.html").read_text(encoding="utf-8")
    embedded = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)">', page)
    on_disk = sorted(base_report.glob("*.png"), key=lambda p: page.index(f'id="{p.stem}"'))
    assert [base64.b64decode(data) for data in embedded] == [p.read_bytes() for p in on_disk]
    outside = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "DATA", page)
    for external in ("http:", "https:", "//", "<link", "<script", "@import", "url(", "file:"):
        assert external not in outside, external
    assert re.findall(r'(?:src|href)="([^"]{0,22})', page) == ["data:image/png;base64,"] * len(
        on_disk
    )


def test_two_runs_side_by_side(base: RunResult, crossing: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "compared"
    done = cli("report", str(base.out), "--compare", str(crossing.out), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.png")) == sorted(EVERY_PLOT)
    for name in EVERY_PLOT:
        assert_readable(out / name)
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "| figure | base | cb | cb − base |" in text
    trades = next(line for line in text.splitlines() if line.startswith("| trading: contracts |"))
    a, b, d = (int(cell.strip().replace(",", "").lstrip("+")) for cell in trades.split("|")[2:5])
    assert (a, b, d) == (base.metrics.trades, crossing.metrics.trades, b - a)
    assert "not plotted" not in text.lower()


def test_an_existing_report_is_never_overwritten(base: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert cli("report", str(base.out), "--out", str(out)).returncode == 0
    mine = out / "my-notes.md"
    mine.write_text("mine")
    again = cli("report", str(base.out), "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    forced = cli("report", str(base.out), "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert mine.read_text() == "mine" and (out / "report.html").is_file()
    (out / "dxsim-report.json").unlink()  # now report.md is nobody's: it is not overwritten
    refused = cli("report", str(base.out), "--out", str(out), "--force")
    assert refused.returncode == 2 and "did not write it" in refused.stderr


def test_bad_input_is_one_line(base: RunResult, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    for args, says in (
        ([str(tmp_path / "missing")], "no such run directory"),
        ([str(tmp_path / "plain")], "not a dxsim run directory"),
        ([str(base.out), "--compare", str(tmp_path / "plain")], "not a dxsim run directory"),
    ):
        done = cli("report", *args, "--out", str(tmp_path / "o"))
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr
    assert not (tmp_path / "o").exists()
    assert "--compare" in cli("report", "--help").stdout


def test_an_incomplete_run_is_reported_with_exit_4(base: RunResult, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(base.out, copy, ignore=shutil.ignore_patterns("report", "export"))
    manifest = read_manifest(copy)
    assert manifest is not None
    write_manifest(copy, manifest.model_copy(update={"status": "failed", "error": "killed"}))
    done = cli("report", str(copy))
    assert done.returncode == 4
    assert "marked failed (killed)" in done.stderr
    assert (copy / "report" / "report.html").is_file()
    assert "| status | failed |" in (copy / "report" / "report.md").read_text(encoding="utf-8")


def test_a_rerun_replaces_the_old_runs_report_but_nothing_foreign(tmp_path: Path) -> None:
    out = tmp_path / "run"
    short_run("baseline", out, days=3)
    assert cli("report", str(out)).returncode == 0
    assert cli("export", str(out), "--format", "jsonl").returncode == 0
    mine = out / "report" / "mine.txt"
    mine.write_text("mine")
    with pytest.raises(UserError, match="did not write"):
        short_run("baseline", out, days=3, force=True)
    assert mine.is_file() and (out / "report" / "report.md").is_file()
    assert (out / "export" / "entries.jsonl").is_file() and (out / "ledger.db").is_file()
    mine.unlink()
    short_run("baseline", out, days=3, force=True)  # the stale report and export go with it
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == []
